"""The verifier contract: ``verify(problem, code) -> VerifyResult``, plus a parallel batch runner.

A verifier judges one sample and returns a typed :class:`~halo_forge.types.VerifyResult`. Its
``verify`` may raise (a malformed problem, a missing toolchain, a bug of ours):
:meth:`Verifier.verify_batch` turns any such exception into a ``SANDBOX_ERROR`` result with the
exception's one-line summary and logs a count, so an infrastructure failure is surfaced as
such and never looks like a bad model (the lesson of ``verifiers``' silent 0.0).

The batch runner uses threads, not processes: each ``verify`` spends its time waiting on a
sandboxed child process, so threads give real parallelism without pickling problems around.
"""

from __future__ import annotations

import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed

from halo_forge.types import Problem, Status, VerifyResult

__all__ = ["Verifier", "trim", "one_line"]

log = logging.getLogger(__name__)

TRIM_CHARS = 2048


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


class Verifier(ABC):
    """Judges code against a problem. Subclasses set ``name`` and implement :meth:`verify`."""

    name: str = "verifier"

    @abstractmethod
    def verify(self, problem: Problem, code: str) -> VerifyResult:
        """Verify one sample. ``code`` is already extracted (see ``verify.extract``)."""

    def _verify_safely(self, problem: Problem, code: str) -> VerifyResult:
        try:
            return self.verify(problem, code)
        except Exception as exc:  # noqa: BLE001 - converted to a counted SANDBOX_ERROR, not hidden
            log.debug("verifier %s raised on problem %s", self.name, problem.id, exc_info=True)
            return VerifyResult(
                status=Status.SANDBOX_ERROR, reward=0.0, verifier=self.name, details=one_line(exc)
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
        ``os.cpu_count()``. ``on_done(n)`` is called from this thread each time a verification
        finishes, with ``n`` = how many input items it settled (duplicates included), so the
        calls add up to ``len(items)``: pass ``progress_bar.update``.
        """
        keys: list[tuple[str, str]] = [(p.id, code) for p, code in items]
        first: dict[tuple[str, str], int] = {}
        for i, key in enumerate(keys):
            first.setdefault(key, i)
        copies: dict[tuple[str, str], int] = {}
        for key in keys:
            copies[key] = copies.get(key, 0) + 1
        done: dict[tuple[str, str], VerifyResult] = {}
        n_workers = max(1, min(workers or os.cpu_count() or 1, len(first) or 1))
        with ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="verify") as pool:
            futures = {pool.submit(self._verify_safely, *items[i]): key for key, i in first.items()}
            try:
                for future in as_completed(futures):
                    key = futures[future]
                    done[key] = future.result()
                    if on_done is not None:
                        on_done(copies[key])
            except BaseException:  # Ctrl-C or a failing callback: don't start queued samples
                pool.shutdown(wait=False, cancel_futures=True)
                raise
        results = [done[key] for key in keys]
        errors = sum(r.status is Status.SANDBOX_ERROR for r in done.values())
        if errors:
            log.warning(
                "%s: %d of %d distinct samples hit SANDBOX_ERROR (infrastructure, not the model); "
                "first: %s",
                self.name,
                errors,
                len(done),
                next(r.details for r in done.values() if r.status is Status.SANDBOX_ERROR),
            )
        return results
