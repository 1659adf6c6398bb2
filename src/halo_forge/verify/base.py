"""The verifier contract: ``verify(problem, code) -> VerifyResult``, plus a parallel batch runner.

A verifier judges one sample and returns a typed :class:`~halo_forge.types.VerifyResult`. Its
``verify`` may raise (a malformed problem, a missing toolchain, a bug of ours or of a plugin):
:meth:`Verifier.safe_verify` — what every engine calls, the thread pool here and the Ray
backend alike — turns any such exception, and any return value that is not a ``VerifyResult``
with a reward in [0, 1], into a ``SANDBOX_ERROR`` result with a one-line summary, and
:meth:`Verifier.verify_batch` logs how many there were. An infrastructure failure is surfaced as
such and never looks like a bad model (the lesson of ``verifiers``' silent 0.0).

Custom verifiers written for the original halo-forge (the seeds) work unchanged: they subclass
``Verifier``, may call ``super().__init__(max_workers=...)`` and ``self.extract_code(text)``,
implement ``verify(self, code)`` with one argument and return ``VerifyResult(success=...,
reward=..., details=...)``. A one-argument ``verify`` is detected when the class is defined and
wrapped so that both ``v.verify(code)`` and our ``v.verify(problem, code)`` call it.

The batch runner uses threads, not processes: each ``verify`` spends its time waiting on a
sandboxed child process, so threads give real parallelism without pickling problems around.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import logging
import math
import os
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from typing import Any

from halo_forge.types import Problem, Status, VerifyResult

__all__ = ["Verifier", "trim", "one_line", "unique_items", "log_sandbox_errors"]

log = logging.getLogger(__name__)

TRIM_CHARS = 2048
_DEFAULT_NAME = "verifier"

Key = tuple[str, str]


def trim(text: str, limit: int = TRIM_CHARS) -> str:
    """Keep the head and the tail of ``text`` (tracebacks end at the tail), at most ~``limit``."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... {len(text) - 2 * half} chars omitted ...]\n{text[-half:]}"


def one_line(exc: BaseException, limit: int = 300) -> str:
    """``"TypeName: message"`` on one line, for ``VerifyResult.details``."""
    msg = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__
    return text[:limit]


def unique_items(
    items: list[tuple[Problem, str]],
) -> tuple[list[Key], dict[Key, int], dict[Key, int]]:
    """De-duplicate ``(problem, code)`` pairs by ``(problem.id, code)``.

    Returns ``(keys, first, copies)``: the key of every item in input order, the index of the
    first item with each key (the one to verify), and how many items share each key.
    """
    keys: list[Key] = [(p.id, code) for p, code in items]
    first: dict[Key, int] = {}
    copies: dict[Key, int] = {}
    for i, key in enumerate(keys):
        first.setdefault(key, i)
        copies[key] = copies.get(key, 0) + 1
    return keys, first, copies


def log_sandbox_errors(name: str, results: list[VerifyResult]) -> int:
    """Warn once about ``SANDBOX_ERROR`` results (over distinct samples); return how many."""
    errors = [r for r in results if r.status is Status.SANDBOX_ERROR]
    if errors:
        log.warning(
            "%s: %d of %d distinct samples hit SANDBOX_ERROR (infrastructure, not the model); "
            "first: %s",
            name,
            len(errors),
            len(results),
            errors[0].details,
        )
    return len(errors)


