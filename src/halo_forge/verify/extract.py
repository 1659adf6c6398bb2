"""Pull the program out of a model completion.

Models wrap code in markdown fences, add prose around it, write several blocks (solution, then a
usage example), and stop mid-block when they hit the token limit. This module turns such a
completion into the text a verifier compiles or runs. It is pure (no I/O), so every rule below is
pinned by unit tests with literal inputs.

Rules, in order:

1. Anything up to the last ``</think>`` is reasoning, not an answer, and is dropped.
2. Fenced blocks (```` ``` ```` or ``~~~``, up to three spaces of indentation, CommonMark style)
   are collected; a fence left open at the end of the text runs to the end (token-limit cut).
3. The chosen block is the longest whose info tag names the requested language
   (``python``/``py``/``python3``…, ``cpp``/``c++``…); else the longest untagged block; else the
   longest block tagged with something that is not obviously prose/output (``text``, ``output``,
   ``bash``…); else the longest block of any tag. "Longest" because a model's full solution is
   nearly always longer than the usage snippet it adds after it; ties go to the first block.
4. No fence at all: the whole text, minus surrounding blank lines and trailing whitespace. The
   first line's indentation is *kept*, so a completion that continues a function body (HumanEval
   style: the prompt ends inside ``def f(...):``) stays valid when the verifier prepends the prompt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["extract_code", "language_tags"]

_FENCE_OPEN = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\n]*)$")

_ALIASES: dict[str, frozenset[str]] = {
    "python": frozenset({"python", "py", "python3", "py3"}),
    "cpp": frozenset({"cpp", "c++", "cxx", "cc", "hpp", "hxx"}),
    "c": frozenset({"c", "h"}),
    "rust": frozenset({"rust", "rs"}),
    "go": frozenset({"go", "golang"}),
    "javascript": frozenset({"javascript", "js"}),
    "typescript": frozenset({"typescript", "ts"}),
}
# Tags that mark prose or program output rather than a solution.
_NOT_CODE = frozenset(
    {
        "text",
        "txt",
        "plaintext",
        "output",
        "console",
        "shell",
        "sh",
        "bash",
        "json",
        "markdown",
        "md",
        "diff",
        "log",
    }
)


@dataclass(frozen=True)
class _Block:
    tag: str
    body: str
    start: int  # index of the block in the text, for the tie-break


def language_tags(language: str) -> frozenset[str]:
    """Fence tags that count as ``language`` (``"c++"`` and ``"cpp"`` are the same language)."""
    lang = language.strip().lower()
    for canonical, tags in _ALIASES.items():
        if lang == canonical or lang in tags:
            return tags
    return frozenset({lang})


def _blocks(text: str) -> list[_Block]:
    """Split ``text`` into fenced blocks; an unterminated last fence runs to the end."""
    blocks: list[_Block] = []
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        m = _FENCE_OPEN.match(lines[i].rstrip())
        if m is None:
            i += 1
            continue
        fence, indent = m["fence"], len(m["indent"])
        info = m["info"].strip().split()
        tag = info[0].lower().strip("{}.") if info else ""
        body: list[str] = []
        i += 1
        while i < len(lines):
            stripped = lines[i].strip()
            if stripped.startswith(fence[0] * len(fence)) and set(stripped) == {fence[0]}:
                break
            line = lines[i]
            # CommonMark: remove up to the fence's own indentation from each content line.
            n = len(line) - len(line.lstrip(" "))
            body.append(line[min(n, indent) :])
            i += 1
        blocks.append(_Block(tag=tag, body="\n".join(body), start=len(blocks)))
        i += 1  # skip the closing fence (or step past the end)
    return blocks


def _clean(text: str) -> str:
    """Drop surrounding blank lines and trailing whitespace; keep the first line's indentation."""
    lines = text.rstrip().split("\n")
    while lines and not lines[0].strip():
        lines.pop(0)
    return "\n".join(lines)


def _longest(blocks: list[_Block]) -> _Block | None:
    usable = [b for b in blocks if b.body.strip()]
    if not usable:
        return None
    return max(usable, key=lambda b: (len(b.body.strip()), -b.start))


def extract_code(completion: str, language: str = "python") -> str:
    """Return the code a verifier should run for ``completion`` (see the module docstring).

    Returns ``""`` when there is nothing but whitespace (or only empty fences).
    """
    text = completion.replace("\r\n", "\n")
    if "</think>" in text:
        text = text.rsplit("</think>", 1)[1]
    blocks = _blocks(text)
    if not blocks:
        return _clean(text)
    tags = language_tags(language)
    for tier in (
        [b for b in blocks if b.tag in tags],
        [b for b in blocks if not b.tag],
        [b for b in blocks if b.tag and b.tag not in tags and b.tag not in _NOT_CODE],
        blocks,
    ):
        best = _longest(tier)
        if best is not None:
            return _clean(best.body)
    return ""
