"""The decode loop for canvases that grow and shrink: DAEDAL and rho-EOS, every expert in one
batch.

Each batch row is one (prompt, expert) pair with a canvas of its own length (at most the run's
``gen_length``). At every step one forward pass computes the rows that are not finished, each
row's canvas right-padded to the longest and the padding masked out of attention (rows that are
equal computed once, as the fixed loop does). Each row then does what the authors' ``generate``
does for one sequence (`hexviz.policy.length`): commits inside its current block, and grows or
cuts its canvas; what it did is logged as events (`hexviz.runs.events`). A row is finished
when its last block is full, or when a step changes nothing (the authors' stagnation stop).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch

from hexviz import limits
from hexviz.decode.step import (
    Batch,
    Decoded,
    StepProgress,
    add_gumbel_noise,
    shared_logits,
    step_generator,
)
from hexviz.models.wrapper import DiffusionLM
from hexviz.policy.length import (
    LengthConfig,
    density_action,
    masked_eos_density,
    position_to_expand,
    positions_to_fill,
    tail_eos_confidence,
)
from hexviz.policy.settings import DecodeConfig, Expert
from hexviz.runs.events import COMMIT, DELETE, INSERT, Event, EventLog
from hexviz.runs.record import Timing


@dataclass
class Row:
    """One expert's canvas and where it stands."""

    expert: Expert
    ids: list[int]  # the canvas, mask_id where masked
    growing: bool  # DAEDAL's first stage: the all-mask canvas grows before denoising
    start: int = 0  # where the current block starts (the authors' current_pos)
    finished: bool = False
    initial_length: int = 0
    events: list[Event] = field(default_factory=list)
    steps_taken: int = 0

    def log(self, *events: Event) -> None:
        self.events.extend(events)


def _insert(row: Row, step: int, position: int, count: int, mask_id: int) -> None:
    row.ids[position:position] = [mask_id] * count
    row.log(Event(step, INSERT, position, count=count))


def _cut(row: Row, step: int, length: int) -> None:
    """Remove the canvas's positions from ``length`` on."""
    if length < len(row.ids):
        row.log(Event(step, DELETE, length, count=len(row.ids) - length))
        del row.ids[length:]


def _commit(row: Row, step: int, position: int, token: int, prob: float) -> None:
    row.ids[position] = token
    row.log(Event(step, COMMIT, position, token, prob=prob))


def _advance(row: Row, mask_id: int, by_block: bool) -> None:
    """Move the block start past full blocks: by the block size (DAEDAL) or to the end of the
    full block (rho-EOS; they differ only at the canvas's end)."""
    size = row.expert.block_length
    while row.start < len(row.ids):
        end = min(row.start + size, len(row.ids))
        if mask_id in row.ids[row.start:end]:
            return
        row.start = row.start + size if by_block else end


