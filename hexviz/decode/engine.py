"""The decode loop: LLaDA's semi-autoregressive sampler with every expert in one batch.

Each batch row is one (prompt, expert) pair. All experts take the same number of steps, so the
rows advance in lock step: one forward pass per step for all of them (rows that are still equal
computed once), each row revealing tokens inside its own current block by its own rule. What
the loop sees is recorded as it unmasks (`Recorder`) and handed out as numpy `Run`s; nothing
downstream needs torch.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from hexviz.decode.likelihood import one_step_log_likelihood
from hexviz.decode.rules import RULES, select_top
from hexviz.decode.schedule import block_bounds, count_now, steps_left_in_block
from hexviz.decode.settings import DecodeConfig, Expert
from hexviz.models.wrapper import DiffusionLM
from hexviz.runs.record import Run, Timing, Trajectory, with_wall_flags
from hexviz.tasks.answers import get_extractor

# With `end_tokens_last`, end-token proposals score this much lower than any other proposal, so
# they are revealed only when nothing else is left in the block. Every rule's score lies in
# [-log V, 1], far inside this offset.
END_TOKENS_LAST_OFFSET = 1e4


def step_seed(seed: int, step: int) -> int:
    """A 32-bit seed mixed from (seed, step) (torch's CPU generator keeps 32 bits of a seed)."""
    return int(np.random.SeedSequence([seed, step]).generate_state(1)[0])


def step_generator(seed: int, step: int, device: torch.device | str = "cpu") -> torch.Generator:
    """The random stream of one expert at one step: a pure function of (seed, step), so a
    decode resumed at any step (`Resume`) draws the same noise as the original run."""
    return torch.Generator(device=device).manual_seed(step_seed(seed, step))


def add_gumbel_noise(logits: torch.Tensor, temperature: float,
                     generator: torch.Generator) -> torch.Tensor:
    """Gumbel-max in float64 (LLaDA's ``add_gumbel_noise``): argmax of the result samples
    softmax(logits / T). Written as logits - T*log(-log u), equal in argmax to LLaDA's
    exp(logits) / (-log u)^T, without overflow."""
    u = torch.rand(logits.shape, generator=generator, dtype=torch.float64, device=logits.device)
    return logits.double() - temperature * torch.log(-torch.log(u))


class Recorder:
    """The trajectory arrays, filled as the loop unmasks; one row per (prompt, expert)."""

    def __init__(self, rows: int, gen_length: int, steps: int, mask_id: int) -> None:
        self.token_ids = np.full((rows, gen_length), mask_id, dtype=np.int64)
        self.reveal_step = np.full((rows, gen_length), -1, dtype=np.int32)
        self.reveal_conf = np.full((rows, gen_length), np.nan, dtype=np.float32)
        self.draft_ids = np.full((rows, steps, gen_length), -1, dtype=np.int64)
        self.draft_prob = np.full((rows, steps, gen_length), np.nan, dtype=np.float32)
        self.end_density = np.full((rows, steps), np.nan, dtype=np.float32)
        self.steps_done = 0

    def record(self, step: int, masked: torch.Tensor, draft_id: torch.Tensor,
               draft_prob: torch.Tensor, chosen: torch.Tensor, x0: torch.Tensor,
               chosen_prob: torch.Tensor, end_density: torch.Tensor) -> None:
        masked, chosen = masked.cpu().numpy(), chosen.cpu().numpy()
        self.end_density[:, step] = end_density.float().cpu().numpy()
        self.draft_ids[:, step] = np.where(masked, draft_id.cpu().numpy(), -1)
        self.draft_prob[:, step] = np.where(masked, draft_prob.float().cpu().numpy(), np.nan)
        self.token_ids[chosen] = x0.cpu().numpy()[chosen]
        self.reveal_step[chosen] = step
        self.reveal_conf[chosen] = chosen_prob.float().cpu().numpy()[chosen]
        self.steps_done = step + 1

    def resume(self, start: Resume, mask_id: int) -> None:
        """Copy each row's history before ``start.step``, then commit the forced tokens."""
        step = start.step
        for r, h in enumerate(start.history):
            kept = (h.reveal_step >= 0) & (h.reveal_step < step)
            self.token_ids[r] = np.where(kept, h.token_ids, mask_id)
            self.reveal_step[r] = np.where(kept, h.reveal_step, -1)
            self.reveal_conf[r] = np.where(kept, h.reveal_conf, np.nan)
            self.draft_ids[r, :step] = h.draft_ids[:step]
            self.draft_prob[r, :step] = h.draft_prob[:step]
            if len(h.end_density) >= step:  # runs saved before it was recorded have none
                self.end_density[r, :step] = h.end_density[:step]
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
    < step`` and masks elsewhere; its earlier reveals and drafts are copied into the new
    trajectory, and decoding continues at ``step`` with the row's expert (which may differ from
    the history's: another block length, rule or temperature). ``forced[r]`` = (position, token
    id) is committed at ``step`` before the model is asked, or None. Rows are the batch's:
    prompt-major, experts in order. With unchanged settings the continuation equals the
    original token for token: the noise of each step depends on (seed, step) alone.
    """

    step: int
    history: Sequence[Trajectory]
    forced: Sequence[tuple[int, int] | None] = ()

    def forced_at(self, row: int) -> tuple[int, int] | None:
        return self.forced[row] if row < len(self.forced) else None

    def check(self, rows: int, config: DecodeConfig, mask_id: int) -> None:
        if not 0 <= self.step < config.steps:
            raise ValueError(f"a fork starts at a step from 0 to {config.steps - 1} "
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


@dataclass(frozen=True)
class Batch:
    """What the decode loop works on: prompts x experts, and the settings."""

    prompts: list[list[int]]
    experts: list[Expert]
    config: DecodeConfig

    @property
    def rows(self) -> list[tuple[int, Expert]]:
        """(prompt index, expert) per batch row: prompt-major, experts in vote order."""
        return [(p, e) for p in range(len(self.prompts)) for e in self.experts]


@dataclass
class Progress:
    """Handed out after every step; ``runs()`` snapshots the trajectories so far."""

    step: int  # steps done
    steps: int
    runs: Callable[[], list[Run]]


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


def distinct_rows_logits(lm: DiffusionLM, x: torch.Tensor, attention: torch.Tensor,
                         keep: int) -> torch.Tensor:
    """``lm.logits(x, attention, keep)``, with each distinct row computed once.

    Rows are independent, so rows with equal ids and attention have equal logits. Experts on
    one prompt start from the same all-mask canvas and stay equal while they reveal the same
    tokens (every one of them at step 0), so this skips about one row in eight on the built-in
    model, exactly.
    """
    keys = torch.cat([x, attention], dim=1)
    distinct, inverse = torch.unique(keys, dim=0, return_inverse=True)
    if len(distinct) == len(keys):
        return lm.logits(x, attention, keep)
    width = x.shape[1]
    return lm.logits(distinct[:, :width], distinct[:, width:], keep)[inverse]


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


def _scores(probs: torch.Tensor, x0: torch.Tensor, experts: list[Expert],
            generators: list[torch.Generator]) -> torch.Tensor:
    """(R, L) score of each proposal under its row's remasking rule (rows grouped by rule)."""
    rows, length = x0.shape
    uniform = torch.zeros(rows, length, device=x0.device)
    for r, expert in enumerate(experts):
        if RULES[expert.remasking].needs_uniform:
            uniform[r] = torch.rand(length, generator=generators[r], device=x0.device)
    scores = torch.empty(rows, length, device=x0.device)
    for rule in dict.fromkeys(e.remasking for e in experts):
        idx = torch.tensor([r for r, e in enumerate(experts) if e.remasking == rule],
                           device=x0.device)
        scores[idx] = RULES[rule](probs[idx], x0[idx], uniform[idx]).float()
    return scores


