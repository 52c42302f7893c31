"""Record a diffusers dLLM pipeline as it decodes, as hexviz runs.

``LLaDA2Pipeline`` (with ``BlockRefinementScheduler``) hands its ``callback_on_step_end`` the
current window ``block_x`` and what the step did to its last block; `DiffusersRecorder` is such
a callback. It keeps each row's answer canvas and logs what changed at each step (a mask that
took a token: a commit, with the scheduler's sampled probability; a token replaced: an edit),
with the sampled tokens at the block's masks as the step's drafts. What the pipeline does not
hand out is left empty, and the run's ``source`` says so: the drafts outside the current block,
the end-token density, HEX's one-step likelihood.

    rec = DiffusersRecorder(prompt_length=ids.shape[1], gen_length=256, block_length=32,
                            mask_id=mask_id)
    pipe(input_ids=ids, gen_length=256, block_length=32, callback_on_step_end=rec,
         callback_on_step_end_tensor_inputs=rec.tensor_inputs)
    run = rec.runs(tokenizer, ids.tolist(), eos_id=..., threshold=..., editing_threshold=...,
                   steps=...)[0]  # the pipeline's settings: its num_inference_steps per block

Torch tensors are only read (``.tolist()``), so this module imports neither torch nor diffusers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from hexviz.models.tokens import SpecialTokens, answer_text
from hexviz.policy.settings import DecodeConfig, Expert
from hexviz.runs import events as ev
from hexviz.runs.events import COMMIT, EDIT, Event, EventLog
from hexviz.runs.record import Run, Timing, Trajectory, with_wall_flags
from hexviz.tasks.answers import get_extractor

NOT_RECORDED = ("drafts outside the current block", "end-token density",
                "one-step log-likelihood")


@dataclass
class RowLog:
    """One batch row: its answer canvas, events and per-step drafts."""

    canvas: list[int]
    events: list[Event] = field(default_factory=list)
    drafts: list[dict[int, tuple[int, float]]] = field(default_factory=list)


class DiffusersRecorder:
    """A ``callback_on_step_end`` for diffusers' ``LLaDA2Pipeline`` that records every step."""

    tensor_inputs = ["block_x", "transfer_index", "editing_transfer_index", "sampled_tokens",
                     "sampled_probs"]

    def __init__(self, prompt_length: int, gen_length: int, block_length: int,
                 mask_id: int) -> None:
        self.prompt_length, self.gen_length = prompt_length, gen_length
        self.block_length, self.mask_id = block_length, mask_id
        self.rows: list[RowLog] = []
        self.steps = 0
        self.transfers: list[int] = []  # the scheduler's commits + edits at each step, all rows
        self.times: list[float] = []  # when each step was handed over

    def __call__(self, pipe: Any, step: int, timestep: int, kwargs: dict) -> dict:
        self.times.append(time.perf_counter())
        block_x = kwargs["block_x"]
        window = block_x.shape[1]
        block = block_x[:, window - self.block_length:].tolist()
        sampled, probs = kwargs["sampled_tokens"].tolist(), kwargs["sampled_probs"].tolist()
        if not self.rows:
            self.rows = [RowLog([self.mask_id] * self.gen_length) for _ in block]
        transfer = kwargs["transfer_index"] | kwargs["editing_transfer_index"]
        self.transfers.append(int(transfer.sum()))
        first = window - self.block_length - self.prompt_length  # the block's answer position
        for row, tokens, drawn, p in zip(self.rows, block, sampled, probs, strict=True):
            self._record(row, step, first, tokens, drawn, p)
        self.steps = step + 1
        return {}

    def _record(self, row: RowLog, step: int, first: int, tokens: list[int], drawn: list[int],
                probs: list[float]) -> None:
        drafts = {}
        for i, token in enumerate(tokens):
            position = first + i
            if not 0 <= position < self.gen_length:  # the prompt, or the block-aligned tail
                continue
            old = row.canvas[position]
            if old == self.mask_id:
                drafts[position] = (drawn[i], probs[i])
            if token == old:
                continue
            kind = COMMIT if old == self.mask_id else EDIT
            row.events.append(Event(step, kind, position, token,
                                    old if kind == EDIT else ev.NO_TOKEN, prob=probs[i]))
            row.canvas[position] = token
        row.drafts.append(drafts)

    def runs(self, tokenizer: Any, prompt_ids: list[list[int]], *, eos_id: int | None,
             threshold: float, editing_threshold: float | None, steps: int,
             max_post_steps: int = 16, model: str = "diffusers LLaDA2Pipeline", answer_format: str = "gsm8k",
             question: list[str] | None = None) -> list[Run]:
        """One hexviz `Run` per batch row, as the pipeline decoded it with ``threshold``,
        ``editing_threshold``, ``max_post_steps`` and ``steps`` per block (its
        ``num_inference_steps``): hexviz's ``bounded`` sampler with editing."""
        blocks = -(-self.gen_length // self.block_length)
        editing = editing_threshold if editing_threshold and editing_threshold > 0 else None
        config = DecodeConfig(self.gen_length, min(steps * blocks, self.gen_length),
                              sampler=f"bounded:{threshold}", edit=editing,
                              max_gen_length=max(self.gen_length, 1024),
                              edit_post_steps=max_post_steps if editing else 0)
        special = SpecialTokens(self.mask_id, eos_id, None)
        expert = Expert(self.block_length)
        runs = []
        for r, row in enumerate(self.rows):
            t = self._trajectory(row, expert, tokenizer, special, answer_format)
            runs.append(Run(
                model=model, prompt=question[r] if question else tokenizer.decode(prompt_ids[r]),
                prompt_ids=list(prompt_ids[r]), config=config, special=special,
                answer_format=answer_format, trajectories=[with_wall_flags(t, special.end_ids,
                                                                            config)],
                timing=Timing(self.seconds, self.steps * len(self.rows),
                              tuple([len(self.rows)] * self.steps)),
                steps_done=self.steps, vocab_size=getattr(tokenizer, "vocab_size", None),
                source={"recorded_by": "hexviz.imports.diffusers.DiffusersRecorder",
                        "pipeline": model, "not_recorded": list(NOT_RECORDED)}))
        return runs

    @property
    def seconds(self) -> float:
        """From the first step's hand-over to the last's: the decode less its first step."""
        return self.times[-1] - self.times[0] if self.times else 0.0

    def _trajectory(self, row: RowLog, expert: Expert, tokenizer: Any, special: SpecialTokens,
                    answer_format: str) -> Trajectory:
        log = EventLog.of(self.gen_length, row.events)
        ids = ev.final_canvas(log, self.mask_id).ids.tolist()
        drafts = np.full((self.steps, self.gen_length), -1, dtype=np.int64)
        draft_prob = np.full((self.steps, self.gen_length), np.nan, dtype=np.float32)
        for step, at in enumerate(row.drafts):
            for position, (token, prob) in at.items():
                drafts[step, position], draft_prob[step, position] = token, prob
        text = answer_text(tokenizer, [i for i in ids if i != self.mask_id], special.end_ids)
        edits = ev.edit_table(log)
        return Trajectory.from_events(
            expert=expert, log=log, mask_id=self.mask_id, steps_taken=self.steps,
            tokens=[tokenizer.decode([i]) for i in ids], draft_ids=drafts, draft_prob=draft_prob,
            text=text, answer=get_extractor(answer_format)(text),
            collapsed=False,  # read off the arrays by `with_wall_flags`
            end_fraction=float(np.isin(ids, special.end_ids).mean()),
            edit_texts=[(tokenizer.decode([o]), tokenizer.decode([n]))
                        for o, n in edits[:, 2:].tolist()])
