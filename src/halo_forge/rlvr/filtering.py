"""Which verified samples RAFT trains on. Pure functions, no model.

Departure from the seeds (and RAFT's paper, which ranks the whole batch globally): we rank
**per prompt**. A global sort with a stable tie-break favours whichever prompts come first when
many samples share the top reward (e.g. 1.0), and lets easy prompts crowd out everything else.
Per prompt, every prompt that produced an acceptable sample contributes its best fraction, and
a prompt with nothing above the threshold contributes nothing. Identical completions for the
same prompt are kept once: duplicates only re-weight an example the model already produces.

``require_pass`` (on in RAFT): a prompt none of whose samples *passed* (``Status.PASS``: every
test) contributes nothing, whatever the threshold — with a shaped threshold of 0.0 the kept
samples of a prompt are then its best attempts *alongside* a correct one, never a set of wrong
answers alone. Discarding all-wrong prompts is what Xiong et al. (2025, "A Minimalist Approach
to LLM Reasoning") found explains most of GRPO's edge over plain rejection sampling.
``max_per_prompt`` caps what one prompt contributes after ``keep_fraction``, so prompts the
model already solves eight ways do not dominate the training set.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass

from halo_forge.types import Sample, Status, VerifyResult


@dataclass(frozen=True)
class Scored:
    sample: Sample
    result: VerifyResult

    @property
    def reward(self) -> float:
        return self.result.reward


def keep_count(candidates: int, keep_fraction: float) -> int:
    """``ceil(keep_fraction * candidates)``: a prompt with any candidate keeps at least one."""
    if candidates <= 0:
        return 0
    return min(candidates, max(1, math.ceil(keep_fraction * candidates - 1e-9)))


def select_top(
    scored: list[Scored],
    threshold: float,
    keep_fraction: float,
    *,
    per_prompt: bool = True,
    dedupe: bool = True,
    require_pass: bool = False,
    max_per_prompt: int | None = None,
) -> list[Scored]:
    """Threshold, then keep the top ``keep_fraction`` by reward (ties: lower sample index first).

    ``per_prompt=False`` reproduces the seeds' global ranking (for comparison).
    Returned in (prompt order of first appearance, rank) order.
    """
    solved = {s.sample.problem_id for s in scored if s.result.status is Status.PASS}
    above = [
        s
        for s in scored
        if s.reward >= threshold and (not require_pass or s.sample.problem_id in solved)
    ]
    if dedupe:
        seen: set[tuple[str, str]] = set()
        unique = []
        for s in above:  # input order; identical text has identical reward
            key = (s.sample.problem_id, s.sample.completion.strip())
            if key not in seen:
                seen.add(key)
                unique.append(s)
        above = unique
    if not per_prompt:
        ranked = sorted(above, key=_rank_key_global)
        return ranked[: keep_count(len(ranked), keep_fraction)]
    groups: dict[str, list[Scored]] = defaultdict(list)
    for s in above:
        groups[s.sample.problem_id].append(s)
    order = list(dict.fromkeys(s.sample.problem_id for s in scored))
    kept: list[Scored] = []
    for pid in order:
        group = sorted(groups.get(pid, []), key=_rank_key)
        n = keep_count(len(group), keep_fraction)
        kept.extend(group[: min(n, max_per_prompt) if max_per_prompt else n])
    return kept


def _rank_key(s: Scored) -> tuple[float, int]:
    return (-s.reward, s.sample.index)


def _rank_key_global(s: Scored) -> tuple[float, int]:
    return (-s.reward, 0)  # stable sort keeps input order among ties, as the seeds do
