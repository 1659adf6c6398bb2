"""A cheap, deterministic estimate of how demanding a coding prompt is, in [0, 1].

Used to order or bucket prompts (curriculum, reports) when no pass-rate is known yet. It reads
only the text: no model, no tokenizer, no execution. It is a heuristic and is calibrated only so
that the built-in datasets come out in a sensible order (``basic_python`` < ``mbpp`` <
``humaneval``); a measured pass rate should always win over it.

Four components, each already in [0, 1] and each saturating (``1 - exp(-x / scale)``), so that
no single feature — a huge paste, a keyword list — can push the score to 1 on its own:

=========== ====== =========================================================================
component   weight what it counts
=========== ====== =========================================================================
keywords    0.40   technical terms (:data:`KEYWORDS`), weighted by how much they usually add
                   to a task: concurrency/systems 0.7–1.0, memory 0.5–0.9, algorithms and
                   data structures 0.3–0.8, language machinery and formats 0.3–0.6, and what
                   a task optimises or searches for ("longest", "nth", "subsequence", "number
                   of ways"...) 0.15–0.5. Each term counts once (repeating "thread" does not
                   make a task harder); scale 2.0
length      0.20   words; scale 120 (15 words ≈ 0.12, 60 ≈ 0.4, 200 ≈ 0.8)
specificity 0.25   in the prose only: big-O bounds (1.0 each), constraint phrases ("at most",
                   "no more than", "must", "≤"...; 0.3 each), words that ask for an error path
                   ("raise", "invalid", "exception", "edge case"...; 0.35 each, distinct),
                   special values ("empty", "negative", "none"...; 0.1 each, distinct) and
                   numbers that bound the input (``10^5``, ``1e9``, 3+ digits, or next to a
                   comparison; 0.2 each, at most 10); scale 2.0
structure   0.15   sentences beyond the first (0.12 each), bullet or numbered items (0.25
                   each), fenced code blocks (0.4 each), code lines (``def``/``class``/
                   ``>>>``/``#include``...; 0.15 each, at most 8); scale 2.0
=========== ====== =========================================================================

Why these weights: the domain of a task (threads, graphs, manual memory) is the best single
text signal of how hard it is for a model, so keywords weigh most. Specificity comes next:
stated limits and error paths make the tests stricter. Length is weighted below both because it
is confounded: trivial tasks are often spelled out at length (``basic_python`` prompts are
longer than MBPP's one-line textbook tasks): with length at 0.25 and keywords at 0.35 the two
tied (means 0.084 and 0.087). Structure is the weakest and noisiest signal (a docstring
with examples is structure without difficulty), so it weighs least. Special values ("empty",
"negative") weigh a third of real error paths for the same reason: easy prompts mention them
to be unambiguous ("k is never negative"), and the natural code usually handles them anyway.

Two departures from a plain count: lines our dataset loaders append to every prompt ("Return
only the code in a ```python code block.", "Write it as a Python function `f(x)`.", "Your code
should pass this test:", "Read from standard input and write to standard output.") are removed
first, so the score describes the task and not the template; and lines that are code or
examples (``f([1, 2, 3]) == 6``, ``>>>`` lines, fenced blocks) do not count for specificity —
their numbers are data, not constraints.

Over the built-in datasets (mean, min–max): ``basic_python:train`` 0.073 (0.022–0.164),
``mbpp:train`` 0.083 (0.025–0.228), ``humaneval`` 0.193 (0.057–0.554); a multi-paragraph
concurrency task with requirements scores about 0.74. ``basic_python`` and MBPP are close: from
the text alone, a spelled-out trivial task and a terse textbook one look alike.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["KEYWORDS", "WEIGHTS", "complexity", "explain", "histogram", "summary"]

WEIGHTS: dict[str, float] = {
    "keywords": 0.40,
    "length": 0.20,
    "specificity": 0.25,
    "structure": 0.15,
}

# Regex (matched case-insensitively at a word start) → weight. Each matches at most once.
KEYWORDS: dict[str, float] = {
    # concurrency and systems
    r"concurren": 1.0,
    r"mutex": 1.0,
    r"deadlock": 1.0,
    r"race condition": 1.0,
    r"atomic": 0.9,
    r"thread": 0.9,
    r"lock(s|ed|ing|-free)?\b": 0.7,
    r"semaphore": 0.9,
    r"syscall|system call": 0.9,
    r"socket": 0.9,
    r"signal handler": 0.8,
    r"async|await\b|coroutine": 0.7,
    r"parallel": 0.7,
    r"file descriptor": 0.7,
    # memory
    r"pointer": 0.8,
    r"allocat": 0.8,
    r"malloc|free\(\)": 0.9,
    r"memory": 0.6,
    r"buffer": 0.5,
    r"overflow": 0.5,
    # algorithms and data structures
    r"dynamic programming|memoi[sz]": 0.8,
    r"graph": 0.7,
    r"shortest path|dijkstra|bfs\b|dfs\b|breadth-first|depth-first": 0.7,
    r"topolog": 0.7,
    r"recurs": 0.5,
    r"binary search": 0.5,
    r"heap\b|priority queue": 0.5,
    r"(binary )?tree\b|trie\b": 0.5,
    r"linked list": 0.5,
    r"hash ?(map|table)": 0.4,
    r"matrix": 0.4,
    r"permutation|combination|subsequence|substring": 0.4,
    r"prime": 0.3,
    r"modul(o|ar)": 0.3,
    r"bitwise|bit mask|xor\b": 0.4,
    r"interval": 0.3,
    # what the task optimises or searches for: the signal short textbook prompts (MBPP) give
    r"minimum|maximum|smallest|largest|longest|shortest|optimal|minimi[sz]|maximi[sz]": 0.4,
    r"nth\b|n-th|kth\b|k-th": 0.4,
    r"(sub)?sequences?\b|pairs?\b|consecutive|adjacent": 0.3,
    r"number of ways|count(ing)? (the )?(number of )?ways": 0.5,
    r"sort": 0.2,
    r"lambda|map\b|filter\b": 0.2,
    r"dictionar|tuple|nested": 0.15,
    r"area|volume|perimeter|geometr|angle": 0.2,
    # language machinery and formats
    r"template": 0.5,
    r"generic": 0.4,
    r"regex|regular expression": 0.6,
    r"pars(e|er|ing)": 0.5,
    r"seriali[sz]": 0.5,
    r"decorator|metaclass|closure": 0.5,
    r"iterator|generator": 0.3,
    r"class\b|object-oriented|inherit": 0.3,
    r"cache|lru": 0.5,
    r"stream": 0.3,
}
_KEYWORDS = [(re.compile(r"\b(?:" + k + ")", re.IGNORECASE), w) for k, w in KEYWORDS.items()]

_BOILERPLATE = re.compile(
    r"^[ \t]*(Return only the (code|function) in a ```\w*\s*code block\.?"
    r"|Write it as a Python function `[^`]*`\.?"
    r"|Your code should pass (this|these) tests?:?"
    r"|Read from standard input and write to standard output\.?)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
_FENCE = re.compile(r"^\s*```")
_CODE_LINE = re.compile(
    r"^\s*(>>>|def |class |assert |import |from \S+ import|#include|return\b|for .*:$"
    r"|while .*:$|if .*:$|fn |func |int main|template\s*<|struct )"
)
_EXAMPLE_LINE = re.compile(r"(==|=>|->|>>>|^\s*Examples?\b|^\s*(Input|Output)\s*:)", re.IGNORECASE)
_BULLET = re.compile(r"^\s*([-*•]|\d+[.)])\s+\S")
_SENTENCE_END = re.compile(r"[.!?](\s|$)")
_BIG_O = re.compile(r"\b[OΘΩ]\s*\(\s*[^)]{1,30}\)")
_CONSTRAINT = re.compile(
    r"\b(at (most|least)|no (more|less|fewer) than|not exceed|exactly|between|up to"
    r"|must( not)?|should( not)?|within|strictly|in place|without using|constant (time|space)"
    r"|linear time)\b|[≤≥]|<=|>=",
    re.IGNORECASE,
)
_ERROR = re.compile(  # asks for an error path: code the happy path does not need
    r"\b(errors?|invalid|raise[sd]?|exceptions?|edge cases?|corner cases?|malformed|overflows?"
    r"|timeouts?|fail(s|ure)?|validat\w*)\b",
    re.IGNORECASE,
)
_CASE = re.compile(  # names a special value: usually handled by the natural code anyway
    r"\b(empty|negative|zero|none|null|duplicates?)\b", re.IGNORECASE
)
# A number that bounds the input: an exponent (10^5, 1e9, 2·10^5), 3+ digits, or one next to a
# comparison. Small numbers in prose ("greater than 10") are task details, not constraints.
# Checked around each number rather than with one regex, which backtracks quadratically on long
# digit runs.
_DIGITS = re.compile(r"\d+")
_EXPONENT = re.compile(r"\s*(\^|\*\*)\s*\d|e\d")
_COMPARISONS = ("<", ">", "≤", "≥")


def _saturate(x: float, scale: float) -> float:
    return 1.0 - math.exp(-max(0.0, x) / scale)


def _split(prompt: str) -> tuple[list[str], list[str]]:
    """``(prose lines, code/example lines)`` of a prompt without the loaders' boilerplate."""
    text = _BOILERPLATE.sub("", prompt)
    prose: list[str] = []
    code: list[str] = []
    in_fence = False
    for line in text.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if not line.strip():
            continue
        is_code = in_fence or _CODE_LINE.match(line) or _EXAMPLE_LINE.search(line)
        (code if is_code else prose).append(line)
    return prose, code