def iter_decode(lm: DiffusionLM, prompts: Sequence[Sequence[int]], experts: Sequence[Expert],
                config: DecodeConfig, answer_format: str | None = None,
                prompt_texts: Sequence[str] | None = None,
                resume: Resume | None = None) -> Iterator[Progress]:
    """Decode every expert on every prompt, yielding `Progress` after each step; with
    ``resume``, start from a recorded partial canvas (a what-if fork, see `Resume`)."""
    if not prompts or not experts:
        raise ValueError("decoding needs at least one prompt and one expert")
    for expert in experts:
        config.check(expert)
    answer_format = answer_format or lm.defaults.answer_format
    get_extractor(answer_format)  # fail early on an unknown format
    batch = Batch([list(map(int, p)) for p in prompts], list(experts), config)
    rows = [e for _, e in batch.rows]
    L, S = config.gen_length, config.steps
    longest = max(len(p) for p in batch.prompts)
    if lm.max_length and longest + L > lm.max_length:
        raise ValueError(f"the prompt ({longest} tokens) plus gen_length ({L}) is longer than "
                         f"this model's maximum of {lm.max_length} tokens; shorten either")
    x, attention, width = _canvas(lm, batch)
    end_ids = torch.tensor(lm.end_ids, dtype=torch.long, device=lm.device)
    positions = torch.arange(L, device=lm.device)
    recorder = Recorder(len(rows), L, S, lm.mask_id)
    first = 0
    if resume is not None:
        resume.check(len(rows), config, lm.mask_id)
        recorder.resume(resume, lm.mask_id)
        x[:, width:] = torch.from_numpy(recorder.token_ids).to(lm.device)
        first = resume.step
    tic = time.perf_counter()
    first_logits = None  # (P, L, V) step 0's raw logits, one row per prompt (HEX's one step)

    def snapshot() -> list[Run]:
        timing = Timing(time.perf_counter() - tic)
        runs = build_runs(lm, batch, recorder, timing, answer_format, prompt_texts)
        return with_one_step_likelihood(runs, first_logits, recorder.token_ids, S, k=len(experts))

    for step in range(first, S):
        generators = [step_generator(e.seed, step, lm.device) for e in rows]
        # 1. One forward pass for all rows; only the answer region's logits are needed.
        logits = distinct_rows_logits(lm, x, attention, L)  # (R, L, V)
        if step == 0 and resume is None:  # one canvas per prompt: all its experts share it
            first_logits = logits[::len(experts)].clone()
        logits[..., lm.mask_id] = -torch.inf  # a revealed position must not stay [MASK]
        if config.forbid_end_of_text and lm.special.end_of_text_id is not None:
            logits[..., lm.special.end_of_text_id] = -torch.inf
        probs = torch.softmax(logits.float(), dim=-1)  # (R, L, V)
        draft_prob, draft_id = probs.max(dim=-1)  # (R, L): the model's draft, recorded

        # 2. Proposals and their scores under each row's rule.
        x0 = _proposals(logits, rows, generators, draft_id)
        chosen_prob = probs.gather(-1, x0.unsqueeze(-1)).squeeze(-1)
        scores = _scores(probs, x0, rows, generators)
        if config.end_tokens_last:
            scores = scores - END_TOKENS_LAST_OFFSET * torch.isin(x0, end_ids)

        # 3. Eligible: still masked and not past the row's current block (before the block
        #    only after a fork that changed the block length left earlier positions masked).
        answer = x[:, width:]
        masked = answer == lm.mask_id
        ends = torch.tensor([block_bounds(e, config, step)[1] for e in rows], device=lm.device)
        eligible = masked & (positions < ends[:, None])
        scores = torch.where(eligible, scores, -torch.inf)

        # 4. Reveal each row's share of what is left, best scores first (LLaDA's schedule).
        left = eligible.sum(-1).tolist()
        counts = torch.tensor([count_now(n, steps_left_in_block(e, config, step))
                               for n, e in zip(left, rows, strict=True)], device=lm.device)
        chosen = select_top(scores, counts)
        assert not (chosen & ~eligible).any(), "schedule asked for more tokens than the block has"
        answer[chosen] = x0[chosen]
        recorder.record(step, masked, draft_id, draft_prob, chosen, x0, chosen_prob,
                        end_density(probs, masked, end_ids))
        yield Progress(step + 1, S, snapshot)


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


