"""The decode loop: LLaDA's semi-autoregressive sampler with every expert in one batch.

Each batch row is one (prompt, expert) pair. At every step one forward pass computes all rows
that still have masks (rows that are equal computed once); each row commits tokens inside its
own current block (a size, a schedule or AdaBlock's: `hexviz.decode.blocks`), which positions
by its remasking rule (`hexviz.policy.rules`) and how many by the run's sampler
(`hexviz.policy.samplers`). With the ``fixed`` sampler every expert takes ``steps`` steps and
the rows advance in lock step (LLaDA's schedule); with the others a block ends as soon as it
has no mask left, so experts finish at different steps, and a finished row costs no further
forward pass (nor one a decided vote stopped). What each step did (`StepOutput`) is recorded as it unmasks
(`Recorder`) and handed out as numpy arrays (`Decoded`): tokens, reveals, drafts and edits,
nothing read into text. `hexviz.decode.assemble` turns them into `Run`s (texts, answers, walls,
the vote); nothing downstream needs torch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from hexviz import limits
from hexviz.decode.blocks import (
    Blocks,
    RowBlock,
    RowBlocks,
    as_blocks,
    editing_finished_blocks,
    post_state_at,
    row_block,
    schedule_counts,
    sized,
)
from hexviz.decode.cache import BlockCache
from hexviz.decode.canvas import iter_decode_canvas
from hexviz.decode.likelihood import one_step_log_likelihood
from hexviz.models.wrapper import DiffusionLM
from hexviz.policy.rules import RULES
from hexviz.policy.samplers import Sampler, edits, line_up, token_entropy
from hexviz.policy.settings import DecodeConfig, Expert, exact_if_uncached
from hexviz.decode.step import (
    Batch,
    Decoded,
    StepProgress,
    add_gumbel_noise,
    shared_logits,
    step_generator,
)
from hexviz.runs.record import Timing, Trajectory
from hexviz.runs.vote import settled

# With `end_tokens_last`, end-token proposals score this much lower than any other proposal, so
# they are revealed only when nothing else is left in the block. Every rule's score lies in
# [-log V, 1], far inside this offset.
END_TOKENS_LAST_OFFSET = 1e4


@dataclass(frozen=True)
class StepOutput:
    """What one step did to the rows it computed: (R, L) tensors unless noted."""

    masked: torch.Tensor  # bool: positions still masked before the step
    draft_id: torch.Tensor  # the model's argmax, recorded where masked
    draft_prob: torch.Tensor  # its probability
    proposal: torch.Tensor  # the token each position would take (argmax or sampled)
    proposal_prob: torch.Tensor  # its probability
    committed: torch.Tensor  # bool: masked positions revealed now
    edited: torch.Tensor  # bool: committed positions whose token was replaced now
    end_density: torch.Tensor  # (R,) mean end-token probability over the masked positions
    rows_computed: int  # rows the forward pass computed (equal rows once)


class Recorder:
    """The trajectory arrays, filled as the loop unmasks; one row per (prompt, expert).

    ``steps`` is the run's step cap: a row's arrays are filled up to its own ``steps_taken``.
    """

    def __init__(self, rows: int, gen_length: int, steps: int, mask_id: int) -> None:
        self.mask_id = mask_id
        self.token_ids = np.full((rows, gen_length), mask_id, dtype=np.int64)
        self.reveal_step = np.full((rows, gen_length), -1, dtype=np.int32)
        self.reveal_conf = np.full((rows, gen_length), np.nan, dtype=np.float32)
        self.draft_ids = np.full((rows, steps, gen_length), -1, dtype=np.int64)
        self.draft_prob = np.full((rows, steps, gen_length), np.nan, dtype=np.float32)
        self.end_density = np.full((rows, steps), np.nan, dtype=np.float32)
        self.commits = np.zeros((rows, steps), dtype=np.int32)  # tokens committed per step
        self.edits: list[list[tuple[int, int, int, int]]] = [[] for _ in range(rows)]
        self.steps_taken = np.zeros(rows, dtype=np.int32)
        self.step_rows: list[int] = []  # rows the forward pass computed, per step
        self.steps_done = 0
        # Post-block editing (`DecodeConfig.edit_post_steps`): the block each row still edits
        # (its start; -1: none) and the post steps it took there
        self.post_block = np.full(rows, -1, dtype=np.int64)
        self.post_taken = np.zeros(rows, dtype=np.int32)
        self.post_ended = np.zeros(rows, dtype=np.int32)  # the step after the last of them
        self.post_end = np.zeros(rows, dtype=np.int64)  # the end of the block it edits
        self.used_blocks = RowBlocks(rows)  # the blocks each row entered
        # A decided vote (`DecodeConfig.decided_vote`): the step after which each row was
        # stopped (-1: not stopped), and the answers of the rows that finished
        self.stopped = np.full(rows, -1, dtype=np.int32)
        self.answers: dict[int, str | None] = {}

    def unfinished(self) -> np.ndarray:
        """Indices of the rows that still have a masked position or a block to edit (and were
        not stopped by a decided vote)."""
        return np.flatnonzero(((self.token_ids == self.mask_id).any(-1) | (self.post_block >= 0))
                              & (self.stopped < 0))

    def block_start_step(self, row: int, start: int) -> int:
        """The step at which ``row`` began the block starting at answer position ``start``:
        the step after everything before it was committed (0 for the first block), or after
        the previous block's editing steps."""
        if start == 0:
            return 0
        return max(int(self.reveal_step[row, :start].max()) + 1, int(self.post_ended[row]))

    def record(self, step: int, rows: np.ndarray, out: StepOutput) -> None:
        """One step of the computed ``rows`` (indices into the batch; ``out`` is theirs)."""
        masked, chosen = out.masked.cpu().numpy(), out.committed.cpu().numpy()
        edited, x0 = out.edited.cpu().numpy(), out.proposal.cpu().numpy()
        chosen_prob = out.proposal_prob.float().cpu().numpy()
        self.end_density[rows, step] = out.end_density.float().cpu().numpy()
        self.draft_ids[rows, step] = np.where(masked, out.draft_id.cpu().numpy(), -1)
        self.draft_prob[rows, step] = np.where(masked, out.draft_prob.float().cpu().numpy(),
                                               np.nan)
        tokens, reveal, conf = self.token_ids[rows], self.reveal_step[rows], self.reveal_conf[rows]
        for i, position in zip(*np.nonzero(edited), strict=True):
            self.edits[rows[i]].append((step, int(position), int(tokens[i, position]),
                                        int(x0[i, position])))
        tokens[chosen | edited] = x0[chosen | edited]
        reveal[chosen] = step
        conf[chosen] = chosen_prob[chosen]
        self.token_ids[rows], self.reveal_step[rows], self.reveal_conf[rows] = tokens, reveal, conf
        self.commits[rows, step] = chosen.sum(-1)
        self.steps_taken[rows] = step + 1
        self.step_rows.append(out.rows_computed)
        self.steps_done = step + 1

    def idle(self, step: int) -> None:
        """A step at which no row had anything left to commit."""
        self.step_rows.append(0)
        self.steps_done = step + 1

    def resume(self, start: Resume, experts: list[Expert], config: DecodeConfig) -> None:
        """Copy each row's history before ``start.step`` (with where it stood in post-block
        editing), then commit the forced tokens."""
        step = start.step
        for r, h in enumerate(start.history):
            kept = (h.reveal_step >= 0) & (h.reveal_step < step)
            self.token_ids[r] = np.where(kept, h.ids_at(step), self.mask_id)
            self.reveal_step[r] = np.where(kept, h.reveal_step, -1)
            self.reveal_conf[r] = np.where(kept, h.reveal_conf, np.nan)
            self.draft_ids[r, :step] = h.draft_ids[:step]
            self.draft_prob[r, :step] = h.draft_prob[:step]
            if len(h.end_density) >= step:  # runs saved before it was recorded have none
                self.end_density[r, :step] = h.end_density[:step]
            self.commits[r, :step] = h.commits[:step]
            self.edits[r] = [tuple(int(v) for v in e) for e in h.edits if e[0] < step]
            self.steps_taken[r] = step
            self.used_blocks.restore(r, h.blocks, h.reveal_step, step)
            if config.edit_post_steps:
                post = post_state_at(step, h.reveal_step, h.commits, h.edits, experts[r], config)
                self.post_block[r], self.post_end[r] = post.start, post.end
                self.post_taken[r], self.post_ended[r] = post.taken, post.ended
            forced = start.forced_at(r)
            if forced is not None:
                position, token = forced
                self.token_ids[r, position] = token
                self.reveal_step[r, position] = step
        self.steps_done = step


