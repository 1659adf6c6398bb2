"""Our exceptions. The CLI maps each to a one-line message on stderr and an exit code."""

from __future__ import annotations


class HaloForgeError(Exception):
    """Base class: an error the user can fix, reported as one line, never a traceback."""

    exit_code = 1


class ConfigError(HaloForgeError):
    """A setting is missing, out of range or contradicts another; the message says how to fix it."""

    exit_code = 2


class DataError(HaloForgeError):
    """An input file or dataset name is missing or malformed (the message names file and line)."""

    exit_code = 2


class ModelLoadError(HaloForgeError):
    """A model or checkpoint cannot be loaded (unreachable hub id, missing folder...)."""

    exit_code = 3


class VerifierError(HaloForgeError):
    """Unknown verifier, or a verifier that cannot run here (missing toolchain)."""

    exit_code = 2