def decode_many(lm: DiffusionLM, prompts: Sequence[Sequence[int]], experts: Sequence[Expert],
                config: DecodeConfig, answer_format: str | None = None,
                prompt_texts: Sequence[str] | None = None) -> list[Run]:
    """Every expert on every prompt, all in one batch; one `Run` per prompt."""
    progress = None
    for progress in iter_decode(lm, prompts, experts, config, answer_format, prompt_texts):
        pass
    assert progress is not None
    return progress.runs()


def decode(lm: DiffusionLM, prompt_ids: Sequence[int], experts: Sequence[Expert],
           config: DecodeConfig, answer_format: str | None = None,
           prompt_text: str | None = None) -> Run:
    """Every expert on one prompt, batched."""
    texts = None if prompt_text is None else [prompt_text]
    return decode_many(lm, [prompt_ids], experts, config, answer_format, texts)[0]


# --- from recorded arrays to Runs ---------------------------------------------------------------

def build_trajectory(lm: DiffusionLM, expert: Expert, recorder: Recorder, row: int,
                     answer_format: str, steps: int) -> Trajectory:
    ids = recorder.token_ids[row].tolist()
    text = lm.answer_text([i for i in ids if i != lm.mask_id])
    done = recorder.steps_done
    trajectory = Trajectory(
        expert=expert, token_ids=recorder.token_ids[row].copy(), tokens=lm.token_texts(ids),
        reveal_step=recorder.reveal_step[row].copy(), reveal_conf=recorder.reveal_conf[row].copy(),
        draft_ids=recorder.draft_ids[row, :done].copy(),
        draft_prob=recorder.draft_prob[row, :done].copy(),
        text=text, answer=get_extractor(answer_format)(text), collapsed=False,
        end_fraction=float(np.isin(recorder.token_ids[row], lm.end_ids).mean()),
        end_density=recorder.end_density[row, :done].copy(),
    )
    return with_wall_flags(trajectory, lm.end_ids, steps)