@dataclass(frozen=True)
class Resume:
    """A what-if fork: decoding that starts from a recorded partial canvas, not all masks.

    After ``step`` steps, row r's canvas holds ``history[r]``'s tokens where ``0 <= reveal_step
    < step`` (as they stood then: later edits undone) and masks elsewhere; its earlier reveals,
    drafts, commits and edits are copied into the new trajectory, and decoding continues at
    ``step`` with the row's expert (which may differ from the history's: another block length,
    rule or temperature). ``forced[r]`` = (position, token id) is committed at ``step`` before
    the model is asked, or None. Rows are the batch's: prompt-major, experts in order. With
    unchanged settings the continuation equals the original token for token: the noise of each
    step depends on (seed, step) alone, and a sampler's count on the canvas alone.
    """

    step: int
    history: Sequence[Trajectory]
    forced: Sequence[tuple[int, int] | None] = ()

    def forced_at(self, row: int) -> tuple[int, int] | None:
        return self.forced[row] if row < len(self.forced) else None

    def check(self, rows: int, config: DecodeConfig, mask_id: int) -> None:
        if not 0 <= self.step < config.step_cap:
            raise ValueError(f"a fork starts at a step from 0 to {config.step_cap - 1} "
                             f"(got {self.step})")
        if len(self.history) != rows:
            raise ValueError(f"a fork needs one recorded trajectory per row ({rows}; got "
                             f"{len(self.history)})")
        for r, h in enumerate(self.history):
            if len(h.token_ids) != config.gen_length or len(h.draft_ids) < self.step:
                raise ValueError("the recorded trajectory does not match gen_length and steps")
            forced = self.forced_at(r)
            if forced is None:
                continue
            position, token = forced
            if not 0 <= position < config.gen_length:
                raise ValueError(f"the forced position must be from 0 to "
                                 f"{config.gen_length - 1} (got {position})")
            if 0 <= h.reveal_step[position] < self.step:
                raise ValueError(f"position {position} is already revealed at step "
                                 f"{self.step}; force a position that is still masked")
            if token < 0 or token == mask_id:
                raise ValueError(f"the forced token must be a real token id (got {token})")


