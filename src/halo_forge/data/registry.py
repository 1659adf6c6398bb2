"""The built-in datasets: name → language, splits, default verifier, license, loader.

Every loader returns ``Problem``s and is imported lazily (listing the registry imports no
dataset module). Local datasets ship inside the package or an installed dependency and load
offline; hub datasets (``codeforces_*``) load with Hugging Face ``datasets`` and say so in one
line when the hub is unreachable (``HALO_FORGE_CODEFORCES_PATH`` points them at a local copy).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from halo_forge.types import Problem

__all__ = ["BUILTINS", "BuiltinDataset", "get_dataset"]


@dataclass(frozen=True)
class BuiltinDataset:
    name: str
    language: str
    splits: tuple[str, ...]
    default_split: str
    verifier: str
    license: str
    description: str
    load: Callable[[str], list[Problem]]
    hub: bool = False  # loaded from the Hugging Face hub (or a local copy of it)


def _basic_python(split: str) -> list[Problem]:
    from halo_forge.data import basic_python

    return basic_python.generate(split)


def _basic_native(language: str) -> Callable[[str], list[Problem]]:
    def load(split: str) -> list[Problem]:
        from halo_forge.data import basic_native

        return basic_native.generate(language, split)

    return load


def _humaneval(split: str) -> list[Problem]:
    from halo_forge.data import humaneval

    return humaneval.load(split)


def _mbpp(split: str) -> list[Problem]:
    from halo_forge.data import mbpp

    return mbpp.load(split)


def _codeforces(language: str) -> Callable[[str], list[Problem]]:
    def load(split: str) -> list[Problem]:
        from halo_forge.data import codeforces

        return codeforces.load(language, split)

    return load


_PROCEDURAL = "Apache-2.0 (ours)"
_CF_LICENSE = "CC BY 4.0"
_CF_SPLITS = ("train", "validation", "test")

BUILTINS: dict[str, BuiltinDataset] = {
    d.name: d
    for d in (
        BuiltinDataset(
            "basic_python",
            "python",
            ("train", "test"),
            "train",
            "python",
            _PROCEDURAL,
            "procedural Python functions in three tiers, assert tests",
            _basic_python,
        ),
        BuiltinDataset(
            "basic_cpp",
            "cpp",
            ("train", "test"),
            "train",
            "gcc",
            _PROCEDURAL,
            "procedural C++ stdin→stdout programs in three tiers",
            _basic_native("cpp"),
        ),
        BuiltinDataset(
            "basic_rust",
            "rust",
            ("train", "test"),
            "train",
            "rust",
            _PROCEDURAL,
            "procedural Rust stdin→stdout programs in three tiers",
            _basic_native("rust"),
        ),
        BuiltinDataset(
            "basic_go",
            "go",
            ("train", "test"),
            "train",
            "go",
            _PROCEDURAL,
            "procedural Go stdin→stdout programs in three tiers",
            _basic_native("go"),
        ),
        BuiltinDataset(
            "humaneval",
            "python",
            ("test",),
            "test",
            "humaneval",
            "MIT",
            "164 hand-written Python functions (Chen et al. 2021)",
            _humaneval,
        ),
        # Default split "test" (the benchmark split); train with mbpp:train.
        BuiltinDataset(
            "mbpp",
            "python",
            ("test", "train", "validation", "prompt"),
            "test",
            "mbpp",
            "CC BY 4.0",
            "974 crowd-sourced Python problems (Austin et al. 2021), standard splits",
            _mbpp,
        ),
        BuiltinDataset(
            "codeforces_cpp",
            "cpp",
            _CF_SPLITS,
            "train",
            "gcc",
            _CF_LICENSE,
            "Codeforces problems with C++ references, from the Hugging Face hub",
            _codeforces("cpp"),
            hub=True,
        ),
        BuiltinDataset(
            "codeforces_python",
            "python",
            _CF_SPLITS,
            "train",
            "python_io",
            _CF_LICENSE,
            "Codeforces problems with Python 3 references, from the Hugging Face hub",
            _codeforces("python"),
            hub=True,
        ),
    )
}


def get_dataset(name: str) -> BuiltinDataset | None:
    return BUILTINS.get(name)
