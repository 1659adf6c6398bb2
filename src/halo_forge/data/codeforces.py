"""Codeforces problems (``codeforces_cpp``, ``codeforces_python``) from DeepMind's CodeContests.

Source: the Hugging Face dataset ``deepmind/code_contests`` (Li et al. 2022, "Competition-Level
Code Generation with AlphaCode"; CC BY 4.0), chosen over ``open-r1/codeforces`` because it
carries correct human solutions per language (needed for ``reference`` and the conformance
test) and plain stdin→stdout tests; open-r1's default config has no solutions and many of its
problems need a custom checker. Only rows with ``source == 2`` (CODEFORCES) are used.

Schema read (one row per problem; the hub parquet stores the class labels as ints):

* ``name`` (``"76_B. Mice"``), ``description`` (statement with its Input/Output sections and
  usually the examples), ``cf_contest_id``, ``cf_index``, ``cf_rating`` (0 when unrated),
  ``cf_tags``, ``time_limit`` (``{seconds, nanos}`` or null), ``memory_limit_bytes``,
  ``input_file``/``output_file`` (non-empty for file-I/O problems);
* ``public_tests``/``private_tests``/``generated_tests``: ``{input: [str], output: [str]}``;
* ``solutions``/``incorrect_solutions``: ``{language: [int], solution: [str]}`` with
  0 UNKNOWN, 1 PYTHON (2), 2 CPP, 3 PYTHON3, 4 JAVA;
* ``source``: 0 UNKNOWN, 1 CODECHEF, 2 CODEFORCES, 3 HACKEREARTH, 4 CODEJAM, 5 ATCODER, 6 AIZU.

Hub splits ``train``/``valid``/``test`` are ours ``train``/``validation``/``test``.

Each row → :class:`~halo_forge.types.Problem`: ``id`` ``codeforces/<contest><index>``
(``codeforces/76B``); ``prompt`` = title + statement + "Read from standard input and write to
standard output." + the first public example (only when the statement does not already show
its examples) + "Return only the code in a ```cpp (```python) code block."; ``tests=[]`` and
``metadata["io_tests"]`` = public then private cases (the format of
:mod:`halo_forge.verify.native`), at most :data:`MAX_CASES`, dropping cases with an empty
output, a huge input/output, or Codeforces' truncation mark (``...``); ``reference`` = the
first solution in the target language (Python 3 only: Python 2 solutions do not run under our
interpreter); ``difficulty`` = rating mapped linearly from [800, 3500] to [0, 1] (None when
unrated). The per-problem time limit is kept in metadata but not used as the case timeout: it
was set for Codeforces' judges and optimised C++, not for our sandbox or for Python.

Skipped rows: other sources, file-I/O problems, interactive problems, rows with no usable
case, and repeated ids. Limits of the data: problems that accept several correct outputs (a
Codeforces checker) compare against one expected output here, so a right answer can fail.

Loading: a local copy (``path=`` or ``$HALO_FORGE_CODEFORCES_PATH``: a ``.parquet``/``.jsonl``
file taken as the requested split, a folder in the hub layout ``data/<split>-*.parquet``, or a
``save_to_disk`` folder) wins; otherwise the hub, unless it is unreachable (``HF_HUB_OFFLINE``
set, or a 2-second TCP probe of the hub fails), which raises a one-line
:class:`~halo_forge.errors.DataError` at once instead of waiting on download retries. With
``HF_HUB_OFFLINE=1`` a copy already in the ``datasets`` cache is still used.

Verification: ``codeforces_cpp`` uses ``gcc`` and ``codeforces_python`` uses ``python_io``
(a whole program run on stdin → stdout in the sandbox); both run ``io_tests``.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from halo_forge.errors import DataError
from halo_forge.types import Problem

__all__ = [
    "ENV_PATH",
    "HUB_ID",
    "LICENSE",
    "MAX_CASES",
    "NAMES",
    "SPLITS",
    "VERIFIERS",
    "load",
    "problem_from_row",
    "skip_reason",
]

HUB_ID = "deepmind/code_contests"
LICENSE = "CC BY 4.0"
NAMES = {"cpp": "codeforces_cpp", "python": "codeforces_python"}
VERIFIERS = {"cpp": "gcc", "python": "python_io"}
SPLITS = ("train", "validation", "test")
ENV_PATH = "HALO_FORGE_CODEFORCES_PATH"
MAX_CASES = 10
MAX_INPUT_CHARS = 100_000
MAX_OUTPUT_CHARS = 20_000
RATING_RANGE = (800, 3500)

_HUB_SPLITS = {"train": "train", "validation": "valid", "test": "test"}
_CODEFORCES = 2
_LANG_CODES = {"cpp": {2, "CPP"}, "python": {3, "PYTHON3"}}
_FENCES = {"cpp": "cpp", "python": "python"}
_COLUMNS = (
    "name",
    "description",
    "public_tests",
    "private_tests",
    "source",
    "solutions",
    "cf_contest_id",
    "cf_index",
    "cf_rating",
    "cf_tags",
    "time_limit",
    "memory_limit_bytes",
    "input_file",
    "output_file",
)
_EXTENSIONS = {
    ".parquet": "parquet",
    ".jsonl": "json",
    ".json": "json",
    ".arrow": "arrow",
}
_NAME = re.compile(r"^\s*(\d+)_([A-Za-z]\d*)\.\s*(.*)$")
_EXAMPLES_HEADING = re.compile(r"^\s*Examples?\s*$", re.MULTILINE)
_TRUE = {"1", "true", "yes", "on"}


# -- row → Problem ------------------------------------------------------------------------------
def _cases(tests: Any) -> list[tuple[str, str]]:
    """``{input: [...], output: [...]}`` (hub) or ``[{input, output}, ...]`` → pairs."""
    if not tests:
        return []
    if isinstance(tests, dict):
        return list(zip(tests.get("input") or [], tests.get("output") or [], strict=False))
    return [(t["input"], t["output"]) for t in tests]


def _usable(inp: Any, out: Any) -> bool:
    if not (isinstance(inp, str) and isinstance(out, str)) or not out.strip():
        return False
    if len(inp) > MAX_INPUT_CHARS or len(out) > MAX_OUTPUT_CHARS:
        return False
    return not (inp.rstrip().endswith("...") or out.rstrip().endswith("..."))


def _io_tests(row: dict[str, Any]) -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    for inp, expected in _cases(row.get("public_tests")) + _cases(row.get("private_tests")):
        if _usable(inp, expected) and (inp, expected) not in seen:
            seen.add((inp, expected))
            out.append({"input": inp, "output": expected})
        if len(out) == MAX_CASES:
            break
    return out


def _reference(row: dict[str, Any], language: str) -> str | None:
    sols = row.get("solutions") or {}
    pairs: Iterable[tuple[Any, Any]]
    if isinstance(sols, dict):
        pairs = zip(sols.get("language") or [], sols.get("solution") or [], strict=False)
    else:
        pairs = ((s.get("language"), s.get("solution")) for s in sols)
    wanted = _LANG_CODES[language]
    return next((code for lang, code in pairs if lang in wanted and code), None)


def _ident(row: dict[str, Any]) -> tuple[str, str]:
    """``("76B", "Mice")`` from ``cf_contest_id``/``cf_index``, else from ``name``."""
    name = str(row.get("name") or "").strip()
    m = _NAME.match(name)
    title = m.group(3).strip() if m else name
    contest, index = row.get("cf_contest_id"), str(row.get("cf_index") or "").strip()
    if contest and index:
        return f"{contest}{index}", title
    if m:
        return f"{m.group(1)}{m.group(2).upper()}", title
    slug = re.sub(r"[^A-Za-z0-9]+", "_", name).strip("_")
    if not slug:
        raise KeyError("cf_contest_id/cf_index or name")
    return slug, title


def _difficulty(rating: Any) -> float | None:
    if not isinstance(rating, int | float) or rating <= 0:
        return None
    lo, hi = RATING_RANGE
    return round(min(1.0, max(0.0, (rating - lo) / (hi - lo))), 4)


def _time_limit(value: Any) -> float | None:
    if isinstance(value, dict):
        seconds = (value.get("seconds") or 0) + (value.get("nanos") or 0) / 1e9
        return seconds or None
    return float(value) if isinstance(value, int | float) and value > 0 else None


def _prompt(title: str, description: str, example: dict[str, str], language: str) -> str:
    parts = [f"{title}\n\n{description.strip()}" if title else description.strip()]
    parts.append("Read from standard input and write to standard output.")
    if not _EXAMPLES_HEADING.search(description):
        parts.append(f"Example input:\n{example['input'].rstrip()}\n")
        parts.append(f"Example output:\n{example['output'].rstrip()}\n")
    parts.append(f"Return only the code in a ```{_FENCES[language]} code block.")
    return "\n\n".join(p.rstrip("\n") for p in parts)


def skip_reason(row: dict[str, Any]) -> str:
    """Why a row is not turned into a problem (``""`` when it is usable)."""
    source = row.get("source")
    if source not in (_CODEFORCES, "CODEFORCES"):
        return "not a Codeforces problem"
    if row.get("input_file") or row.get("output_file"):
        return "reads or writes files instead of stdin/stdout"
    if "interactive problem" in str(row.get("description") or "").lower():
        return "interactive"
    return ""


def problem_from_row(
    row: dict[str, Any], language: str, split: str = "", where: str = HUB_ID
) -> Problem | None:
    """One CodeContests row → ``Problem``, or None when it has no usable io test.

    ``where`` (``file:row n``) prefixes the :class:`DataError` raised for a malformed row.
    """
    if language not in NAMES:
        raise DataError(f"codeforces: unknown language {language!r}; choose one of: cpp, python")
    try:
        description = row["description"]
        if not isinstance(description, str) or not description.strip():
            raise TypeError("description must be a non-empty string")
        ident, title = _ident(row)
        cases = _io_tests(row)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(
            f"{where}: not a code_contests row (needs name, description, public_tests): "
            f"{type(exc).__name__}: {exc}"
        ) from None
    if not cases:
        return None
    rating = row.get("cf_rating")
    return Problem(
        id=f"codeforces/{ident}",
        prompt=_prompt(title, description, cases[0], language),
        language=language,
        tests=[],
        reference=_reference(row, language),
        source=NAMES[language],
        split=split,
        difficulty=_difficulty(rating),
        metadata={
            "io_tests": cases,
            "rating": rating if isinstance(rating, int) and rating > 0 else None,
            "tags": list(row.get("cf_tags") or []),
            "time_limit": _time_limit(row.get("time_limit")),
            "memory_limit_bytes": row.get("memory_limit_bytes") or None,
            "name": str(row.get("name") or ""),
        },
    )


# -- where the rows come from -------------------------------------------------------------------
def _one_line(exc: BaseException) -> str:
    msg = " ".join(str(exc).split())
    return (f"{type(exc).__name__}: {msg}" if msg else type(exc).__name__)[:300]


def _truthy(var: str) -> bool:
    return os.environ.get(var, "").strip().lower() in _TRUE


def _hub_reachable(timeout: float = 2.0) -> bool:
    """A TCP connect to the hub (``HF_ENDPOINT`` honoured): seconds, not minutes of retries."""
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    host = url.hostname or "huggingface.co"
    port = url.port or (80 if url.scheme == "http" else 443)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _offline_error(hub_split: str, why: str) -> DataError:
    return DataError(
        f"codeforces: {why}, so {HUB_ID} ({hub_split}) cannot be downloaded; get it where there "
        f"is network (huggingface-cli download {HUB_ID} --repo-type dataset --local-dir DIR) "
        f"and point {ENV_PATH} (or path=) at DIR"
    )


def _from_hub(hub_split: str, streaming: bool) -> Iterable[dict[str, Any]]:
    import datasets

    if _truthy("HF_HUB_OFFLINE") or _truthy("HF_DATASETS_OFFLINE"):
        if not datasets.config.HF_HUB_OFFLINE:  # set after import: the library would still dial
            raise _offline_error(hub_split, "HF_HUB_OFFLINE is set")
        try:  # offline mode: only the local datasets cache is read, no network
            return datasets.load_dataset(HUB_ID, split=hub_split)
        except Exception:  # noqa: BLE001 - not cached: one line, whatever the library raised
            raise _offline_error(
                hub_split, "HF_HUB_OFFLINE is set and no cached copy exists"
            ) from None
    if not _hub_reachable():
        raise _offline_error(hub_split, "the Hugging Face hub is not reachable")
    try:
        return datasets.load_dataset(HUB_ID, split=hub_split, streaming=streaming)
    except Exception as exc:  # noqa: BLE001 - any hub failure becomes one user-facing line
        raise DataError(
            f"codeforces: cannot load {HUB_ID} ({hub_split}) from the hub: {_one_line(exc)}; "
            f"point {ENV_PATH} (or path=) at a local copy"
        ) from None


def _builder(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".bz2", ".xz", ".zst"):
        suffixes = suffixes[:-1]
    return _EXTENSIONS.get(suffixes[-1]) if suffixes else None


def _split_files(folder: Path, split: str) -> list[Path]:
    """Files of one split in the hub layout (``data/valid-00000-of-00001.parquet``)."""
    prefixes = {f"{_HUB_SPLITS[split]}-", f"{_HUB_SPLITS[split]}.", f"{split}-", f"{split}."}
    return sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and _builder(p) and any(p.name.startswith(x) for x in prefixes)
    )


def _from_disk_folder(folder: Path, split: str) -> Any:
    import datasets

    loaded = datasets.load_from_disk(str(folder))
    if isinstance(loaded, datasets.DatasetDict):
        for key in (_HUB_SPLITS[split], split):
            if key in loaded:
                return loaded[key]
        raise DataError(
            f"codeforces: {folder} has no split {_HUB_SPLITS[split]!r}; it has: {', '.join(loaded)}"
        )
    return loaded


def _from_path(path: Path, split: str) -> tuple[Any, str]:
    """Rows of ``split`` from a local file or folder, and a name for error messages."""
    import datasets

    if path.is_dir():
        if (path / "dataset_dict.json").is_file() or (path / "state.json").is_file():
            return _from_disk_folder(path, split), str(path)
        files = _split_files(path, split)
        if not files:
            raise DataError(
                f"codeforces: no {_HUB_SPLITS[split]}-*.parquet or .jsonl files under {path} "
                f"(expected the hub layout data/{_HUB_SPLITS[split]}-*.parquet, or a "
                "save_to_disk folder)"
            )
        kinds = {_builder(f) for f in files}
        if len(kinds) > 1:
            raise DataError(f"codeforces: {path} mixes file types for one split: {kinds}")
        builder, data_files = kinds.pop(), [str(f) for f in files]
    else:
        builder, data_files = _builder(path), [str(path)]
        if builder is None:
            raise DataError(
                f"codeforces: {path} is not a .parquet, .jsonl, .json or .arrow file "
                "(or a dataset folder)"
            )
    return datasets.load_dataset(builder, data_files=data_files, split="train"), str(path)


def _only_needed_columns(ds: Any) -> Any:
    """Drop the heavy columns we never read (generated tests, incorrect solutions)."""
    names = getattr(ds, "column_names", None)
    if not names:
        return ds
    return ds.select_columns([c for c in names if c in _COLUMNS])


def _rows(path: str | None, split: str, streaming: bool) -> tuple[Iterable[dict[str, Any]], str]:
    chosen = path if path is not None else os.environ.get(ENV_PATH) or None
    if chosen is None:
        return _only_needed_columns(_from_hub(_HUB_SPLITS[split], streaming)), HUB_ID
    local = Path(chosen).expanduser()
    if not local.exists():
        origin = "" if path is not None else f" (from {ENV_PATH})"
        raise DataError(f"codeforces: {chosen} does not exist{origin}")
    try:
        ds, where = _from_path(local, split)
    except DataError:
        raise
    except Exception as exc:  # noqa: BLE001 - unreadable or malformed file: one line
        raise DataError(f"codeforces: cannot read {local}: {_one_line(exc)}") from None
    return _only_needed_columns(ds), where


def _problems(
    rows: Iterable[dict[str, Any]], language: str, split: str, where: str
) -> Iterator[Problem]:
    seen: set[str] = set()
    for n, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise DataError(f"{where}: row {n} is not an object")
        if skip_reason(row):
            continue
        problem = problem_from_row(row, language, split, f"{where}: row {n}")
        if problem is not None and problem.id not in seen:
            seen.add(problem.id)
            yield problem


def load(
    language: str, split: str, path: str | None = None, limit: int | None = None
) -> list[Problem]:
    """Codeforces problems of one split for ``language`` (``cpp`` or ``python``).

    ``path`` (else ``$HALO_FORGE_CODEFORCES_PATH``) points at a local copy in the hub schema;
    without one the hub is used. ``limit`` caps how many problems are returned (the hub is then
    streamed, so only what is needed is downloaded).
    """
    if language not in NAMES:
        raise DataError(f"codeforces: unknown language {language!r}; choose one of: cpp, python")
    if split not in SPLITS:
        raise DataError(f"codeforces has no split '{split}'; choose one of: {', '.join(SPLITS)}")
    if limit is not None and limit < 1:
        raise DataError(f"codeforces: limit must be a positive number of problems; got {limit}")
    import datasets

    datasets.disable_progress_bars()  # "Generating train split" bars; ours show progress
    rows, where = _rows(path, split, streaming=limit is not None)
    out: list[Problem] = []
    for problem in _problems(rows, language, split, where):
        out.append(problem)
        if limit is not None and len(out) >= limit:
            break
    return out
