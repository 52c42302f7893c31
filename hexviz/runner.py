"""The app's engine side: a `RunRequest` in, a stream of `Run` snapshots out.

The UI receives a runner as an argument (``build_demo(runner=...)``) and never decodes itself;
tests pass a fake runner. `LocalRunner` loads models lazily, caches them, and lists only the
models the operator enabled.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from hexviz.config import DecodeConfig, baseline_experts, hex_experts
from hexviz.evaluate import EvalResults, eval_experts, evaluate, read_problems
from hexviz.trajectory import Run

BUILTIN_LABEL = "built-in tinygsm dLLM (CPU)"
EXTRA_MODELS_ENV = "HEXVIZ_MODELS"  # comma-separated ids/paths the operator enables
TRUST_REMOTE_CODE_ENV = "HEXVIZ_TRUST_REMOTE_CODE"
WARM_UP_PROMPT = "Tom has 5 apples. He buys 3 more. How many apples does Tom have now?"


@dataclass(frozen=True)
class RunRequest:
    """Everything the Explore view sends to the engine."""

    prompt: str
    model: str = BUILTIN_LABEL
    blocks: tuple[int, ...] | None = None  # None: the HEX set for gen_length
    remasking: str = "low_confidence"
    gen_length: int | None = None  # None: the model's default
    steps: int | None = None  # None: gen_length
    temperature: float = 0.0
    seeds: int = 1
    forbid_end_of_text: bool = False
    end_tokens_last: bool = False
    baselines: bool = True


def operator_models() -> dict[str, str]:
    """Picker label -> model id: the built-in model, plus what ``HEXVIZ_MODELS`` enables."""
    extra = [m.strip() for m in os.environ.get(EXTRA_MODELS_ENV, "").split(",") if m.strip()]
    return {BUILTIN_LABEL: "builtin", **{m: m for m in extra}}


class LocalRunner:
    """Decodes in this process; models load on first use and stay cached."""

    def __init__(self, models: dict[str, str] | None = None, trust_remote_code: bool | None = None,
                 snapshot_every: int = 8) -> None:
        self.models = models or operator_models()
        if trust_remote_code is None:
            trust_remote_code = os.environ.get(TRUST_REMOTE_CODE_ENV) == "1"
        self.trust_remote_code = trust_remote_code
        self.snapshot_every = snapshot_every
        self._cache: dict[str, object] = {}
        self._lock = threading.Lock()
        self._loading: set[str] = set()

    def model_labels(self) -> list[str]:
        return list(self.models)

    def _model(self, label: str):
        from hexviz import models

        if label not in self.models:
            raise ValueError(f"unknown model {label!r}; this app offers {', '.join(self.models)}")
        with self._lock:  # one load per model, even when two users ask at once
            if label not in self._cache:
                self._cache[label] = models.load(self.models[label],
                                                 trust_remote_code=self.trust_remote_code)
            return self._cache[label]

    def preload(self, label: str | None = None) -> threading.Thread:
        """Load ``label`` (default: the first model) and decode one step in a background
        thread, so the UI is up at once and the first Run finds the model and kernels warm.
        A Run that arrives earlier waits on the load lock (`is_loading` says so)."""
        label = label or next(iter(self.models))
        self._loading.add(label)
        thread = threading.Thread(target=self._warm, args=(label,), daemon=True,
                                  name=f"hexviz-preload-{label}")
        thread.start()
        return thread

    def _warm(self, label: str) -> None:
        try:
            # The class's own run: on ZeroGPU the instance's is a GPU call, not for start-up.
            runs = LocalRunner.run(self, RunRequest(WARM_UP_PROMPT, model=label))
            next(runs)  # step 1: tokenizer, forward kernels, snapshot path
            runs.close()
        except Exception:  # noqa: BLE001 - the Run that needs this model reports the error
            pass
        finally:
            self._loading.discard(label)

    def is_loading(self, label: str) -> bool:
        """Whether `preload` is still loading or warming ``label``."""
        return label in self._loading

    def default_gen_length(self, label: str) -> int:
        return self._model(label).defaults.gen_length

    def run(self, request: RunRequest) -> Iterator[Run]:
        """Yield a partial run after step 1 (a first figure at once), then every
        ``snapshot_every`` steps, then the finished run."""
        from hexviz.engine import iter_decode

        if not request.prompt.strip():
            raise ValueError("the prompt is empty: type a question or pick an example")
        lm = self._model(request.model)
        gen_length = request.gen_length or lm.defaults.gen_length
        steps = request.steps or gen_length
        config = DecodeConfig(gen_length, steps, request.forbid_end_of_text,
                              request.end_tokens_last)
        blocks = list(request.blocks) if request.blocks else None
        experts = hex_experts(gen_length, blocks, request.remasking, request.seeds,
                              request.temperature)
        if request.baselines:
            experts += baseline_experts(gen_length, [request.remasking, "margin"],
                                        request.temperature)
        prompt_ids = lm.format_prompt(request.prompt)
        for progress in iter_decode(lm, [prompt_ids], experts, config,
                                    prompt_texts=[request.prompt]):
            if (progress.step in (1, progress.steps)
                    or progress.step % self.snapshot_every == 0):
                yield progress.runs()[0]

    def evaluate(self, model: str, problems: int, seeds: int, temperature: float,
                 on_progress: Callable[[int, int], None] | None = None) -> EvalResults:
        """A small live eval on the built-in test set (the Scaling tab)."""
        from hexviz.train.task import TEST_SET

        lm = self._model(model)
        config = DecodeConfig(lm.defaults.gen_length, lm.defaults.steps)
        experts = eval_experts(config.gen_length, None, "low_confidence", seeds, temperature)
        data = read_problems(TEST_SET, problems)
        done = 0

        def step(n: int) -> None:
            nonlocal done
            done += n
            if on_progress:
                on_progress(done, len(data))

        return evaluate(lm, data, experts, config, batch_size=4, data=str(TEST_SET),
                        on_batch=step)