def _keywords(text: str) -> tuple[float, list[str]]:
    hits = [(m.group(0).lower(), w) for rx, w in _KEYWORDS if (m := rx.search(text))]
    return _saturate(sum(w for _, w in hits), 2.0), [h for h, _ in hits]


def _bounds(prose: str) -> int:
    n = 0
    for m in _DIGITS.finditer(prose):
        before = prose[max(0, m.start() - 4) : m.start()].rstrip(" -=")
        after = prose[m.end() : m.end() + 4].lstrip(" ")
        if (
            len(m.group()) >= 3
            or _EXPONENT.match(prose, m.end())
            or before.endswith(_COMPARISONS)
            or after.startswith(_COMPARISONS)
        ):
            n += 1
    return n


def _specificity(prose: str) -> float:
    big_o = len(_BIG_O.findall(prose))
    constraints = len(_CONSTRAINT.findall(prose))
    errors = len({m.group(0).lower() for m in _ERROR.finditer(prose)})
    cases = len({m.group(0).lower() for m in _CASE.finditer(prose)})
    bounds = min(10, _bounds(_BIG_O.sub("", prose)))
    raw = 1.0 * big_o + 0.3 * constraints + 0.35 * errors + 0.1 * cases + 0.2 * bounds
    return _saturate(raw, 2.0)


