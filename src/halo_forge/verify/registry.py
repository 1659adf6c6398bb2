"""Verifier registry: names → classes, plus third-party verifiers by ``module:Class`` or plugin.

Explicit on purpose (no import-time magic): every built-in name is listed below, and the
registry conformance tests iterate :func:`known_verifiers`.

Third-party verifiers (a :class:`~halo_forge.verify.base.Verifier` subclass, including the
seeds' one-argument ``verify(code)`` kind) are found two ways:

* ``--verifier my_package.checks:MyVerifier`` imports the module and takes the class;
* an installed package declares an entry point in the group ``halo_forge.verifiers``
  (``[project.entry-points."halo_forge.verifiers"] myverifier = "my_package.checks:MyVerifier"``)
  and ``--verifier myverifier`` finds it. A built-in name always wins over a plugin's.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.metadata
from collections.abc import Callable

from halo_forge.errors import VerifierError
from halo_forge.verify.base import Verifier, one_line
from halo_forge.verify.go import GoVerifier
from halo_forge.verify.native import ClangVerifier, GCCVerifier, MingwVerifier
from halo_forge.verify.pytest_verifier import PytestVerifier, UnittestVerifier
from halo_forge.verify.python import HumanEvalVerifier, MBPPVerifier, PythonTestVerifier
from halo_forge.verify.python_io import PythonIOVerifier
from halo_forge.verify.remote import MSVCSSHVerifier
from halo_forge.verify.rust import RustVerifier

__all__ = [
    "ENTRY_POINT_GROUP",
    "get_verifier",
    "known_verifiers",
    "plugin_verifiers",
    "register_verifier",
]

ENTRY_POINT_GROUP = "halo_forge.verifiers"

_REGISTRY: dict[str, Callable[..., Verifier]] = {
    "python": PythonTestVerifier,
    "python_io": PythonIOVerifier,
    "mbpp": MBPPVerifier,
    "humaneval": HumanEvalVerifier,
    "pytest": PytestVerifier,
    "unittest": UnittestVerifier,
    "gcc": GCCVerifier,
    "clang": ClangVerifier,
    "mingw": MingwVerifier,
    "msvc_ssh": MSVCSSHVerifier,
    "rust": RustVerifier,
    "go": GoVerifier,
}


def known_verifiers() -> list[str]:
    """Registered names, sorted."""
    return sorted(_REGISTRY)


def register_verifier(name: str, factory: Callable[..., Verifier]) -> None:
    """Add a verifier under ``name`` (for plugins); refuses to shadow an existing name."""
    if name in _REGISTRY:
        raise VerifierError(f"verifier {name!r} is already registered")
    _REGISTRY[name] = factory


def _entry_points() -> dict[str, importlib.metadata.EntryPoint]:
    return {ep.name: ep for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def plugin_verifiers() -> list[str]:
    """Names offered by installed packages' ``halo_forge.verifiers`` entry points, sorted."""
    return sorted(_entry_points())


def _check_class(cls: object, spec: str) -> Callable[..., Verifier]:
    if not (isinstance(cls, type) and issubclass(cls, Verifier)):
        found = "nothing" if cls is None else type(cls).__name__
        raise VerifierError(
            f"{spec!r} must name a subclass of halo_forge.verify.Verifier; found {found}"
        )
    return cls


def _load_entry_point(name: str, ep: importlib.metadata.EntryPoint) -> Callable[..., Verifier]:
    try:
        obj = ep.load()
    except Exception as exc:  # noqa: BLE001 - any import failure becomes one user-facing line
        raise VerifierError(
            f"cannot load verifier {name!r} from entry point {ep.value!r} "
            f"({ENTRY_POINT_GROUP}): {one_line(exc)}"
        ) from exc
    return _check_class(obj, ep.value)


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
    return _check_class(getattr(module, attr, None), spec)


def get_verifier(name: str, **options: object) -> Verifier:
    """Build the verifier registered as ``name``, a plugin's entry point, or ``module:Class``.

    ``options`` go to its constructor (e.g. ``timeout=3``, ``run_after_compile=True``).
    Raises :class:`~halo_forge.errors.VerifierError` with a one-line message for an unknown
    name, a bad option, or a verifier that cannot run here (missing toolchain).
    """
    if ":" in name:
        factory = _load_custom(name)
    else:
        factory = _REGISTRY.get(name.strip().lower())  # type: ignore[assignment]
        if factory is None:
            plugins = _entry_points()
            if name.strip() not in plugins:
                extra = f"; plugins: {', '.join(sorted(plugins))}" if plugins else ""
                raise VerifierError(
                    f"unknown verifier {name!r}; known: {', '.join(known_verifiers())}{extra} "
                    "(or module:Class for your own)"
                )
            factory = _load_entry_point(name.strip(), plugins[name.strip()])
    try:
        verifier = factory(**options)
    except TypeError as exc:
        raise VerifierError(f"verifier {name!r}: bad options: {one_line(exc)}") from exc
    # How to build it again elsewhere (the Ray backend, when the object does not pickle).
    with contextlib.suppress(AttributeError):  # a class with __slots__: no spec, fine
        verifier.spec = (name, dict(options))  # type: ignore[attr-defined]
    return verifier