def grow_step(row: Row, step: int, eos_conf: float, config: LengthConfig, gen_length: int,
              mask_id: int, eos_id: int) -> None:
    """DAEDAL's first stage, one forward: append ``expansion_factor`` masks while the tail's
    end-of-text confidence is below ``eos_confidence_threshold``; then end the stage with
    ``eos_check_tokens / 2`` end tokens after the masks (within the maximum)."""
    length = len(row.ids)
    if bool(torch.tensor([eos_conf]) < config.eos_confidence_threshold) and length < gen_length:
        _insert(row, step, length, min(length + config.expansion_factor, gen_length) - length,
                mask_id)
        return
    row.growing = False
    padded = min(length + config.eos_check_tokens // 2, gen_length)
    if padded > length:
        _insert(row, step, length, padded - length, mask_id)
        for position in range(length, padded):
            _commit(row, step, position, eos_id, float("nan"))


def denoise_step(row: Row, step: int, pred: torch.Tensor, conf: torch.Tensor,
                 logits: torch.Tensor, eos_conf: float, config: LengthConfig, gen_length: int,
                 mask_id: int) -> None:
    """One step of DAEDAL's second stage or of rho-EOS on one canvas (``pred``, ``conf``,
    ``logits`` cover its positions): commit in the current block, then insert (DAEDAL) or grow
    or cut the tail (rho-EOS)."""
    length = len(row.ids)
    ids = torch.tensor(row.ids)
    positions = torch.arange(length)
    block = (positions >= row.start) & (positions < min(row.start + row.expert.block_length,
                                                        length))
    eligible = block & (ids == mask_id)
    pred = pred.clone()
    fill = positions_to_fill(pred, conf, logits, eligible, config.high_conf_threshold, mask_id)
    before = list(row.ids)
    daedal = config.mode == "daedal"
    expand_at = None
    if daedal and length < gen_length and not bool(
            torch.tensor([eos_conf]) >= config.expand_eos_confidence_threshold):
        expand_at = position_to_expand(conf, eligible, fill, config.low_conf_threshold)
    for position in fill.nonzero().flatten().tolist():
        _commit(row, step, position, int(pred[position]), float(conf[position]))
    if daedal:
        if expand_at is not None:  # the mask becomes expansion_factor masks, the tail cut
            _insert(row, step, expand_at, config.expansion_factor - 1, mask_id)
            _cut(row, step, min(length + config.expansion_factor - 1, gen_length))
        _advance(row, mask_id, by_block=True)
    else:
        _advance(row, mask_id, by_block=False)
        density = torch.tensor([eos_conf])
        if length >= gen_length or step + 1 > config.max_adjust_steps:  # denoise only
            density = density.clamp(config.low_density_threshold, config.high_density_threshold)
        count, action = density_action(density, config)
        if action > 0:
            _insert(row, step, length, min(length + count, gen_length) - length, mask_id)
        elif action < 0:
            _cut(row, step, max(length - count, 0))
            row.start = min(row.start, len(row.ids))
    if row.ids == before:  # the authors' stagnation stop
        row.finished = True
    row.finished = row.finished or row.start >= len(row.ids)


@dataclass(frozen=True)
class Forward:
    """What the rows' forward pass gave each row: its canvas's slice of these (R, W) tensors
    (W the longest canvas), and its logits (R, W, V)."""

    pred: torch.Tensor  # the proposal: argmax, of Gumbel-noised logits above temperature 0
    conf: torch.Tensor  # its probability
    greedy: torch.Tensor  # the plain argmax, which the end-of-text signal reads
    p_end: torch.Tensor  # the end-of-text token's probability
    end_mass: torch.Tensor  # every end token's probability together (the end pressure)
    logits: torch.Tensor
    rows_computed: int
    positions: int  # canvas positions computed (rows x their padded width)


def _forward(lm: DiffusionLM, batch: Batch, rows: list[Row], indices: list[int],
             generators: list[torch.Generator], eos_id: int) -> Forward:
    """The model on each listed row's prompt and canvas: prompts left-padded, canvases
    right-padded, padding masked out of attention."""
    width = max(len(p) for p in batch.prompts)
    longest = max(len(rows[r].ids) for r in indices)
    pad_id = lm.tokenizer.pad_token_id if lm.tokenizer.pad_token_id is not None else 0
    x = torch.full((len(indices), width + longest), pad_id, dtype=torch.long)
    attention = torch.zeros_like(x)
    experts = len(batch.experts)
    for i, r in enumerate(indices):
        prompt, canvas = batch.prompts[r // experts], rows[r].ids
        lo = width - len(prompt)
        x[i, lo:width] = torch.tensor(prompt, dtype=torch.long)
        x[i, width:width + len(canvas)] = torch.tensor(canvas, dtype=torch.long)
        attention[i, lo:width + len(canvas)] = 1
    x, attention = x.to(lm.device), attention.to(lm.device)
    logits, computed = shared_logits(lm, x, attention, longest)
    logits = logits.float()
    greedy = logits.argmax(-1)
    pred = greedy.clone()
    for i, r in enumerate(indices):  # as the authors: argmax of noisy logits, greedy at T = 0
        if rows[r].expert.temperature > 0:
            pred[i] = add_gumbel_noise(logits[i], rows[r].expert.temperature,
                                       generators[i]).argmax(-1)
    probs = torch.softmax(logits, dim=-1)
    conf = probs.gather(-1, pred.unsqueeze(-1)).squeeze(-1)
    end_ids = torch.tensor(lm.end_ids, dtype=torch.long, device=logits.device)
    return Forward(pred.cpu(), conf.cpu(), greedy.cpu(), probs[..., eos_id].cpu(),
                   probs[..., end_ids].sum(-1).cpu(), logits.cpu(), computed,
                   computed * x.shape[1])


class Recorder:
    """Drafts and end pressure by step, by position on that step's canvas."""

    def __init__(self, rows: int, gen_length: int, steps: int) -> None:
        self.draft_ids = np.full((rows, steps, gen_length), -1, dtype=np.int64)
        self.draft_prob = np.full((rows, steps, gen_length), np.nan, dtype=np.float32)
        self.end_density = np.full((rows, steps), np.nan, dtype=np.float32)
        self.step_rows: list[int] = []
        self.positions = 0

    def record(self, row: int, step: int, canvas: list[int], mask_id: int, f: Forward,
               i: int) -> None:
        masked = np.array(canvas) == mask_id
        n = len(canvas)
        self.draft_ids[row, step, :n] = np.where(masked, f.pred[i, :n].numpy(), -1)
        self.draft_prob[row, step, :n] = np.where(masked, f.conf[i, :n].numpy(), np.nan)
        if masked.any():
            self.end_density[row, step] = float(f.end_mass[i, :n].numpy()[masked].mean())


def iter_decode_canvas(lm: DiffusionLM, prompts: Sequence[Sequence[int]],
                       experts: Sequence[Expert], config: DecodeConfig) -> Iterator[StepProgress]:
    """Decode every expert on every prompt with a growing canvas (``config.length``), yielding
    `StepProgress` after each step."""
    if not prompts or not experts:
        raise ValueError("decoding needs at least one prompt and one expert")
    for expert in experts:
        config.check(expert)
    length = config.length
    batch = Batch([list(map(int, p)) for p in prompts], list(experts), config)
    limits.check_context(max(len(p) for p in batch.prompts), config.gen_length, lm.max_length)
    # The authors read the tokenizer's eos token: LLaDA's <|endoftext|>, its AfterEoT padding
    eos_id = lm.special.end_of_text_id
    if eos_id is None:
        raise ValueError(f"--length {length.mode} needs the model's end-of-text token, and "
                         f"this tokenizer has none")
    cap, mask_id = config.step_cap, lm.mask_id
    rows = [Row(e, [mask_id] * length.initial_length, growing=length.mode == "daedal",
                initial_length=length.initial_length) for _, e in batch.rows]
    recorder = Recorder(len(rows), config.gen_length, cap)
    tic = time.perf_counter()

    def snapshot() -> Decoded:
        return snapshot_of(batch, rows, recorder, lm, time.perf_counter() - tic)

    for step in range(cap):
        live = [r for r, row in enumerate(rows) if not row.finished]
        if not live:
            break
        generators = [step_generator(rows[r].expert.seed, step, lm.device) for r in live]
        f = _forward(lm, batch, rows, live, generators, eos_id)
        recorder.step_rows.append(f.rows_computed)
        recorder.positions += f.positions
        for i, r in enumerate(live):
            row, n = rows[r], len(rows[r].ids)
            recorder.record(r, step, row.ids, mask_id, f, i)
            eos_conf = tail_eos_confidence(f.greedy[i, :n], f.p_end[i, :n], eos_id,
                                           length.eos_check_tokens)
            if length.eos_signal == "density":  # rho-eos only (`LengthConfig`)
                eos_conf = masked_eos_density(f.greedy[i, :n], torch.tensor(row.ids) == mask_id,
                                              eos_id)
            if row.growing:
                grow_step(row, step, eos_conf, length, config.gen_length, mask_id, eos_id)
            else:
                denoise_step(row, step, f.pred[i, :n], f.conf[i, :n], f.logits[i, :n],
                             eos_conf, length, config.gen_length, mask_id)
            row.steps_taken = step + 1
        yield StepProgress(step + 1, cap, snapshot)


def snapshot_of(batch: Batch, rows: list[Row], recorder: Recorder, lm: DiffusionLM,
                seconds: float) -> Decoded:
    """The record so far, each row's final canvas padded to gen_length for the shared arrays;
    the rows' event logs are what `assemble` reads."""
    width = batch.config.gen_length
    token_ids = np.full((len(rows), width), lm.mask_id, dtype=np.int64)
    for r, row in enumerate(rows):
        token_ids[r, :len(row.ids)] = row.ids
    logs = [EventLog.of(row.initial_length, row.events) for row in rows]
    steps_taken = np.array([row.steps_taken for row in rows], dtype=np.int32)
    steps_done = int(steps_taken.max(initial=0))
    timing = Timing(seconds, sum(recorder.step_rows), tuple(recorder.step_rows),
                    recorder.positions)
    nan = np.full((len(rows), width), np.nan, dtype=np.float32)
    return Decoded(batch.prompts, batch.experts, batch.config, token_ids,
                   np.full((len(rows), width), -1, dtype=np.int32), nan,
                   recorder.draft_ids, recorder.draft_prob, recorder.end_density,
                   np.zeros((len(rows), 0), dtype=np.int32), [[] for _ in rows], steps_taken,
                   steps_done, timing, None, events=logs)

