"""Splitting JSONL text into lines.

``str.splitlines()`` also breaks at U+2028, U+2029 and U+0085 (NEL), which
``json.dumps(..., ensure_ascii=False)`` writes unescaped inside strings. A model completion
holding one of them (seen in a RAFT run: a whole verified chunk was dropped as "torn") would
cut its row in two; JSON Lines only ever ends a line at ``\\n``.
"""

from __future__ import annotations


def jsonl_lines(text: str) -> list[str]:
    """The lines of a JSONL text (``\\n``-separated; a ``\\r`` before it is dropped)."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
