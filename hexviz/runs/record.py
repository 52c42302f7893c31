"""What a decoding run recorded, as numpy data, and its JSON form.

A `Trajectory` is one expert's record: its log of what each step did to the canvas
(`hexviz.runs.events`), and the arrays derived from it for the final canvas (reveal order,
commits per step, edits), with what the log cannot say (the model's drafts, its end-of-text
density); a `Run` is every expert on one prompt. Every chart, the step scrubber and the vote are
derived from these, so a run saved on a GPU machine replays anywhere without a model. The JSON
form is a superset of the CLI's ``--json`` contract and carries a schema name and version;
version 1 files (before the log) read as logs of commits and edits.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from hexviz import limits
from hexviz.policy.settings import DecodeConfig, Expert
from hexviz.models.tokens import SpecialTokens
from hexviz.runs import events as ev
from hexviz.runs import metrics
from hexviz.runs.events import EventLog, EventLogError
from hexviz.runs.schema import check_schema, missing_field
from hexviz.runs.vote import Vote, majority

SCHEMA = "hexviz.run"
SCHEMA_VERSION = 2
READS_VERSIONS = (1, 2)  # version 1: no event log (fixed-length runs only)


class TrajectoryFormatError(ValueError):
    """A file or object that is not a hexviz run of a version this code reads."""


@dataclass(frozen=True)
class Timing:
    decode_s: float  # decoding wall time, model loading excluded
    # Rows the forward passes computed (finished experts none, equal rows once), for the whole
    # batch the run was decoded in; None in files written before it was recorded.
    row_passes: int | None = None
    step_rows: tuple[int, ...] = ()  # the same, per step decoded (a fork: from its step on)
    # Canvas positions the forward passes computed: whole rows when exact, each row's window
    # with a block KV cache (`DecodeConfig.cache`); None in files written before it was recorded.
    positions: int | None = None
    # Forward rows a decided vote spared the experts it stopped: known only by decoding them,
    # so None in a run (`hexviz eval --rescore` measures it from full decodes)
    row_passes_saved: int | None = None


@dataclass(eq=False)
class Trajectory:
    """One expert's decoding, recorded as it unmasked. L is the final canvas's length (the
    run's gen_length unless the canvas grew or shrank), W the run's gen_length."""

    expert: Expert
    token_ids: np.ndarray  # (L,) final answer region; mask_id where not revealed yet
    tokens: list[str]  # (L,) token text, end tokens kept visible
    reveal_step: np.ndarray  # (L,) step at which each position was committed; -1 not yet
    reveal_conf: np.ndarray  # (L,) probability of the committed token; nan not yet
    # (S, W) model's argmax at each step's still-masked positions, by position on that step's
    # canvas; -1 if committed or past its end
    draft_ids: np.ndarray
    draft_prob: np.ndarray  # (S, W) its probability; nan if committed
    text: str  # decoded answer up to the first end token
    answer: str | None
    collapsed: bool  # the AfterEoT wall (metrics.is_wall_collapse)
    end_fraction: float  # share of the answer region that is end tokens
    early_end_share: float = math.nan  # end tokens among the first half of the steps' reveals
    # (S,) mean probability of an end token over the still-masked positions at each step
    # (the model's end-of-text density); empty for files written before it was recorded
    end_density: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.float32))
    # HEX's one-step likelihood: mean log-probability of the final answer region under the
    # first forward pass's logits (`hexviz.decode.likelihood`); None for forks and old files
    one_step_log_likelihood: float | None = None
    # Steps this expert was decoded for: one forward row each. Files written before samplers
    # let experts finish at different steps hold none: their drafts' steps (-1 until set).
    steps_taken: int = -1
    # (steps_taken,) tokens committed at each step (older files: counted from reveal_step)
    commits: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int32))
    # (E, 4) token edits, one [step, position, old id, new id] each; reveal_step keeps the
    # first commit, token_ids the final token
    edits: np.ndarray = field(default_factory=lambda: np.empty((0, 4), dtype=np.int64))
    edit_texts: list[tuple[str, str]] = field(default_factory=list)  # (old, new) text per edit
    # What each step did to the canvas; None: read off the arrays above (a fixed-length
    # record, which only commits and edits)
    events: EventLog | None = None
    canvas_length: np.ndarray = field(  # (steps_taken,) the canvas length after each step
        default_factory=lambda: np.empty(0, dtype=np.int32))
    # id -> text of the committed tokens a growing canvas cut, which no final token shows
    cut_texts: dict[int, str] = field(default_factory=dict)
    # (N, 2) the [start, end) of each block the expert decoded, left to right; empty: its
    # block sizes laid over the final canvas (AdaBlock's are only known from the decode)
    blocks: np.ndarray = field(default_factory=lambda: np.empty((0, 2), dtype=np.int64))
    stopped_at: int = -1  # a decided vote stopped it after this many steps; -1: it was not

    def __post_init__(self) -> None:
        if self.steps_taken < 0:
            self.steps_taken = len(self.draft_ids)
        self.edits = np.asarray(self.edits, dtype=np.int64).reshape(-1, 4)
        if self.events is None:
            self.events = ev.from_positional(self.token_ids, self.reveal_step, self.reveal_conf,
                                             self.edits, self.steps_taken)
        if len(self.commits) == 0 and self.steps_taken:
            self.commits = ev.commits_per_step(self.events, self.steps_taken)
        if len(self.canvas_length) == 0:
            self.canvas_length = ev.canvas_lengths(self.events, self.steps_taken)
        self.blocks = np.asarray(self.blocks, dtype=np.int64).reshape(-1, 2)
        if len(self.blocks) == 0 and not self.expert.adaptive and len(self.token_ids):
            self.blocks = laid_out(self.expert.sizes(len(self.token_ids)))

    @classmethod
    def from_events(cls, expert: Expert, log: EventLog, mask_id: int, steps_taken: int,
                    **fields: Any) -> Trajectory:
        """A trajectory whose final canvas, reveal order, commits and edits are read off its
        log; ``fields`` give the rest (tokens, drafts, text, answer, ...)."""
        final = ev.final_canvas(log, mask_id)
        return cls(expert=expert, token_ids=final.ids, reveal_step=final.reveal_step,
                   reveal_conf=final.reveal_conf, steps_taken=steps_taken,
                   commits=ev.commits_per_step(log, steps_taken), edits=ev.edit_table(log),
                   events=log, canvas_length=ev.canvas_lengths(log, steps_taken), **fields)

    def canvas_at(self, step: int, mask_id: int) -> ev.Canvas:
        """The canvas after ``step`` steps: ids (mask_id where masked), reveal steps and
        probabilities, of the length it had then."""
        return ev.canvas_at(self.events, step, mask_id)

    @property
    def resized(self) -> bool:
        """Whether the canvas changed length while decoding (a growing canvas)."""
        return self.events.resizes
    def ids_at(self, step: int) -> np.ndarray:
        """(L,) token ids after ``step`` steps: the final ids with the edits made at ``step`` or
        later undone, latest first (an edit made at step e shows from step e + 1 on). Positions
        revealed later keep their final id: callers mask them."""
        ids = self.token_ids.copy()
        for made, position, old, _ in reversed(self.edits.tolist()):
            if made >= step:
                ids[position] = old
        return ids

    @property
    def finished(self) -> bool:
        """Every position committed."""
        return bool((self.reveal_step >= 0).all())

    @cached_property
    def order_correlation(self) -> float:
        """Rank correlation of reveal step with position: 1 left to right, -1 right to left."""
        return metrics.order_correlation(self.reveal_step)

    @cached_property
    def ar_ness(self) -> float:
        """Share of reveals at the leftmost still-masked position."""
        return metrics.ar_ness(self.reveal_step)


@dataclass(eq=False)
class Run:
    """Every expert's trajectory on one prompt."""

    model: str
    prompt: str
    prompt_ids: list[int]
    config: DecodeConfig
    special: SpecialTokens
    answer_format: str
    trajectories: list[Trajectory]
    timing: Timing
    steps_done: int  # steps the batch took so far (the slowest expert's); one forward each
    vocab_size: int | None = None  # the model's; an uploaded file's ids must lie below it
    task: str | None = None  # the task whose prompt and parser made it (`hexviz.tasks`)
    tie_rule: str = "first"  # how the vote breaks ties (`hexviz.runs.vote.TIE_RULES`)
    # Where a run made elsewhere came from and what it could not record (`hexviz.imports`);
    # None for hexviz's own
    source: dict[str, Any] | None = None
    # Where the app served this run from instead of decoding it for its visitor (a stored run,
    # a recent identical one: `hexviz.app.serving`); None: decoded. Not written to its JSON
    replayed: str | None = None

    @property
    def complete(self) -> bool:
        """All ``steps`` done with ``fixed``; every expert finished (or stopped by a decided
        vote) with the other samplers."""
        return self.config.complete(self.steps_done, all(t.finished or t.stopped_at >= 0
                                                         for t in self.trajectories))

    @cached_property
    def voters(self) -> list[int]:
        """Indices of the trajectories that vote (baselines don't)."""
        return [i for i, t in enumerate(self.trajectories) if t.expert.votes]

    def recount(self) -> Run:
        """This run with its vote counted again (after its answers, likelihoods or tie rule
        changed)."""
        self.__dict__.pop("vote", None)
        return self

    @cached_property
    def vote(self) -> Vote:
        """Majority over the voting experts under ``tie_rule``; supporter indices refer to
        ``trajectories``."""
        voting = [self.trajectories[i] for i in self.voters]
        inner = majority([t.answer for t in voting],
                         [t.one_step_log_likelihood for t in voting], self.tie_rule)
        remap = lambda idx: [self.voters[i] for i in idx]  # noqa: E731
        return Vote(inner.winner, inner.counts, inner.tie,
                    {a: remap(s) for a, s in inner.supporters.items()}, remap(inner.abstained),
                    inner.rule, inner.decided_by)


# --- JSON -------------------------------------------------------------------------------------

def laid_out(sizes) -> np.ndarray:
    """(N, 2) [start, end) of blocks of ``sizes``, left to right."""
    ends = np.cumsum(sizes, dtype=np.int64)
    return np.stack([ends - np.asarray(sizes, dtype=np.int64), ends], 1).reshape(-1, 2)


def check_blocks(blocks: np.ndarray, length: int) -> np.ndarray:
    """``blocks`` if they are left-to-right [start, end) spans from 0 within ``length``."""
    if len(blocks) and (blocks[0, 0] != 0 or (blocks[:, 1] <= blocks[:, 0]).any()
                        or (blocks[1:, 0] != blocks[:-1, 1]).any() or blocks[-1, 1] > length):
        raise TrajectoryFormatError("expert blocks must be [start, end) spans from 0, left to "
                                    "right, within the answer")
    return blocks


def _floats(values: np.ndarray, digits: int = 4) -> list:
    """Nested lists with nan as null (JSON has no NaN)."""
    rounded = np.round(values.astype(np.float64), digits)
    return [_floats(row, digits) for row in rounded] if values.ndim > 1 else [
        None if math.isnan(v) else v for v in rounded.tolist()]


def trajectory_to_json(t: Trajectory) -> dict[str, Any]:
    return {
        **t.expert.to_json(),
        "token_ids": t.token_ids.tolist(), "tokens": t.tokens,
        "reveal_step": t.reveal_step.tolist(), "reveal_conf": _floats(t.reveal_conf),
        "draft_ids": t.draft_ids.tolist(), "draft_prob": _floats(t.draft_prob),
        "text": t.text, "answer": t.answer, "collapsed": t.collapsed,
        "end_fraction": round(t.end_fraction, 4),
        "early_end_share": _number(t.early_end_share),
        "order_correlation": _number(t.order_correlation), "ar_ness": _number(t.ar_ness),
        "end_density": _floats(t.end_density),
        "one_step_log_likelihood": t.one_step_log_likelihood,
        "steps_taken": t.steps_taken, "commits": t.commits.tolist(), "edits": t.edits.tolist(),
        "edit_texts": [list(pair) for pair in t.edit_texts],
        "events": ev.to_json(t.events), "canvas_length": t.canvas_length.tolist(),
        "blocks": t.blocks.tolist(),
        **({"stopped_at": t.stopped_at} if t.stopped_at >= 0 else {}),
        **({"cut_texts": {str(i): text for i, text in t.cut_texts.items()}}
           if t.cut_texts else {}),
    }


def _number(value: float, digits: int = 4) -> float | None:
    return None if math.isnan(value) else round(value, digits)


def run_to_json(run: Run) -> dict[str, Any]:
    return {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION,
        "model": run.model, "prompt": run.prompt, "prompt_ids": list(run.prompt_ids),
        "gen_length": run.config.gen_length, "steps": run.config.steps,
        "config": run.config.to_json(), "special_tokens": asdict(run.special),
        "answer_format": run.answer_format, "steps_done": run.steps_done,
        "vocab_size": run.vocab_size, "task": run.task, "tie_rule": run.tie_rule,
        "strategy": run.config.strategy.name,
        "experts": [trajectory_to_json(t) for t in run.trajectories],
        "vote": run.vote.to_json(),
        # forward_passes stays in the CLI's contract: one per step done
        "timing": {"decode_s": run.timing.decode_s, "forward_passes": run.steps_done,
                   "row_passes": run.timing.row_passes, "step_rows": list(run.timing.step_rows),
                   "positions": run.timing.positions,
                   "row_passes_saved": run.timing.row_passes_saved},
        **({"source": run.source} if run.source is not None else {}),
    }


def dumps(run: Run) -> str:
    return json.dumps(run_to_json(run))


def trajectory_from_json(d: dict[str, Any], steps: int, gen_length: int,
                         top_id: int = limits.MAX_TOKEN_ID, mask_id: int | None = None) -> Trajectory:
    """One expert; ids must lie in 0..top_id (drafts may be -1: already revealed); ``steps``
    is the run's step cap. With its event log (schema version 2), its final canvas, reveal
    order, commits and edits are the log's, and the stored ones must agree with them."""
    drafts = limits.int_array(d["draft_ids"], "draft_ids", -1, top_id)
    taken = drafts.shape[0] if drafts.ndim > 1 else drafts.size // gen_length
    steps_taken = int(limits.int_array([d.get("steps_taken", taken)], "steps_taken", 0,
                                       steps)[0])
    edits = limits.int_array(d.get("edits", []), "edits", 0, top_id).reshape(-1, 4)
    edit_texts = [(str(old), str(new)) for old, new in d.get("edit_texts", [])]
    token_ids = limits.int_array(d["token_ids"], "token_ids", 0, top_id)
    reveal_step = limits.int_array(d["reveal_step"], "reveal_step", -1, steps).astype(np.int32)
    if len(edits) and (edits[:, 0].max() >= max(steps_taken, 1)
                       or edits[:, 1].max() >= gen_length):
        raise TrajectoryFormatError("expert edits name a step or position outside the run")
    log = None
    if d.get("events") is not None and mask_id is not None:
        try:
            log = ev.from_json(d["events"], max(steps_taken, 1), top_id, gen_length)
            final = ev.final_canvas(log, mask_id)
        except EventLogError as err:
            raise TrajectoryFormatError(f"expert events: {err}") from None
        derived = {"token_ids": final.ids, "reveal_step": final.reveal_step,
                   "edits": ev.edit_table(log),
                   "commits": ev.commits_per_step(log, steps_taken)}
        for name, value in derived.items():
            if name in d and d[name] != value.tolist():
                raise TrajectoryFormatError(f"expert {name} differ from what its events say")
        edits = derived["edits"]
    length = gen_length if log is None else len(token_ids)
    common = dict(
        expert=Expert.from_json(d), tokens=[str(tok) for tok in d["tokens"]],
        draft_ids=drafts.reshape(-1, gen_length),
        draft_prob=limits.prob_array(d["draft_prob"], "draft_prob").reshape(-1, gen_length),
        text=str(d["text"]), answer=None if d["answer"] is None else str(d["answer"]),
        collapsed=bool(d["collapsed"]), end_fraction=float(d["end_fraction"]),
        end_density=limits.prob_array(d.get("end_density", []), "end_density"),  # null -> nan
        edit_texts=edit_texts if len(edit_texts) == len(edits) else [],
        one_step_log_likelihood=log_likelihood(d.get("one_step_log_likelihood")),
        cut_texts=cut_texts_of(d.get("cut_texts", {}), top_id, gen_length),
        blocks=check_blocks(limits.int_array(d.get("blocks", []), "blocks", 0, gen_length)
                            .reshape(-1, 2), gen_length),
        stopped_at=int(limits.int_array([d.get("stopped_at", -1)], "stopped_at", -1, steps)[0]),
    )
    schedule = common["expert"].schedule
    if schedule and sum(schedule) != gen_length:
        raise TrajectoryFormatError(f"expert schedule sums to {sum(schedule)}, not "
                                    f"gen_length={gen_length}")
    if log is not None:
        t = Trajectory.from_events(log=log, mask_id=mask_id, steps_taken=steps_taken, **common)
    else:
        t = Trajectory(
            token_ids=token_ids, reveal_step=reveal_step,
            reveal_conf=limits.prob_array(d["reveal_conf"], "reveal_conf"),  # null -> nan
            steps_taken=steps_taken,
            commits=limits.int_array(d.get("commits", []), "commits", 0,
                                     gen_length).astype(np.int32),
            edits=edits, **common)
    shapes = {"token_ids": t.token_ids.shape, "tokens": (len(t.tokens),),
              "reveal_step": t.reveal_step.shape, "reveal_conf": t.reveal_conf.shape}
    for name, shape in shapes.items():
        if shape != (length,):
            raise TrajectoryFormatError(f"expert field {name!r} has shape {shape}, "
                                        f"expected ({length},)")
    if t.draft_ids.shape[0] > steps or t.draft_prob.shape != t.draft_ids.shape:
        raise TrajectoryFormatError("expert drafts do not match the run's steps and gen_length")
    if t.end_density.shape[0] not in (0, t.draft_ids.shape[0]):
        raise TrajectoryFormatError("expert end_density does not match its drafts' steps")
    if t.commits.shape[0] != t.steps_taken or t.draft_ids.shape[0] != t.steps_taken:
        raise TrajectoryFormatError("expert commits and drafts do not match its steps_taken")
    return t


def cut_texts_of(value: Any, top_id: int, most: int) -> dict[int, str]:
    """Stored texts of cut tokens: at most ``most`` ids in 0..``top_id``, each a short text."""
    if not isinstance(value, dict) or len(value) > most or not all(
            isinstance(k, str) and k.isdigit() and int(k) <= top_id and isinstance(v, str)
            and len(v) <= 200 for k, v in value.items()):
        raise TrajectoryFormatError(f"cut_texts must map at most {most} token ids to short "
                                    f"texts")
    return {int(k): v for k, v in value.items()}


def source_of(value: Any) -> dict[str, Any] | None:
    """A stored ``source``: an object of short texts and lists of short texts, or None."""
    if value is None:
        return None
    texts = lambda v: isinstance(v, str) and len(v) <= 500  # noqa: E731
    if not isinstance(value, dict) or len(value) > 20 or not all(
            texts(k) and (texts(v) or (isinstance(v, list) and len(v) <= 20
                                       and all(map(texts, v)))) for k, v in value.items()):
        raise TrajectoryFormatError("source must be an object of short texts")
    return value


def log_likelihood(value: Any) -> float | None:
    """A stored one-step log-likelihood: None, or a finite number <= 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            -math.inf < value <= 0):
        raise TrajectoryFormatError(f"one_step_log_likelihood must be a number <= 0 or null "
                                    f"(got {value!r})")
    return float(value)


def own_steps(t: Trajectory, config: DecodeConfig) -> int:
    """The steps ``t``'s expert decodes for: the configured ones with ``fixed``, else its own
    (experts of a parallel sampler finish at different steps)."""
    return t.steps_taken if config.variable else config.steps


def timing_from_json(d: dict[str, Any], cap: int) -> Timing:
    decode_s = float(d["decode_s"])  # first: a timing that is not an object fails here
    passes = d.get("row_passes")
    step_rows = limits.int_array(d.get("step_rows", []), "step_rows", 0, limits.MAX_TOKEN_ID)
    if len(step_rows) > cap:
        raise TrajectoryFormatError("timing step_rows is longer than the run's step cap")
    positions, saved = d.get("positions"), d.get("row_passes_saved")
    return Timing(decode_s, None if passes is None else int(passes),
                  tuple(step_rows.tolist()), None if positions is None else int(positions),
                  None if saved is None else int(saved))


def with_wall_flags(t: Trajectory, end_ids: tuple[int, ...], config: DecodeConfig) -> Trajectory:
    """``t`` with its collapse flag and early-end share read off its arrays, so every file means
    the same by them whichever hexviz wrote it."""
    t.collapsed = metrics.is_wall_collapse(t.token_ids, t.reveal_step, end_ids)
    t.early_end_share = metrics.early_end_share(t.token_ids, t.reveal_step, end_ids,
                                                own_steps(t, config))
    return t


def run_from_json(d: Any) -> Run:
    """Rebuild a Run; anything that is not a hexviz run raises TrajectoryFormatError."""
    check_schema(d, SCHEMA, READS_VERSIONS, "hexviz run", TrajectoryFormatError)
    try:
        limits.check_run_shape(d)  # declared sizes first: nothing is built from a bad file
        config = DecodeConfig(**d["config"])
        top_id = limits.top_token_id(d)
        special = SpecialTokens(**d["special_tokens"])
        limits.int_array([i for i in asdict(special).values() if i is not None],
                         "special_tokens", 0, top_id)
        trajectories = [with_wall_flags(trajectory_from_json(e, config.step_cap,
                                                             config.gen_length, top_id,
                                                             special.mask_id),
                                        special.end_ids, config) for e in d["experts"]]
        run = Run(
            model=str(d["model"]), prompt=str(d.get("prompt", "")),
            prompt_ids=[int(i) for i in d["prompt_ids"]], config=config,
            special=special, answer_format=str(d["answer_format"]),
            trajectories=trajectories, timing=timing_from_json(d["timing"], config.step_cap),
            steps_done=int(d["steps_done"]), vocab_size=d.get("vocab_size"),
            task=None if d.get("task") is None else str(d["task"]),
            tie_rule=str(d.get("tie_rule", "first")), source=source_of(d.get("source")),
        )
        run.vote  # noqa: B018  an unknown tie rule, or one missing its likelihoods, fails here
        return run
    except TrajectoryFormatError:
        raise
    except limits.ShapeError as err:
        raise TrajectoryFormatError(f"damaged hexviz run: {err}") from None
    except limits.LimitError as err:
        raise TrajectoryFormatError(f"this run is too large to replay here: {err}") from None
    except (KeyError, TypeError, ValueError, OverflowError) as err:
        raise TrajectoryFormatError(f"damaged hexviz run: {missing_field(err)}") from None


def loads(text: str | bytes) -> Run:
    try:
        data = json.loads(text, parse_constant=limits.refuse_constant)
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise TrajectoryFormatError(f"not a JSON file: {err}") from None
    except RecursionError:  # the C parser recurses per level; 200k levels exhaust the stack
        raise TrajectoryFormatError("not a hexviz run: the JSON is nested too deeply") from None
    except limits.LimitError as err:
        raise TrajectoryFormatError(str(err)) from None
    return run_from_json(data)


def save(run: Run, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(dumps(run))
    return path


def load(path: str | Path) -> Run:
    try:
        limits.check_file_size(path)  # before reading: the size alone can refuse it
        text = Path(path).read_bytes()
    except limits.LimitError as err:
        raise TrajectoryFormatError(str(err)) from None
    except OSError as err:
        raise TrajectoryFormatError(f"cannot read {path}: {err.strerror}") from None
    return loads(text)
