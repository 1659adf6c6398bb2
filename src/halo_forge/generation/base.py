"""The generation contract every backend implements (hf now; vllm and openai later)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from halo_forge.types import Problem, Sample

DEFAULT_SYSTEM_PROMPT = "You are an expert programmer."


@dataclass(frozen=True)
class SamplingParams:
    n: int = 8
    temperature: float = 0.7
    top_p: float = 0.95
    max_new_tokens: int = 256
    seed: int = 0


@dataclass
class GenerationStats:
    """Totals for one ``generate`` call; ``tokens`` counts generated tokens only."""

    samples: int = 0
    tokens: int = 0
    seconds: float = 0.0
    finish_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


class Generator(Protocol):
    def generate(
        self,
        problems: list[Problem],
        params: SamplingParams,
        on_samples: Callable[[list[Sample]], None] | None = None,
    ) -> tuple[list[list[Sample]], GenerationStats]:
        """``n`` samples per problem, grouped per problem in input order.

        ``on_samples`` receives each finished batch (for appending to a run file).
        """
        ...


def chat_messages(prompt: str, system_prompt: str | None) -> list[dict[str, str]]:
    msgs = [{"role": "system", "content": system_prompt}] if system_prompt else []
    return [*msgs, {"role": "user", "content": prompt}]
