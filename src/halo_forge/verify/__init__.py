"""Verification: extract code from completions, run it in the sandbox, score it on a ladder.

Public API::

    extract_code(completion, language="python") -> str
    get_verifier(name, **options) -> Verifier          # known_verifiers() lists the names
    Verifier.verify(problem, code) -> VerifyResult     # or the seeds' verify(code)
    Verifier.verify_batch(items, workers=None, on_done=None) -> list[VerifyResult]
    run_sandboxed(argv, *, cwd, timeout, limits, stdin=None, verdict_fd=False) -> ExecResult
    isolation_level() -> str                           # "bubblewrap" or "rlimits-only"
"""

from halo_forge.types import Status, VerifyResult
from halo_forge.verify.base import Verifier
from halo_forge.verify.extract import extract_code
from halo_forge.verify.native import ClangVerifier, GCCVerifier
from halo_forge.verify.python import HumanEvalVerifier, MBPPVerifier, PythonTestVerifier
from halo_forge.verify.registry import get_verifier, known_verifiers, register_verifier
from halo_forge.verify.rewards import DEFAULT_LADDER, RewardLadder
from halo_forge.verify.sandbox import Limits, isolation_level, run_sandboxed

__all__ = [
    "DEFAULT_LADDER",
    "ClangVerifier",
    "GCCVerifier",
    "HumanEvalVerifier",
    "Limits",
    "MBPPVerifier",
    "PythonTestVerifier",
    "RewardLadder",
    "Status",
    "Verifier",
    "VerifyResult",
    "extract_code",
    "get_verifier",
    "isolation_level",
    "known_verifiers",
    "register_verifier",
    "run_sandboxed",
]
