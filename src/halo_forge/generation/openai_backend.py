"""``Generator`` over any OpenAI-compatible server (``halo-forge serve``, vLLM, llama.cpp, OpenAI).

One chat request per (problem, chunk of up to ``max_n_per_request`` samples), a few in flight at
once. Where this departs from the HF backend:

- No stop at the closing code fence: a stop string ``"```"`` would also fire on the *opening*
  fence, so completions run to EOS or ``max_tokens`` and ``extract_code`` finds the block.
- A server that returns fewer choices than ``n`` asked (llama.cpp ignores ``n``) is asked again
  for the rest, so every problem still gets exactly ``params.n`` samples.
- The API reports completion tokens per request, not per choice: with several choices in one
  response, ``Sample.num_tokens`` is that total split in proportion to each choice's length
  (exact for one choice; the stats total is always exact).
- Seeds are ``params.seed + 7919 * problem_index + chunk``, so a rerun against a server that
  honours ``seed`` reproduces the same samples.

Connection failures and HTTP errors become one-line ``GenerationError``s naming the URL.

``LoraAdapters`` drives vLLM's runtime LoRA API (``POST {base_url}/load_lora_adapter`` and
``/unload_lora_adapter``, also served by ``halo-forge serve``): RAFT loads each cycle's adapter
into a running server and samples it by name instead of restarting the server.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from halo_forge.errors import HaloForgeError
from halo_forge.generation.base import (
    DEFAULT_SYSTEM_PROMPT,
    GenerationStats,
    SamplingParams,
    chat_messages,
)
from halo_forge.types import Problem, Sample
from halo_forge.verify.extract import extract_code

API_KEY_ENV = "OPENAI_API_KEY"


class GenerationError(HaloForgeError):
    """The generation server is unreachable or refused a request."""


class OpenAIGenerator:
    """``Generator`` that samples through ``POST {base_url}/chat/completions``.

    ``client`` may be passed in (tests, custom auth); otherwise one is built with the key from
    ``$OPENAI_API_KEY`` (``"none"`` when unset — local servers ignore it).
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        system_prompt: str | None = DEFAULT_SYSTEM_PROMPT,
        concurrency: int = 4,
        max_n_per_request: int = 16,
        max_retries: int = 2,
        timeout: float = 600.0,
        progress: Any = None,
        progress_task: Any = None,
        check_model: bool = False,
        client: Any = None,
    ):
        if client is None:
            from openai import OpenAI

            client = OpenAI(
                base_url=base_url,
                api_key=os.environ.get(API_KEY_ENV) or "none",
                max_retries=max_retries,
                timeout=timeout,
            )
        self.client = client
        self.base_url = base_url
        self.timeout = timeout
        self.model = model
        self.system_prompt = system_prompt
        self.concurrency = max(1, concurrency)
        self.max_n_per_request = max(1, max_n_per_request)
        self.progress = progress
        self.progress_task = progress_task  # advance this task instead of adding one per call
        # a response must name ``model`` (a loaded adapter: a server that lost it answers
        # with its base model's name, or 404 — either way, an error rather than base samples)
        self.check_model = check_model

    def generate(
        self,
        problems: list[Problem],
        params: SamplingParams,
        on_samples: Callable[[list[Sample]], None] | None = None,
        skip: set[tuple[str, int]] | None = None,
    ) -> tuple[list[list[Sample]], GenerationStats]:
        """``skip``: (problem id, sample index) pairs not to generate (they are left out)."""
        stats = GenerationStats()
        lock = threading.Lock()
        skip = skip or set()
        wanted = [[j for j in range(params.n) if (p.id, j) not in skip] for p in problems]
        task = self.progress_task
        if task is None and self.progress:
            task = self.progress.add_task("Generating", total=sum(len(w) for w in wanted))

        def one(pi: int) -> list[Sample]:
            samples = self._problem_samples(pi, problems[pi], params, wanted[pi])
            with lock:  # stats, progress and the callback see one problem at a time
                stats.samples += len(samples)
                for s in samples:
                    stats.tokens += s.num_tokens
                    stats.finish_reasons[s.finish_reason] = (
                        stats.finish_reasons.get(s.finish_reason, 0) + 1
                    )
                if on_samples:
                    on_samples(samples)
                if task is not None:
                    self.progress.advance(task, len(samples))
            return samples

        start = time.perf_counter()
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="openai-gen")
        try:
            futures = [pool.submit(one, pi) for pi in range(len(problems))]
            out = [f.result() for f in futures]
        except BaseException:
            # fail fast (and let Ctrl-C return): queued problems never reach the server and
            # requests in flight are abandoned, not awaited
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        stats.seconds = time.perf_counter() - start
        return out, stats

    def _problem_samples(
        self, pi: int, problem: Problem, params: SamplingParams, indices: list[int]
    ) -> list[Sample]:
        messages = chat_messages(problem.prompt, self.system_prompt)
        samples: list[Sample] = []
        chunk = 0
        while len(samples) < len(indices):
            want = min(len(indices) - len(samples), self.max_n_per_request)
            choices = self._request(messages, params, want, params.seed + 7919 * pi + chunk)
            for text, reason, tokens in choices[:want]:
                samples.append(
                    Sample(
                        problem_id=problem.id,
                        index=indices[len(samples)],
                        completion=text,
                        code=extract_code(text, problem.language),
                        num_tokens=tokens,
                        finish_reason=reason,
                    )
                )
            chunk += 1
        return samples

    def _request(
        self, messages: list[dict[str, str]], params: SamplingParams, n: int, seed: int
    ) -> list[tuple[str, str, int]]:
        """(text, finish_reason, num_tokens) per returned choice; at least one."""
        import openai

        try:
            r = self.client.chat.completions.create(
                model=self.model,
                messages=messages,
                n=n,
                temperature=params.temperature,
                top_p=params.top_p,
                max_tokens=params.max_new_tokens,
                seed=seed,
            )
        except openai.APITimeoutError:
            raise GenerationError(
                f"the generation server at {self.base_url} did not answer within "
                f"{self.timeout:g} s; lower --samples/--max-new-tokens or --concurrency"
            ) from None
        except openai.APIConnectionError as e:
            raise _unreachable(self.base_url, e) from None
        except openai.APIStatusError as e:
            raise GenerationError(
                f"the generation server at {self.base_url} answered HTTP {e.status_code}: "
                f"{_error_message(e)}"
            ) from None
        except openai.OpenAIError as e:
            raise GenerationError(
                f"generation request to {self.base_url} failed: {_first_line(e)}"
            ) from None
        answered = getattr(r, "model", None)
        if self.check_model and answered != self.model:
            raise GenerationError(
                f"the generation server at {self.base_url} answered as model '{answered}', not "
                f"'{self.model}': the adapter is no longer loaded (was the server restarted?); "
                "rerun the same command to load it again"
            )
        choices = sorted(r.choices or [], key=lambda c: c.index)
        if not choices:
            raise GenerationError(f"the generation server at {self.base_url} returned no choices")
        texts = [(c.message.content or "") if c.message else "" for c in choices]
        usage = getattr(r, "usage", None)
        total = getattr(usage, "completion_tokens", None) or 0
        tokens = split_tokens(total, [len(t) for t in texts])
        return [
            (t, c.finish_reason or "unknown", k)
            for t, c, k in zip(texts, choices, tokens, strict=True)
        ]


