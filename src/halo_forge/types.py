"""The nouns every stage shares: Problem → Sample → VerifyResult (→ ExecResult underneath).

Plain frozen dataclasses with ``to_dict``/``from_dict`` so they round-trip through JSONL run files.
"""

from __future__ import annotations

import dataclasses
from dataclasses import InitVar, dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """Outcome of verifying one sample. Only ``PASS`` means every test passed."""

    PASS = "PASS"
    FAIL = "FAIL"
    COMPILE_ERROR = "COMPILE_ERROR"
    RUNTIME_ERROR = "RUNTIME_ERROR"
    TIMEOUT = "TIMEOUT"
    SANDBOX_ERROR = "SANDBOX_ERROR"


@dataclass(frozen=True)
class Problem:
    """One task: a prompt for the model and the tests that judge its answer.

    ``tests`` is Python test code (one ``assert`` per line for the Python verifiers).
    ``entry_point`` is the function the tests call, when there is one.
    """

    id: str
    prompt: str
    language: str = "python"
    tests: list[str] = field(default_factory=list)
    entry_point: str | None = None
    reference: str | None = None
    source: str = ""
    split: str = ""
    difficulty: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Problem:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True)
class Sample:
    """One completion generated for one problem."""

    problem_id: str
    index: int
    completion: str
    code: str
    num_tokens: int = 0
    finish_reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Sample:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


@dataclass(frozen=True)
class ExecResult:
    """What the sandbox reports for one job. ``stdout``/``stderr`` are already capped."""

    returncode: int | None
    signal: int | None
    timed_out: bool
    stdout: str
    stderr: str
    wall_time: float
    verdict: dict[str, Any] | None = None  # read from the harness's private channel, or None


@dataclass(frozen=True)
class VerifyResult:
    """The verdict on one sample. ``reward`` is in [0, 1]; ``passed`` iff status is PASS.

    Also constructible the seeds' way, ``VerifyResult(success=True, reward=1.0, details="...")``
    (custom verifiers written for the original halo-forge): when ``status`` is omitted it is
    derived from ``success`` (``PASS``/``FAIL``); when both are given, ``status`` wins (so
    ``dataclasses.replace`` keeps working). The seeds' ``error=`` text lands in ``stderr``.
    ``success`` is also readable, as an alias of :attr:`passed`.
    """

    status: Status = None  # type: ignore[assignment]  # set in __post_init__ when omitted
    reward: float = None  # type: ignore[assignment]  # required; None only to allow success=
    tests_passed: int = 0
    tests_total: int = 0
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0
    verifier: str = ""
    details: str = ""
    success: InitVar[bool | None] = None
    error: InitVar[str | None] = None

    def __post_init__(self, success: bool | None, error: str | None) -> None:
        if self.status is None:
            if success is None:
                raise TypeError("VerifyResult needs a status (or the seeds' success=True/False)")
            object.__setattr__(self, "status", Status.PASS if success else Status.FAIL)
        elif not isinstance(self.status, Status):
            object.__setattr__(self, "status", Status(self.status))
        if self.reward is None:
            raise TypeError("VerifyResult needs a reward")
        if error and not self.stderr:
            object.__setattr__(self, "stderr", str(error))

    @property
    def passed(self) -> bool:
        return self.status is Status.PASS

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["status"] = self.status.value
        d["passed"] = self.passed
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> VerifyResult:
        names = {f.name for f in dataclasses.fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw["status"] = Status(kw["status"])
        return cls(**kw)


# The seeds' spelling, read-only. Assigned after the class body: inside it, the name is the
# ``success`` init-only field above.
VerifyResult.success = property(  # type: ignore[assignment,method-assign]
    lambda self: self.status is Status.PASS, doc="The seeds' name for :attr:`passed`."
)