def _canvas(lm: DiffusionLM, batch: Batch) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Left-padded prompts followed by an all-mask answer region: ids, attention, prompt width."""
    width = max(len(p) for p in batch.prompts)
    rows = batch.rows
    pad_id = lm.tokenizer.pad_token_id if lm.tokenizer.pad_token_id is not None else 0
    x = torch.full((len(rows), width + batch.config.gen_length), lm.mask_id, dtype=torch.long)
    attention = torch.ones_like(x)
    for r, (p, _) in enumerate(rows):
        prompt = batch.prompts[p]
        pad = width - len(prompt)
        x[r, :pad], attention[r, :pad] = pad_id, 0
        x[r, pad:width] = torch.tensor(prompt, dtype=torch.long)
    return x.to(lm.device), attention.to(lm.device), width


def end_density(probs: torch.Tensor, masked: torch.Tensor, end_ids: torch.Tensor) -> torch.Tensor:
    """(R,) mean probability of an end token over each row's still-masked positions (nan when
    none is masked): the pull towards end-of-text before anything is committed (rho-EOS)."""
    p_end = probs[..., end_ids].sum(-1)  # (R, L)
    return (p_end * masked).sum(-1) / masked.sum(-1)


def _proposals(logits: torch.Tensor, experts: list[Expert], generators: list[torch.Generator],
               argmax: torch.Tensor) -> torch.Tensor:
    """x0 (R, L): argmax at temperature 0, else a Gumbel-max sample from the row's generator."""
    x0 = argmax.clone()
    for r, expert in enumerate(experts):
        if expert.temperature > 0:
            x0[r] = add_gumbel_noise(logits[r], expert.temperature, generators[r]).argmax(-1)
    return x0