def served_models(base_url: str, *, client: Any = None, timeout: float = 30.0) -> list[str]:
    """Model ids listed by ``GET {base_url}/models``; ``GenerationError`` if unreachable."""
    import openai

    if client is None:
        client = openai.OpenAI(
            base_url=base_url,
            api_key=os.environ.get(API_KEY_ENV) or "none",
            max_retries=1,
            timeout=timeout,
        )
    try:
        return [m.id for m in client.models.list().data]
    except openai.APIConnectionError as e:
        raise _unreachable(base_url, e) from None
    except openai.APIStatusError as e:
        raise GenerationError(
            f"the generation server at {base_url} answered HTTP {e.status_code} to "
            f"GET /models: {_error_message(e)}; pass the model name with --model"
        ) from None


class LoraAdapters:
    """Load and unload LoRA adapters in a running server through vLLM's runtime LoRA API.

    ``POST {base_url}/load_lora_adapter {"lora_name", "lora_path"}`` and
    ``POST {base_url}/unload_lora_adapter {"lora_name"}``; vLLM answers 200 with a plain-text
    "Success: ..." and errors as JSON. vLLM serves these routes only when started with
    ``--enable-lora`` and ``VLLM_ALLOW_RUNTIME_LORA_UPDATING=True``; ``halo-forge serve`` always.
    The path is read by the server: it must see the same file system.
    """

    def __init__(self, base_url: str, *, timeout: float = 300.0, transport: Any = None):
        import httpx

        self.base_url = base_url.rstrip("/")
        key = os.environ.get(API_KEY_ENV)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers, transport=transport)

    def load(self, name: str, path: str) -> None:
        """Load ``path`` as ``name``; an adapter of that name already there (an earlier run
        that was stopped) is replaced. ``GenerationError`` (one line, with a hint) otherwise."""
        status, message = self._post("load_lora_adapter", {"lora_name": name, "lora_path": path})
        if status == 400 and "already" in message.lower():
            self._post("unload_lora_adapter", {"lora_name": name})
            status, message = self._post(
                "load_lora_adapter", {"lora_name": name, "lora_path": path}
            )
        if status >= 300:
            raise GenerationError(
                f"the server at {self.base_url} did not load the adapter {path} (POST "
                f"/load_lora_adapter answered HTTP {status}: {message}); {LORA_HINT}"
            )

    def unload(self, name: str) -> str | None:
        """Unload ``name``; returns a warning to show when that failed (never raises)."""
        try:
            status, message = self._post("unload_lora_adapter", {"lora_name": name})
        except GenerationError as e:
            return str(e)
        if status >= 300:
            return (
                f"the server at {self.base_url} did not unload the adapter {name} "
                f"(HTTP {status}: {message})"
            )
        return None

    def close(self) -> None:
        self._client.close()

    def _post(self, route: str, body: dict[str, str]) -> tuple[int, str]:
        import httpx

        url = f"{self.base_url}/{route}"
        try:
            r = self._client.post(url, json=body)
        except httpx.TimeoutException:
            raise GenerationError(
                f"the server at {self.base_url} did not answer POST /{route} in time"
            ) from None
        except httpx.HTTPError as e:
            raise _unreachable(self.base_url, e) from None
        return r.status_code, _body_message(r.text)