def with_one_step_likelihood(runs: list[Run], first_logits: torch.Tensor | None,
                             token_ids: np.ndarray, steps: int, k: int) -> list[Run]:
    """``runs`` with each expert's one-step log-likelihood once decoding is complete (None
    before, and for forks, which never saw step 0)."""
    if first_logits is None or any(run.steps_done < steps for run in runs):
        return runs
    tokens = torch.from_numpy(token_ids).view(len(runs), k, -1)  # (P, K, L)
    scores = one_step_log_likelihood(first_logits, tokens)  # (P, K)
    for p, run in enumerate(runs):
        for i, t in enumerate(run.trajectories):
            t.one_step_log_likelihood = float(scores[p, i])
    return runs


def build_runs(lm: DiffusionLM, batch: Batch, recorder: Recorder, timing: Timing,
               answer_format: str, prompt_texts: Sequence[str] | None = None) -> list[Run]:
    runs = []
    k = len(batch.experts)
    vocab_size = int(lm.model.config.vocab_size)  # lets an upload's ids be checked against it
    for p, prompt in enumerate(batch.prompts):
        text = prompt_texts[p] if prompt_texts else lm.tokenizer.decode(prompt)
        trajectories = [build_trajectory(lm, e, recorder, p * k + i, answer_format,
                                         batch.config.steps)
                        for i, e in enumerate(batch.experts)]
        runs.append(Run(model=lm.name, prompt=text, prompt_ids=prompt, config=batch.config,
                        special=lm.special, answer_format=answer_format,
                        trajectories=trajectories, timing=timing,
                        steps_done=recorder.steps_done, vocab_size=vocab_size))
    return runs