def _by_rule(experts: list[Expert], device: torch.device) -> Iterator[tuple[str, torch.Tensor]]:
    """(rule name, indices of the rows that use it), rules in order of first use."""
    for rule in dict.fromkeys(e.remasking for e in experts):
        yield rule, torch.tensor([r for r, e in enumerate(experts) if e.remasking == rule],
                                 device=device)


def _scores(probs: torch.Tensor, x0: torch.Tensor, experts: list[Expert],
            generators: list[torch.Generator]) -> torch.Tensor:
    """(R, L) score of each proposal under its row's remasking rule (rows grouped by rule)."""
    rows, length = x0.shape
    uniform = torch.zeros(rows, length, device=x0.device)
    for r, expert in enumerate(experts):
        if RULES[expert.remasking].needs_uniform:
            uniform[r] = torch.rand(length, generator=generators[r], device=x0.device)
    scores = torch.empty(rows, length, device=x0.device)
    for rule, idx in _by_rule(experts, x0.device):
        scores[idx] = RULES[rule](probs[idx], x0[idx], uniform[idx]).float()
    return scores


def _confidences(scores: torch.Tensor, experts: list[Expert]) -> torch.Tensor:
    """(R, L) each rule's score as a confidence in [0, 1], what thresholds are compared with."""
    confidence = torch.empty_like(scores)
    for rule, idx in _by_rule(experts, scores.device):
        confidence[idx] = RULES[rule].confidence(scores[idx])
    return confidence


def follow_post_steps(recorder: Recorder, rows: np.ndarray, config: DecodeConfig, step: int,
                      blocks: Blocks, edited: torch.Tensor) -> None:
    """After a step: a row that edited a finished block stops when it changed nothing or took
    its steps; a row whose block just filled before its steps ran out edits it next (as
    diffusers' ``check_block_should_continue``). Under ``fixed`` a block fills at its last
    step, so every block is edited after it."""
    changed = edited.any(-1).tolist()
    for i, r in enumerate(rows.tolist()):
        if recorder.post_block[r] >= 0:
            recorder.post_taken[r] += 1
            if not changed[i] or recorder.post_taken[r] > config.edit_post_steps:
                recorder.post_block[r], recorder.post_ended[r] = -1, step + 1
            continue
        block = blocks.rows[i]
        if (recorder.token_ids[r, block.start:block.end] == recorder.mask_id).any():
            continue
        if not config.sampler.variable or step - block.first_step + 1 < block.steps:
            recorder.post_block[r], recorder.post_taken[r] = block.start, 0
            recorder.post_end[r] = block.end


def stop_decided(recorder: Recorder, batch: Batch, step: int,
                 answer_of: Callable[[list[int]], str | None]) -> None:
    """After ``step``: read the answers of voting rows that just finished; where a prompt's
    finished voters settle its vote (`settled`), stop its voters still decoding."""
    k, running = len(batch.experts), set(recorder.unfinished().tolist())
    for p in range(len(batch.prompts)):
        voters = [p * k + i for i, e in enumerate(batch.experts) if e.votes]
        for r in voters:
            if r not in running and recorder.stopped[r] < 0 and r not in recorder.answers:
                recorder.answers[r] = answer_of(recorder.token_ids[r].tolist())
        left = [r for r in voters if r in running]
        finished = [recorder.answers[r] for r in voters if r in recorder.answers]
        if left and settled(finished, len(left)) is not None:
            recorder.stopped[left] = step + 1