LORA_HINT = (
    "start vLLM with --enable-lora --max-lora-rank R (R >= the LoRA rank) and "
    "VLLM_ALLOW_RUNTIME_LORA_UPDATING=True, on a machine that sees this path; or pass "
    "--no-load-adapters to sample the server's own model every cycle"
)


def _body_message(text: str) -> str:
    """The message of a JSON error body (OpenAI's, vLLM's flat one, FastAPI's ``detail``),
    else the text's first line."""
    import json

    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            for key in ("message", "detail"):
                if isinstance(err.get(key), str):
                    return _first_line(Exception(err[key]))
        if isinstance(err, str):
            return _first_line(Exception(err))
    if isinstance(body, str):
        return _first_line(Exception(body))
    return _first_line(Exception(text)) if text.strip() else "(empty response)"


def split_tokens(total: int, lengths: list[int]) -> list[int]:
    """``total`` split in proportion to ``lengths`` (largest remainder), summing to ``total``."""
    if not lengths:
        return []
    weight = sum(lengths)
    if weight == 0:
        base, extra = divmod(total, len(lengths))
        return [base + (i < extra) for i in range(len(lengths))]
    exact = [total * n / weight for n in lengths]
    out = [int(x) for x in exact]
    order = sorted(range(len(lengths)), key=lambda i: exact[i] - out[i], reverse=True)
    for i in order[: total - sum(out)]:
        out[i] += 1
    return out


def _unreachable(base_url: str, e: BaseException) -> GenerationError:
    """Connection refused, DNS failure, timeout: the cause (e.g. ``[Errno 111] Connection
    refused``) sits in ``__cause__``; the openai error itself only says "Connection error."."""
    return GenerationError(
        f"cannot reach the generation server at {base_url} ({_first_line(e.__cause__ or e)}); "
        "is it running? (e.g. halo-forge serve --port 8000)"
    )


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _error_message(e: Any) -> str:
    """The server's own message from an OpenAI-style error body, else the first line."""
    body = getattr(e, "body", None)
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict) and err.get("message"):
            return _first_line(Exception(err["message"]))
        if isinstance(err, str):
            return _first_line(Exception(err))
    return _first_line(e)
