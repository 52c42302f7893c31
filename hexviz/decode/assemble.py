"""From what the decode loop did to a `Run`: texts, answers, walls, likelihoods and the vote.

The engine hands out tokens and what each step did (`engine.Decoded`); this is the one place
that reads them: each expert's text through the tokenizer, its answer by a `Reader` (a task's
parser, else an answer format's extractor), its AfterEoT wall flags off the arrays, and the vote
under the reader's tie rule. Forks and redone runs are read by their original's reader.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np

from hexviz.policy.settings import DecodeConfig, Expert
from hexviz.runs.events import deletions, final_canvas
from hexviz.runs.record import Run, Trajectory, with_wall_flags
from hexviz.runs.vote import check_tie_rule
from hexviz.tasks import get_task
from hexviz.tasks.answers import get_extractor
from hexviz.tasks.base import Task


@dataclass(frozen=True)
class Reader:
    """How a run's answers are read: a task's parser (from the whole generation, as the HEX
    authors' code reads it), else the extractor of ``answer_format``; and the vote's tie rule."""

    answer_format: str
    task: Task | None = None
    tie_rule: str = "first"

    def __post_init__(self) -> None:
        get_extractor(self.answer_format)  # an unknown format fails before any decoding
        check_tie_rule(self.tie_rule)

    @classmethod
    def of(cls, run: Run) -> Reader:
        """The reader that read ``run``: forks and redos are read as their original was."""
        return cls(run.answer_format, get_task(run.task) if run.task else None, run.tie_rule)

    def answer(self, lm, token_ids: Sequence[int], text: str) -> str | None:
        if self.task is None:
            return get_extractor(self.answer_format)(text)
        return self.task.parse(self.task.generation_text(lm.tokenizer, list(token_ids), text))

    def answer_of_ids(self, lm, token_ids: Sequence[int]) -> str | None:
        """The answer of an answer region's ids, its text read as `read_row` reads it."""
        return self.answer(lm, token_ids,
                           lm.answer_text([i for i in token_ids if i != lm.mask_id]))


def read_row(lm, decoded, row: int, expert: Expert, reader: Reader) -> Trajectory:
    """Row ``row`` of ``decoded`` read as one expert's trajectory."""
    if decoded.events is not None:
        return read_canvas_row(lm, decoded, row, expert, reader)
    ids = decoded.token_ids[row].tolist()
    text = lm.answer_text([i for i in ids if i != lm.mask_id])
    done = int(decoded.steps_taken[row])
    edits = np.array(decoded.edits[row], dtype=np.int64).reshape(-1, 4)
    t = Trajectory(
        expert=expert, token_ids=decoded.token_ids[row].copy(), tokens=lm.token_texts(ids),
        reveal_step=decoded.reveal_step[row].copy(), reveal_conf=decoded.reveal_conf[row].copy(),
        draft_ids=decoded.draft_ids[row, :done].copy(),
        draft_prob=decoded.draft_prob[row, :done].copy(),
        text=text, answer=reader.answer(lm, ids, text), collapsed=False,
        end_fraction=float(np.isin(decoded.token_ids[row], lm.end_ids).mean()),
        end_density=decoded.end_density[row, :done].copy(),
        steps_taken=done, commits=decoded.commits[row, :done].copy(), edits=edits,
        edit_texts=list(zip(lm.token_texts(edits[:, 2].tolist()),
                            lm.token_texts(edits[:, 3].tolist()), strict=True)),
        one_step_log_likelihood=(None if decoded.one_step_log_likelihood is None
                                 else float(decoded.one_step_log_likelihood[row])),
        blocks=np.array(decoded.blocks[row] if decoded.blocks else [], dtype=np.int64),
        stopped_at=-1 if decoded.stopped is None else int(decoded.stopped[row]),
    )
    if t.stopped_at >= 0:  # a decided vote stopped it: nothing read from an unfinished canvas
        t.answer, t.one_step_log_likelihood = None, None
    return with_wall_flags(t, lm.end_ids, decoded.config)


def read_canvas_row(lm, decoded, row: int, expert: Expert, reader: Reader) -> Trajectory:
    """Row ``row`` of a growing-canvas decode: everything positional read off its event log."""
    log, done = decoded.events[row], int(decoded.steps_taken[row])
    ids = final_canvas(log, lm.mask_id).ids
    text = lm.answer_text([i for i in ids.tolist() if i != lm.mask_id])
    t = Trajectory.from_events(
        expert=expert, log=log, mask_id=lm.mask_id, steps_taken=done,
        tokens=lm.token_texts(ids.tolist()), draft_ids=decoded.draft_ids[row, :done].copy(),
        draft_prob=decoded.draft_prob[row, :done].copy(), text=text,
        answer=reader.answer(lm, ids.tolist(), text), collapsed=False,
        end_fraction=float(np.isin(ids, lm.end_ids).mean()) if len(ids) else 0.0,
        end_density=decoded.end_density[row, :done].copy(), cut_texts=cut_texts(lm, log),
        one_step_log_likelihood=(None if decoded.one_step_log_likelihood is None
                                 else float(decoded.one_step_log_likelihood[row])))
    return with_wall_flags(t, lm.end_ids, decoded.config)


def cut_texts(lm, log) -> dict[int, str]:
    """The texts of the committed tokens a growing canvas cut (views show them struck)."""
    cut = {i for d in deletions(log, lm.mask_id) for i in d.ids if i != lm.mask_id}
    return dict(zip(sorted(cut), lm.token_texts(sorted(cut)), strict=True))


def assemble(lm, decoded, reader: Reader, questions: Sequence[str] | None = None) -> list[Run]:
    """One `Run` per prompt of ``decoded`` (rows prompt-major, experts in vote order);
    ``questions`` are what the runs record as their prompts (default: the prompts' text)."""
    k = len(decoded.experts)
    vocab_size = int(lm.model.config.vocab_size)  # lets an upload's ids be checked against it
    runs = []
    for p, prompt in enumerate(decoded.prompts):
        text = questions[p] if questions else lm.tokenizer.decode(prompt)
        trajectories = [read_row(lm, decoded, p * k + i, e, reader)
                        for i, e in enumerate(decoded.experts)]
        runs.append(Run(model=lm.name, prompt=text, prompt_ids=prompt, config=decoded.config,
                        special=lm.special, answer_format=reader.answer_format,
                        trajectories=trajectories, timing=decoded.timing,
                        steps_done=decoded.steps_done, vocab_size=vocab_size,
                        task=reader.task.name if reader.task else None,
                        tie_rule=reader.tie_rule))
    return runs


@dataclass(frozen=True)
class RunProgress:
    """Handed out after every step; ``runs()`` reads the trajectories so far (on demand: most
    steps are not drawn)."""

    step: int  # steps done
    steps: int  # the most steps the run may take (`DecodeConfig.step_cap`)
    runs: Callable[[], list[Run]]


def iter_runs(lm, prompts: Sequence[Sequence[int]], experts: Sequence[Expert],
              config: DecodeConfig, reader: Reader | str | None = None,
              questions: Sequence[str] | None = None, resume=None) -> Iterator[RunProgress]:
    """Decode and read, yielding `RunProgress` after every step; ``reader`` may be an answer
    format's name (default: the model's); ``resume`` continues a recorded canvas
    (`engine.Resume`, a what-if fork)."""
    from hexviz.decode.engine import iter_decode  # torch only when decoding

    reader = as_reader(lm, reader)
    if config.strategy.rounds_voting:
        if resume is not None:
            raise ValueError("a what-if fork continues one expert; dVoting's rounds depend on "
                             "each other")
        yield from iter_rounds(lm, prompts, experts, config, reader, questions)
        return
    answer_of = partial(reader.answer_of_ids, lm)  # a decided vote reads finished experts
    for p in iter_decode(lm, prompts, experts, config, resume=resume, answer_of=answer_of):
        yield RunProgress(p.step, p.steps,
                       lambda decoded=p.decoded: assemble(lm, decoded(), reader, questions))


def iter_rounds(lm, prompts: Sequence[Sequence[int]], experts: Sequence[Expert],
                config: DecodeConfig, reader: Reader, questions: Sequence[str] | None = None
                ) -> Iterator[RunProgress]:
    """dVoting (`hexviz.decode.rounds`): each prompt's rounds in turn, prompts one after
    another; ``runs()`` holds the finished prompts' runs and the current one's so far."""
    from hexviz.decode.rounds import iter_decode_rounds  # torch only when decoding

    answer_of = partial(reader.answer_of_ids, lm)  # the early stop reads each round's answer
    finished: list[Run] = []
    cap = config.step_cap * len(prompts)
    for p, prompt in enumerate(prompts):
        question = [questions[p]] if questions else None
        base, progress = sum(r.steps_done for r in finished), None
        for progress in iter_decode_rounds(lm, prompt, experts, config, answer_of):
            yield RunProgress(base + progress.step, cap,
                              lambda d=progress.decoded, done=tuple(finished), q=question:
                              [*done, *assemble(lm, d(), reader, q)])
        finished += assemble(lm, progress.decoded(), reader, question)


def as_reader(lm, reader: Reader | str | None) -> Reader:
    if isinstance(reader, Reader):
        return reader
    return Reader(reader or lm.defaults.answer_format)


def decode_many(lm, prompts: Sequence[Sequence[int]], experts: Sequence[Expert],
                config: DecodeConfig, reader: Reader | str | None = None,
                questions: Sequence[str] | None = None) -> list[Run]:
    """Every expert on every prompt, all in one batch; one `Run` per prompt."""
    from hexviz.decode.engine import decode_all

    reader = as_reader(lm, reader)  # an unknown format fails before any decoding
    if config.strategy.rounds_voting or config.decided_vote:
        progress = None
        for progress in iter_runs(lm, prompts, experts, config, reader, questions):
            pass
        return progress.runs()
    return assemble(lm, decode_all(lm, prompts, experts, config), reader, questions)


def decode(lm, prompt_ids: Sequence[int], experts: Sequence[Expert], config: DecodeConfig,
           reader: Reader | str | None = None, question: str | None = None) -> Run:
    """Every expert on one prompt, batched."""
    return decode_many(lm, [prompt_ids], experts, config, reader,
                       None if question is None else [question])[0]


def with_fresh_one_step_likelihood(lm, run: Run) -> Run:
    """``run`` (complete, one prompt) with its one-step log-likelihoods computed from a new
    forward of its all-mask canvas: for a run decoded in resumed pieces (ZeroGPU calls),
    whose step 0 was another call's."""
    from hexviz.decode.engine import fresh_one_step_log_likelihoods

    tokens = np.stack([t.token_ids for t in run.trajectories])
    for t, score in zip(run.trajectories,
                        fresh_one_step_log_likelihoods(lm, run.prompt_ids, tokens), strict=True):
        t.one_step_log_likelihood = float(score)
    return run.recount()  # a likelihood tie rule counts them
