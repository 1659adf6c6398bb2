"""Ray backend: the same verification jobs, fanned out to a Ray cluster (optional extra ``ray``).

:func:`verify_batch_ray` is :meth:`Verifier.verify_batch` with Ray tasks instead of threads:
the same de-duplication of identical ``(problem.id, code)`` pairs, the same input-order
results, the same ``on_done`` progress callback, and the same rule that a failure of the
machinery is a counted ``SANDBOX_ERROR``, never a silent 0.0 — here that includes a task whose
worker died or whose arguments could not be unpickled.

Each task verifies a chunk of distinct samples with ``verifier.safe_verify(problem, code)``
on a worker, so the sandbox runs on the worker's machine (every node needs halo-forge and the
toolchains the verifier uses). The verifier travels pickled (Ray uses cloudpickle); one that
does not pickle (an open connection, a lock) is rebuilt on the worker from the registry name
and options it was made with (``verifier.spec``, set by
:func:`~halo_forge.verify.registry.get_verifier`).

:func:`connect` joins ``address`` (or ``$RAY_ADDRESS``) when given, else starts a local
cluster bound to 127.0.0.1 without the dashboard; it returns whether it started one, so the
caller can shut it down again.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import cache
from typing import Any

from halo_forge.errors import ConfigError, VerifierError
from halo_forge.types import Problem, Status, VerifyResult
from halo_forge.verify.base import Key, Verifier, log_sandbox_errors, one_line, unique_items

__all__ = ["ray_available", "connect", "shutdown", "verify_batch_ray"]

log = logging.getLogger(__name__)

Item = tuple[Problem, str]


def ray_available() -> bool:
    """Whether ``import ray`` works (the ``ray`` extra: ``pip install 'halo-forge[ray]'``)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        return False
    return True


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "--backend ray needs Ray: pip install 'halo-forge[ray]' (or pip install ray)"
        ) from None
    return ray


def connect(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Make sure Ray is initialised; ``True`` if this call started a local cluster."""
    ray = _ray()
    if ray.is_initialized():
        return False
    quiet: dict[str, Any] = {"log_to_driver": False, "logging_level": logging.WARNING}
    address = address or os.environ.get("RAY_ADDRESS")
    try:
        if address:
            ray.init(address=address, **quiet)
            return False
        ray.init(
            address="local",
            num_cpus=num_cpus,
            include_dashboard=False,
            _node_ip_address="127.0.0.1",
            **quiet,
        )
    except Exception as exc:  # noqa: BLE001 - any failure to reach Ray is one line for the user
        where = address or "a local cluster on 127.0.0.1"
        raise VerifierError(f"cannot start or join Ray ({where}): {one_line(exc)}") from exc
    return True


def shutdown() -> None:
    _ray().shutdown()


def _build(verifier: Verifier | tuple[str, dict[str, Any]]) -> Verifier:
    if isinstance(verifier, Verifier):
        return verifier
    from halo_forge.verify.registry import get_verifier

    name, options = verifier
    return get_verifier(name, **options)


def _verify_chunk(
    verifier: Verifier | tuple[str, dict[str, Any]], chunk: list[Item]
) -> list[VerifyResult]:
    """Runs on a Ray worker: verify a few samples one after another."""
    v = _build(verifier)
    return [v.safe_verify(problem, code) for problem, code in chunk]


@cache
def _remote() -> Any:
    return _ray().remote(num_cpus=1, max_retries=0)(_verify_chunk)


def _transportable(verifier: Verifier) -> Any:
    """The verifier in the object store, or its registry spec when it does not pickle."""
    ray = _ray()
    try:
        return ray.put(verifier)
    except Exception as exc:  # noqa: BLE001 - cloudpickle raises many types
        spec = getattr(verifier, "spec", None)
        if spec is None:
            raise VerifierError(
                f"verifier {verifier.name!r} cannot be sent to Ray workers ({one_line(exc)}) "
                "and was not made by get_verifier, so it cannot be rebuilt there"
            ) from exc
        return ray.put(spec)


def verify_batch_ray(
    verifier: Verifier,
    items: list[Item],
    workers: int | None = None,
    on_done: Callable[[int], None] | None = None,
    chunk_size: int | None = None,
) -> list[VerifyResult]:
    """Verify ``(problem, code)`` pairs as Ray tasks; results in input order (see module doc).

    ``workers`` caps the tasks in flight (default: all at once; Ray's CPU accounting decides
    how many run). ``chunk_size`` samples per task defaults to spreading the distinct samples
    over about four tasks per cluster CPU, between 1 and 32.
    """
    ray = _ray()
    keys, first, copies = unique_items(items)
    todo = [keys[i] for i in first.values()]
    if not todo:
        return []
    if chunk_size is None:
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        chunk_size = max(1, min(32, len(todo) // (4 * cpus) or 1))
    chunks = [todo[i : i + chunk_size] for i in range(0, len(todo), chunk_size)]
    ref = _transportable(verifier)
    remote = _remote()
    done: dict[Key, VerifyResult] = {}
    pending: dict[Any, list[Key]] = {}
    queue = list(reversed(chunks))
    limit = workers or len(chunks)
    try:
        while queue or pending:
            while queue and len(pending) < limit:
                chunk = queue.pop()
                pending[remote.remote(ref, [items[first[k]] for k in chunk])] = chunk
            ready, _ = ray.wait(list(pending), num_returns=1)
            for task in ready:
                chunk = pending.pop(task)
                for key, result in zip(chunk, _results(ray, task, verifier, chunk), strict=True):
                    done[key] = result
                if on_done is not None:
                    on_done(sum(copies[k] for k in chunk))
    except BaseException:  # Ctrl-C or a failing callback: stop what is still queued or running
        for task in pending:
            ray.cancel(task, force=True)
        raise
    log_sandbox_errors(verifier.name, list(done.values()))
    return [done[key] for key in keys]


def _results(ray: Any, task: Any, verifier: Verifier, chunk: list[Key]) -> list[VerifyResult]:
    """The chunk's results, or one ``SANDBOX_ERROR`` per sample if the task itself failed."""
    try:
        results = ray.get(task)
        if len(results) != len(chunk):
            raise RuntimeError(f"task returned {len(results)} results for {len(chunk)} samples")
        return results
    except Exception as exc:  # noqa: BLE001 - a dead worker or a pickling error: surfaced
        details = f"ray task failed: {one_line(exc)}"
        log.debug("ray task for %d samples failed", len(chunk), exc_info=True)
        return [
            VerifyResult(Status.SANDBOX_ERROR, 0.0, verifier=verifier.name, details=details)
            for _ in chunk
        ]
