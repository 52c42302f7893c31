"""dVoting's rounds (`hexviz.policy.strategies`): one question decoded several times in turn,
each round an expert of the run.

A round commits block by block, as the authors' ``generate_entropy_adaptive`` does: at each
step every masked position of the first unfinished block whose entropy is below the threshold;
when none is, the one of least entropy (once a step); a block that fills lets the step go on to
the next one. Later rounds start from the previous round's canvas with every position on which
the rounds so far disagree re-masked (logged as ``remask`` events at their step 0), and sampling
stops once the answers agree (`answers_settled`). One prompt at a time, one row per forward
pass, as the authors decode (batch size 1).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence

import numpy as np
import torch

from hexviz import limits
from hexviz.decode.likelihood import one_step_log_likelihood
from hexviz.decode.step import Decoded, StepProgress, add_gumbel_noise, step_generator
from hexviz.models.wrapper import DiffusionLM
from hexviz.policy.settings import DecodeConfig, Expert
from hexviz.policy.strategies import answers_settled, consensus
from hexviz.runs.events import COMMIT, REMASK, Event, EventLog
from hexviz.runs.record import Timing

ENTROPY_EPSILON = 1e-12  # the authors' log(p + 1e-12)


def entropy_of(logits: torch.Tensor) -> torch.Tensor:
    """(L,) entropy of each position's distribution, as the authors compute it (float64)."""
    p = torch.softmax(logits.double(), dim=-1)
    return -(p * torch.log(p + ENTROPY_EPSILON)).sum(-1)


def entropy_commits(masked: torch.Tensor, entropy: torch.Tensor, block_length: int,
                    threshold: float) -> list[int]:
    """Positions one step commits, in order: in the first block with a mask, every masked
    position whose entropy is below ``threshold``, or (once a step) the masked one of least
    entropy; while a block fills, on into the next (``generate_entropy_adaptive``'s loop)."""
    left = masked.clone()  # masks as the step's commits leave them
    committed: list[int] = []
    guard = True
    for start in range(0, len(masked), block_length):
        block = slice(start, start + block_length)
        if not masked[block].any():
            continue
        if left[:start].any():
            break
        chosen = (entropy[block] < threshold) & masked[block]
        if not chosen.any() and guard:
            confidence = torch.where(masked[block], -entropy[block], -torch.inf)
            position = start + int(confidence.argmax())
            committed.append(position)
            left[position], guard = False, False
            continue  # the next block with a mask stops the step unless this one filled
        positions = (start + chosen.nonzero().squeeze(-1)).tolist()
        committed += positions
        left[positions] = False
        if left[block].any():
            break
    return committed


class RoundRecord:
    """One round's events, drafts and end pressure as it decodes."""

    def __init__(self, expert: Expert, gen_length: int) -> None:
        self.expert = expert
        self.events: list[Event] = []
        self.drafts: list[np.ndarray] = []
        self.draft_prob: list[np.ndarray] = []
        self.end_density: list[float] = []
        self.gen_length = gen_length

    @property
    def steps(self) -> int:
        return len(self.drafts)


def start_canvas(rounds: list[RoundRecord], finals: list[np.ndarray], number: int,
                 fresh: int, mask_id: int, length: int) -> tuple[np.ndarray, list[Event]]:
    """Round ``number``'s first canvas and the events that make it from an all-mask one: the
    previous round's tokens committed, then the positions the rounds disagree on re-masked."""
    if number <= fresh or not finals:
        return np.full(length, mask_id, dtype=np.int64), []
    previous, kept = finals[-1], consensus(np.stack(finals), mask_id)
    events = [Event(0, COMMIT, p, int(t)) for p, t in enumerate(previous.tolist())]
    events += [Event(0, REMASK, p, old=int(previous[p])) for p in range(length)
               if kept[p] == mask_id]
    return kept, events