def rows_blocks(recorder: Recorder, rows: np.ndarray, experts: list[Expert],
                config: DecodeConfig, step: int, masked: torch.Tensor) -> list[RowBlock]:
    """Each computed row's block at ``step`` (AdaBlock's new ones not yet sized)."""
    first_masks = masked.int().argmax(-1).tolist()  # every computed row has a mask or edits
    return [row_block(recorder.used_blocks, r, e, config, step, first, recorder.block_start_step)
            for r, e, first in zip(rows.tolist(), experts, first_masks, strict=True)]


def iter_decode(lm: DiffusionLM, prompts: Sequence[Sequence[int]], experts: Sequence[Expert],
                config: DecodeConfig, resume: Resume | None = None,
                answer_of: Callable[[list[int]], str | None] | None = None
                ) -> Iterator[StepProgress]:
    """Decode every expert on every prompt, yielding `StepProgress` after each step; with
    ``resume``, start from a recorded partial canvas (a what-if fork, see `Resume`). A model
    without a block KV cache decodes exactly whatever ``config.cache`` asks, and its record
    says ``cache="none"`` (`hexviz.policy.settings.cache_refusal` says why). With
    ``config.decided_vote``, ``answer_of(token ids)`` reads a finished row's
    answer, and the voters still decoding stop once the vote is settled (`stop_decided`)."""
    if config.decided_vote and answer_of is None:
        raise ValueError("a decided vote needs the answers: pass answer_of")
    if config.length.grows:
        if resume is not None:
            raise ValueError("a what-if fork needs a fixed-length canvas (--length fixed)")
        yield from iter_decode_canvas(lm, prompts, experts, config)
        return
    if not prompts or not experts:
        raise ValueError("decoding needs at least one prompt and one expert")
    for expert in experts:
        config.check(expert)
    config = exact_if_uncached(lm, config).for_experts(experts)
    batch = Batch([list(map(int, p)) for p in prompts], list(experts), config)
    experts_of_rows = [e for _, e in batch.rows]
    sampler: Sampler = config.sampler
    L, cap = config.gen_length, config.step_cap_for(experts)
    limits.check_context(max(len(p) for p in batch.prompts), L, lm.max_length)
    x, attention, width = _canvas(lm, batch)
    end_ids = torch.tensor(lm.end_ids, dtype=torch.long, device=lm.device)
    positions = torch.arange(L, device=lm.device)
    recorder = Recorder(len(experts_of_rows), L, cap, lm.mask_id)
    first = 0
    if resume is not None:
        resume.check(len(experts_of_rows), config, lm.mask_id)
        recorder.resume(resume, experts_of_rows, config)
        x[:, width:] = torch.from_numpy(recorder.token_ids).to(lm.device)
        first = resume.step
    rows_in_all = len(experts_of_rows)
    block_cache = None if config.cache == "none" else BlockCache(config.cache, rows_in_all)
    positions_computed = 0
    tic = time.perf_counter()
    first_logits = None  # (P, L, V) step 0's raw logits, one row per prompt (HEX's one step)

    def snapshot() -> Decoded:
        timing = Timing(time.perf_counter() - tic, sum(recorder.step_rows),
                        tuple(recorder.step_rows), positions_computed)
        return snapshot_of(batch, recorder, timing, first_logits)

    for step in range(first, cap):
        # 0. Only rows with a mask left are computed: a finished expert costs nothing more.
        rows = recorder.unfinished()
        if len(rows) == 0:
            if config.variable:
                break
            recorder.idle(step)  # fixed: the schedule's steps run out with nothing to compute
            yield StepProgress(step + 1, cap, snapshot)
            continue
        idx = torch.from_numpy(rows).to(lm.device)
        row_experts = [experts_of_rows[r] for r in rows]
        generators = [step_generator(e.seed, step, lm.device) for e in row_experts]

        # 1. Each row's current block (AdaBlock's new ones are sized after the forward pass).
        answer = x[idx, width:]  # (R, L), written back below
        masked = answer == lm.mask_id
        planned = rows_blocks(recorder, rows, row_experts, config, step, masked)

        # 2. One forward pass for those rows; only the answer region's logits are needed. With
        #    a block cache, only each row's window is computed (the whole row at a new block).
        if block_cache is None:
            logits, computed = shared_logits(lm, x[idx], attention[idx], L)  # (R, L, V)
            positions_computed += computed * x.shape[1]
        else:
            bounds = torch.tensor([(b.start, b.end) for b in planned]).reshape(-1, 2)
            editing = torch.from_numpy(recorder.post_block[rows] >= 0)[:, None]
            post = torch.from_numpy(np.stack([recorder.post_block[rows],
                                              recorder.post_end[rows]], 1))
            bounds = torch.where(editing, post, bounds)  # a finished block being edited
            logits, computed = block_cache.logits(lm, x[idx], attention[idx], width,
                                                  bounds[:, 0], bounds[:, 1], idx)
            positions_computed = block_cache.tokens
        if step == 0 and resume is None:  # every row is live: one canvas per prompt, shared
            first_logits = logits[::len(experts)].clone()  # by all its experts (exact at step 0)
        logits[..., lm.mask_id] = -torch.inf  # a revealed position must not stay [MASK]
        if config.forbid_end_of_text and lm.special.end_of_text_id is not None:
            logits[..., lm.special.end_of_text_id] = -torch.inf
        probs = torch.softmax(logits.float(), dim=-1)  # (R, L, V)
        draft_prob, draft_id = probs.max(dim=-1)  # (R, L): the model's draft, recorded

        # 3. Proposals, their scores under each row's rule, and those as confidences; AdaBlock
        #    sizes a new block from the proposals.
        x0 = _proposals(logits, row_experts, generators, draft_id)
        chosen_prob = probs.gather(-1, x0.unsqueeze(-1)).squeeze(-1)
        planned = [sized(b, e, config, x0[i], chosen_prob[i])
                   for i, (b, e) in enumerate(zip(planned, row_experts, strict=True))]
        blocks = as_blocks(planned, masked, row_experts, config, positions)
        for r, block in zip(rows.tolist(), planned, strict=True):
            if recorder.post_block[r] < 0:
                recorder.used_blocks.enter(r, block, step)
        if config.edit_post_steps:
            blocks = editing_finished_blocks(blocks, recorder.post_block[rows],
                                             recorder.post_end[rows])
        raw_scores = _scores(probs, x0, row_experts, generators)
        scores = raw_scores
        if config.end_tokens_last:
            scores = scores - END_TOKENS_LAST_OFFSET * torch.isin(x0, end_ids)

        # 4. Commit a leading run of the rule's order; the sampler says how long.
        scheduled, floor = schedule_counts(planned, blocks.eligible, step)
        entropy = (token_entropy(logits) if sampler.kind.needs_entropy
                   else torch.zeros_like(chosen_prob))
        candidates, rank = line_up(scores, blocks.eligible, _confidences(raw_scores, row_experts),
                                   entropy, scheduled, floor)
        chosen = rank < sampler.counts(candidates)[:, None]
        assert not (chosen & ~blocks.eligible).any(), "a sampler asked for more than is eligible"

        # 5. Token editing: committed tokens of the current block (or of the answer before its
        #    end) the model now overrules (not one forced at this very step).
        edited = torch.zeros_like(chosen)
        if sampler.edit is not None:
            forced_now = torch.from_numpy(recorder.reveal_step[rows] == step).to(lm.device)
            scope = (blocks.inside if config.edit_scope == "block"
                     else positions < blocks.end[:, None])
            edited = edits(answer, x0, chosen_prob, ~masked & scope & ~forced_now, sampler.edit)

        answer[chosen | edited] = x0[chosen | edited]
        x[idx, width:] = answer
        recorder.record(step, rows, StepOutput(masked, draft_id, draft_prob, x0, chosen_prob,
                                               chosen, edited, end_density(probs, masked, end_ids),
                                               computed))
        if config.edit_post_steps:
            follow_post_steps(recorder, rows, config, step, blocks, edited)
        if config.decided_vote:
            stop_decided(recorder, batch, step, answer_of)
        yield StepProgress(step + 1, cap, snapshot)