def _structure(prompt: str, prose: list[str], code: list[str]) -> float:
    fences = sum(1 for line in prompt.splitlines() if _FENCE.match(line)) // 2
    text = " ".join(prose)
    sentences = len(_SENTENCE_END.findall(text)) + (0 if _SENTENCE_END.search(text[-1:]) else 1)
    bullets = sum(1 for line in prose if _BULLET.match(line))
    code_lines = min(8, sum(1 for line in code if _CODE_LINE.match(line)))
    raw = 0.12 * max(0, sentences - 1) + 0.25 * bullets + 0.4 * fences + 0.15 * code_lines
    return _saturate(raw, 2.0)


def explain(prompt: str) -> dict[str, Any]:
    """Component scores (each in [0, 1]), the weighted ``score``, and what drove them.

    Keys: ``length``, ``keywords``, ``specificity``, ``structure``, ``score``, ``words``,
    ``matched_keywords``.
    """
    if not isinstance(prompt, str):
        raise TypeError(f"complexity() takes a str prompt; got {type(prompt).__name__}")
    prose, code = _split(prompt)
    task_text = "\n".join(prose + code)
    words = len(task_text.split())
    keywords, matched = _keywords(task_text)
    parts = {
        "length": _saturate(words, 120.0),
        "keywords": keywords,
        "specificity": _specificity("\n".join(prose)),
        "structure": _structure(_BOILERPLATE.sub("", prompt), prose, code),
    }
    score = sum(WEIGHTS[k] * v for k, v in parts.items())
    rounded = {k: round(v, 4) for k, v in parts.items()}
    return {
        **rounded,
        "score": round(min(1.0, max(0.0, score)), 4),
        "words": words,
        "matched_keywords": matched,
    }


def complexity(prompt: str) -> float:
    """How demanding ``prompt`` looks, in [0, 1] (see the module docstring for the weights)."""
    return float(explain(prompt)["score"])


def histogram(scores: Iterable[float], bins: int = 10) -> list[tuple[float, float, int]]:
    """``[(low, high, count), ...]``: ``bins`` equal bins covering [0, 1].

    Each bin is ``[low, high)`` except the last, which includes 1.0. Scores outside [0, 1]
    are clamped into the end bins, so the counts always add up to ``len(scores)``.
    """
    if not isinstance(bins, int) or bins < 1:
        raise ValueError(f"bins must be a positive integer; got {bins!r}")
    edges = [i / bins for i in range(bins + 1)]
    counts = [0] * bins
    for s in scores:
        x = min(1.0, max(0.0, float(s)))
        counts[min(bins - 1, bisect.bisect_right(edges, x) - 1)] += 1
    return [(edges[i], edges[i + 1], c) for i, c in enumerate(counts)]


def summary(scores: Sequence[float]) -> dict[str, float]:
    """``{"n", "mean", "min", "max"}`` of some scores (``n`` 0 and zeros when empty)."""
    if not scores:
        return {"n": 0, "mean": 0.0, "min": 0.0, "max": 0.0}
    return {
        "n": len(scores),
        "mean": round(sum(scores) / len(scores), 4),
        "min": min(scores),
        "max": max(scores),
    }