def _takes_code_only(fn: Callable[..., Any]) -> bool:
    """Is ``fn`` the seeds' ``verify(self, code)``, not our ``verify(self, problem, code)``?"""
    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return False
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in params):
        return False
    positional = [
        p
        for p in params
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    return len(required) == 2 and (len(positional) == 2 or positional[2].name != "code")


def _accept_both_signatures(fn: Callable[..., VerifyResult]) -> Callable[..., VerifyResult]:
    """Wrap a one-argument ``verify(self, code)`` so ``verify(problem, code)`` calls it too."""

    @functools.wraps(fn)
    def verify(self: Verifier, *args: Any, **kwargs: Any) -> VerifyResult:
        kwargs.pop("problem", None)
        if len(args) == 2:  # our calling convention: (problem, code)
            args = args[1:]
        return fn(self, *args, **kwargs)

    verify.code_only = True  # type: ignore[attr-defined]
    return verify


class Verifier(ABC):
    """Judges code against a problem. Subclasses set ``name`` and implement :meth:`verify`.

    ``verify(self, problem, code)`` is the contract; the seeds' ``verify(self, code)`` is accepted
    too (see the module docstring). A subclass that sets no ``name`` is named after its class.
    """

    name: str = _DEFAULT_NAME
    language: str = "python"  # what :meth:`extract_code` looks for in fenced blocks
    max_workers: int | None = None  # verify_batch's default pool size (None: one per CPU)

    def __init__(self, max_workers: int | None = None) -> None:
        """Only for subclasses that call ``super().__init__(max_workers=...)`` (the seeds do)."""
        self.max_workers = max_workers

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name == _DEFAULT_NAME:
            cls.name = cls.__name__
        fn = cls.__dict__.get("verify")
        if fn is not None and not getattr(fn, "code_only", False) and _takes_code_only(fn):
            cls.verify = _accept_both_signatures(fn)  # type: ignore[method-assign]

    @abstractmethod
    def verify(self, problem: Problem, code: str) -> VerifyResult:
        """Verify one sample. ``code`` is already extracted (see ``verify.extract``)."""

    def extract_code(self, text: str) -> str:
        """The code in a model completion (the seeds' helper; see ``verify.extract``)."""
        from halo_forge.verify.extract import extract_code

        return extract_code(text, self.language)

    def cleanup(self) -> None:  # noqa: B027 - optional hook, deliberately not abstract
        """Release resources (connections, caches). The seeds' hook; a no-op by default."""

    def __enter__(self) -> Verifier:
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()

    def safe_verify(self, problem: Problem, code: str) -> VerifyResult:
        """:meth:`verify`, with every failure of the verifier itself as a ``SANDBOX_ERROR``.

        Also fills in ``verifier`` (this verifier's name) and ``duration`` when the result left
        them empty, so results from third-party verifiers carry their provenance too.
        """
        start = time.monotonic()
        try:
            result = self.verify(problem, code)
        except Exception as exc:  # noqa: BLE001 - converted to a counted SANDBOX_ERROR, not hidden
            log.debug("verifier %s raised on problem %s", self.name, problem.id, exc_info=True)
            return self._sandbox_error(one_line(exc), start)
        why = _check_result(result)
        if why:
            return self._sandbox_error(f"{self.name}.verify {why}", start)
        fill: dict[str, Any] = {}
        if not result.verifier:
            fill["verifier"] = self.name
        if not result.duration:
            fill["duration"] = time.monotonic() - start
        return dataclasses.replace(result, **fill) if fill else result

    _verify_safely = safe_verify  # the old private name

    def _sandbox_error(self, details: str, start: float) -> VerifyResult:
        return VerifyResult(
            status=Status.SANDBOX_ERROR,
            reward=0.0,
            verifier=self.name,
            details=details,
            duration=time.monotonic() - start,
        )

    def verify_batch(
        self,
        items: list[tuple[Problem, str]],
        workers: int | None = None,
        on_done: Callable[[int], None] | None = None,
    ) -> list[VerifyResult]:
        """Verify ``(problem, code)`` pairs in a thread pool; results come back in input order.

        Identical ``(problem.id, code)`` pairs are verified once and share the result (models
        often emit the same completion several times). ``workers`` defaults to
        ``self.max_workers``, then ``os.cpu_count()``. ``on_done(n)`` is called from this thread
        each time a verification finishes, with ``n`` = how many input items it settled
        (duplicates included), so the calls add up to ``len(items)``: pass
        ``progress_bar.update``.
        """
        keys, first, copies = unique_items(items)
        done: dict[Key, VerifyResult] = {}
        wanted = workers or self.max_workers or os.cpu_count() or 1
        n_workers = max(1, min(wanted, len(first) or 1))
        with ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="verify") as pool:
            futures = {pool.submit(self.safe_verify, *items[i]): key for key, i in first.items()}
            try:
                for future in as_completed(futures):
                    key = futures[future]
                    done[key] = future.result()
                    if on_done is not None:
                        on_done(copies[key])
            except BaseException:  # Ctrl-C or a failing callback: don't start queued samples
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        log_sandbox_errors(self.name, list(done.values()))
        return [done[key] for key in keys]


def _check_result(result: object) -> str:
    """Why ``result`` is not an acceptable verdict (``""`` when it is)."""
    if not isinstance(result, VerifyResult):
        return f"returned {type(result).__name__}, not a VerifyResult"
    reward = result.reward
    if not isinstance(reward, int | float) or not math.isfinite(reward) or not 0 <= reward <= 1:
        return f"returned reward {reward!r}, outside [0, 1]"
    return ""