@torch.no_grad()
def top_candidates(lm: DiffusionLM, prompt_ids: Sequence[int], answer_ids: Sequence[int],
                   position: int, k: int = 8) -> list[tuple[int, str, float]]:
    """The model's ``k`` likeliest tokens at answer ``position`` on a partial canvas
    (``answer_ids`` with mask_id where masked): (token id, text, probability), best first."""
    if not 0 <= position < len(answer_ids):
        raise ValueError(f"position must be from 0 to {len(answer_ids) - 1} (got {position})")
    ids = torch.tensor([list(prompt_ids) + list(answer_ids)], dtype=torch.long, device=lm.device)
    logits = lm.logits(ids, torch.ones_like(ids), len(answer_ids))[0, position].float()
    logits[lm.mask_id] = -torch.inf
    probs, top = torch.softmax(logits, -1).topk(k)
    top_ids = top.tolist()
    return list(zip(top_ids, lm.token_texts(top_ids), probs.tolist(), strict=True))


def decode_all(lm: DiffusionLM, prompts: Sequence[Sequence[int]], experts: Sequence[Expert],
               config: DecodeConfig) -> Decoded:
    """Every expert on every prompt, all in one batch, to the end."""
    progress = None
    for progress in iter_decode(lm, prompts, experts, config):
        pass
    assert progress is not None
    return progress.decoded()


