"""Verifier registry: names → classes, plus ``module:Class`` for third-party verifiers.

Explicit on purpose (no import-time magic): every built-in name is listed below, and the
registry conformance tests iterate :func:`known_verifiers`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from halo_forge.errors import VerifierError
from halo_forge.verify.base import Verifier, one_line
from halo_forge.verify.native import ClangVerifier, GCCVerifier
from halo_forge.verify.python import HumanEvalVerifier, MBPPVerifier, PythonTestVerifier

__all__ = ["get_verifier", "known_verifiers", "register_verifier"]

_REGISTRY: dict[str, Callable[..., Verifier]] = {
    "python": PythonTestVerifier,
    "mbpp": MBPPVerifier,
    "humaneval": HumanEvalVerifier,
    "gcc": GCCVerifier,
    "clang": ClangVerifier,
}


def known_verifiers() -> list[str]:
    """Registered names, sorted."""
    return sorted(_REGISTRY)


def register_verifier(name: str, factory: Callable[..., Verifier]) -> None:
    """Add a verifier under ``name`` (for plugins); refuses to shadow an existing name."""
    if name in _REGISTRY:
        raise VerifierError(f"verifier {name!r} is already registered")
    _REGISTRY[name] = factory


def _load_custom(spec: str) -> Callable[..., Verifier]:
    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise VerifierError(f"custom verifier must be written module:Class; got {spec!r}")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure becomes one user-facing line
        raise VerifierError(
            f"cannot import module {module_name!r} for verifier {spec!r}: {one_line(exc)}"
        ) from exc
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, Verifier)):
        found = "nothing" if cls is None else type(cls).__name__
        raise VerifierError(
            f"{spec!r} must name a subclass of halo_forge.verify.Verifier; found {found}"
        )
    return cls


def get_verifier(name: str, **options: object) -> Verifier:
    """Build the verifier registered as ``name`` (or loaded from ``module:Class``).

    ``options`` go to its constructor (e.g. ``timeout=3``, ``run_after_compile=True``).
    Raises :class:`~halo_forge.errors.VerifierError` with a one-line message for an unknown
    name, a bad option, or a verifier that cannot run here (missing toolchain).
    """
    if ":" in name:
        factory = _load_custom(name)
    else:
        factory = _REGISTRY.get(name.strip().lower())  # type: ignore[assignment]
        if factory is None:
            raise VerifierError(
                f"unknown verifier {name!r}; known: {', '.join(known_verifiers())} "
                "(or module:Class for your own)"
            )
    try:
        return factory(**options)
    except TypeError as exc:
        raise VerifierError(f"verifier {name!r}: bad options: {one_line(exc)}") from exc