def iter_decode_rounds(lm: DiffusionLM, prompt: Sequence[int], experts: Sequence[Expert],
                       config: DecodeConfig, answer_of: Callable[[list[int]], str | None]
                       ) -> Iterator[StepProgress]:
    """dVoting on one prompt: ``experts`` are its rounds in order (`Expert.round`), decoded in
    turn until the answers settle; yields `StepProgress` after every step."""
    strategy, L, mask_id = config.strategy, config.gen_length, lm.mask_id
    limits.check_context(len(prompt), L, lm.max_length)
    for expert in experts:
        config.check(expert)
    prompt = [int(i) for i in prompt]
    end_ids = torch.tensor(lm.end_ids, dtype=torch.long, device=lm.device)
    done: list[RoundRecord] = []
    finals: list[np.ndarray] = []
    answers: list[str | None] = []
    first_logits = None
    tic, steps_done, step_rows = time.perf_counter(), 0, []

    def snapshot(current: RoundRecord | None = None, canvas: np.ndarray | None = None):
        records = done + ([current] if current is not None else [])
        canvases = finals + ([canvas] if canvas is not None else [])
        return snapshot_of(lm, prompt, config, records, canvases, first_logits,
                           Timing(time.perf_counter() - tic, sum(step_rows), tuple(step_rows),
                                  sum(step_rows) * (len(prompt) + L)))

    for number, expert in enumerate(experts, 1):
        if number > 2 and answers_settled(answers, strategy.rounds):
            break
        record = RoundRecord(expert, L)
        canvas, record.events = start_canvas(done, finals, number, strategy.fresh_rounds(),
                                             mask_id, L)
        for step in range(L):
            masked = torch.from_numpy(canvas == mask_id)
            if not masked.any():
                break
            x = torch.tensor([prompt + canvas.tolist()], device=lm.device)
            logits = lm.logits(x, torch.ones_like(x), L)[0].float()  # (L, V)
            if first_logits is None:
                first_logits = logits[None].clone()
            entropy = entropy_of(logits).cpu()  # the authors' raw logits, [MASK] included
            logits[:, mask_id] = -torch.inf  # a revealed position must not stay [MASK]
            probs = torch.softmax(logits, -1)
            draft_prob, draft_id = probs.max(-1)
            proposals = draft_id
            if expert.temperature > 0:
                noise = step_generator(expert.seed, steps_done, lm.device)
                proposals = add_gumbel_noise(logits, expert.temperature, noise).argmax(-1)
            chosen_prob = probs.gather(-1, proposals[:, None])[:, 0].cpu()
            proposals = proposals.cpu()
            record.drafts.append(np.where(masked, draft_id.cpu().numpy(), -1))
            record.draft_prob.append(np.where(masked, draft_prob.cpu().numpy(), np.nan))
            p_end = probs[:, end_ids].sum(-1).cpu()
            record.end_density.append(float(p_end[masked].mean()))
            for position in entropy_commits(masked, entropy, expert.block_length,
                                            strategy.entropy_threshold):
                canvas[position] = int(proposals[position])
                record.events.append(Event(step, COMMIT, position, int(proposals[position]),
                                           prob=float(chosen_prob[position])))
            steps_done += 1
            step_rows.append(1)
            yield StepProgress(steps_done, config.step_cap,
                               lambda r=record, c=canvas.copy(): snapshot(r, c))
        done.append(record)
        finals.append(canvas.copy())
        answers.append(answer_of(canvas.tolist()))
    final = snapshot()
    yield StepProgress(steps_done, config.step_cap, lambda: final)


def snapshot_of(lm: DiffusionLM, prompt: list[int], config: DecodeConfig,
                records: list[RoundRecord], canvases: list[np.ndarray],
                first_logits: torch.Tensor | None, timing: Timing) -> Decoded:
    """The rounds so far as a `Decoded` of one prompt whose experts are the rounds begun."""
    L, rows = config.gen_length, len(records)
    steps = max([r.steps for r in records] + [1])
    draft_ids = np.full((rows, steps, L), -1, dtype=np.int64)
    draft_prob = np.full((rows, steps, L), np.nan, dtype=np.float32)
    end_density = np.full((rows, steps), np.nan, dtype=np.float32)
    for i, r in enumerate(records):
        if r.steps:
            draft_ids[i, :r.steps] = np.stack(r.drafts)
            draft_prob[i, :r.steps] = np.stack(r.draft_prob)
            end_density[i, :r.steps] = r.end_density
    token_ids = (np.stack(canvases) if canvases
                 else np.full((0, L), lm.mask_id, dtype=np.int64))
    scores = None
    complete = all((c != lm.mask_id).all() for c in canvases)
    if first_logits is not None and complete and rows:
        tokens = torch.from_numpy(token_ids)[None]  # (1, K, L)
        scores = one_step_log_likelihood(first_logits, tokens)[0].numpy()
    return Decoded([prompt], [r.expert for r in records], config, token_ids,
                   np.full((rows, L), -1, dtype=np.int32),
                   np.full((rows, L), np.nan, dtype=np.float32), draft_ids, draft_prob,
                   end_density, np.zeros((rows, 0), dtype=np.int32), [[] for _ in records],
                   np.array([r.steps for r in records], dtype=np.int32),
                   int(sum(r.steps for r in records)), timing, scores,
                   events=[EventLog.of(L, r.events) for r in records])