def snapshot_of(batch: Batch, recorder: Recorder, timing: Timing,
                first_logits: torch.Tensor | None) -> Decoded:
    """The record so far; the one-step log-likelihoods once every row is complete."""
    r = recorder
    complete = batch.config.complete(r.steps_done, len(r.unfinished()) == 0)
    scores = None
    if first_logits is not None and complete:
        k = len(batch.experts)
        tokens = torch.from_numpy(r.token_ids).view(len(batch.prompts), k, -1)  # (P, K, L)
        scores = one_step_log_likelihood(first_logits, tokens).reshape(-1).numpy()  # (P*K,)
    return Decoded(batch.prompts, batch.experts, batch.config, r.token_ids, r.reveal_step,
                   r.reveal_conf, r.draft_ids, r.draft_prob, r.end_density, r.commits, r.edits,
                   r.steps_taken, r.steps_done, timing, scores,
                   blocks=[r.used_blocks.spans(row) for row in range(len(r.steps_taken))],
                   stopped=r.stopped.copy())


@torch.no_grad()
def fresh_one_step_log_likelihoods(lm: DiffusionLM, prompt_ids: Sequence[int],
                                   token_ids: np.ndarray) -> np.ndarray:
    """(K,) each final answer's one-step log-likelihood from a new forward of the all-mask
    canvas: for a run decoded in resumed pieces, whose step 0 was another call's."""
    n = token_ids.shape[1]
    x = torch.tensor([list(prompt_ids) + [lm.mask_id] * n], device=lm.device)
    first = lm.logits(x, torch.ones_like(x), n)  # (1, L, V), as step 0 computed them
    tokens = torch.from_numpy(token_ids.astype(np.int64))[None]  # (1, K, L)
    return one_step_log_likelihood(first, tokens)[0].cpu().numpy()
