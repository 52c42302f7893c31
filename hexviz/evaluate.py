"""HEX accuracy on a task's dataset: problems, batched decoding, records, scoring.

Each problem is decoded by every HEX expert and by whole-answer baselines (one block; they never
vote), several problems per forward pass. Per-problem records keep every expert's answer and
one-step likelihood, so the vote can be re-scored with any number of experts and any tie rule
without decoding again. A task (`hexviz.tasks`) supplies the prompt, the parser and the check;
without one, the model's own format is used as before tasks existed.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hexviz import limits
from hexviz.decode.settings import DecodeConfig, Expert, baseline_experts, hex_experts
from hexviz.runs.record import Run
from hexviz.runs.schema import check_schema, missing_field
from hexviz.runs.vote import NEEDS_LIKELIHOOD, TIE_RULES, check_tie_rule, majority
from hexviz.tasks import get_task
from hexviz.tasks.base import Problem, Task

RESULTS_SCHEMA = "hexviz.eval"
RESULTS_SCHEMA_VERSION = 1


@dataclass
class Record:
    """One problem: every expert's answer and collapse flag, in expert order."""

    index: int
    question: str
    gold: str | None  # None: the task's reader found no usable reference answer
    answers: list[str | None]
    collapsed: list[bool]
    texts: list[str] = field(default_factory=list)  # each expert's answer text (older files: none)
    # Order metrics per expert (None where undefined or in older files)
    ar_ness: list[float | None] = field(default_factory=list)
    early_end: list[float | None] = field(default_factory=list)  # early-end share
    # HEX's one-step likelihood per expert (older files: none)
    one_step_log_likelihoods: list[float | None] = field(default_factory=list)
    # Steps each expert took: its forward passes (older files: none; with `fixed`, all `steps`)
    steps: list[int] = field(default_factory=list)


@dataclass
class EvalResults:
    model: str
    data: str
    config: DecodeConfig
    experts: list[Expert]
    answer_format: str
    records: list[Record] = field(default_factory=list)
    decode_s: float = 0.0
    task: str | None = None  # None: files from before tasks, scored by plain equality
    tie_rule: str = "first"
    row_passes: int = 0  # rows the forward passes computed (equal rows once), all batches

    def __post_init__(self) -> None:
        check_tie_rule(self.tie_rule)
        if self.task is not None:
            get_task(self.task)  # an unknown task fails here, not while scoring

    @property
    def voters(self) -> list[int]:
        return [i for i, e in enumerate(self.experts) if e.votes]


def read_problems(path: str | Path, limit: int | None = None) -> list[Problem]:
    """GSM8K jsonl: ``question`` and ``answer`` ending in ``#### N`` (commas, decimals allowed),
    golds normalised as the built-in model's answers are (the ``tinygsm`` task)."""
    return get_task("tinygsm").read(path, limit)


def eval_experts(gen_length: int, blocks: list[int] | None, remasking: str, seeds: int,
                 temperature: float, baselines: bool = True) -> list[Expert]:
    """HEX experts (vote order), then the whole-answer baselines (no vote) unless left out."""
    experts = hex_experts(gen_length, blocks, remasking, seeds, temperature)
    return experts + (baseline_experts(gen_length, remasking, temperature) if baselines else [])


def record_of(index: int, problem: Problem, run) -> Record:
    """One problem's record from its decoded `Run`."""
    ts = run.trajectories
    return Record(index, problem.question, problem.gold, [t.answer for t in ts],
                  [t.collapsed for t in ts], [t.text for t in ts],
                  [_finite(t.ar_ness) for t in ts], [_finite(t.early_end_share) for t in ts],
                  [t.one_step_log_likelihood for t in ts], [t.steps_taken for t in ts])


def evaluate(lm, problems: Sequence[Problem], experts: Sequence[Expert], config: DecodeConfig,
             batch_size: int = 8, answer_format: str | None = None, data: str = "",
             on_batch: Callable[[int], None] | None = None,
             indices: Sequence[int] | None = None, task: Task | None = None,
             tie_rule: str = "first") -> EvalResults:
    """Decode ``problems`` in batches of ``batch_size`` and record every expert's answer.

    ``indices`` are the problems' positions in the whole dataset (default 0, 1, ...), so shards
    evaluated by different processes merge back in order. With ``task``, prompts and answers
    follow its protocol (an explicit ``answer_format`` still overrides its parser).
    """
    from hexviz.decode.engine import decode_many  # torch only when decoding

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1 (got {batch_size})")
    parse_with_task = task is not None and answer_format is None
    answer_format = answer_format or lm.defaults.answer_format
    indices = list(range(len(problems))) if indices is None else list(indices)
    results = EvalResults(lm.name, data, config, list(experts), answer_format,
                          task=task.name if task else None, tie_rule=tie_rule)
    for start in range(0, len(problems), batch_size):
        chunk = problems[start:start + batch_size]
        prompts = [prompt_ids(lm, task, p) for p in chunk]
        runs = decode_many(lm, prompts, experts, config, answer_format,
                           [p.question for p in chunk])
        for offset, (problem, run) in enumerate(zip(chunk, runs, strict=True)):
            if parse_with_task:
                apply_task(lm, task, run, tie_rule)
            results.records.append(record_of(indices[start + offset], problem, run))
        results.decode_s += runs[0].timing.decode_s
        results.row_passes += runs[0].timing.row_passes or 0  # the batch's, shared by its runs
        if on_batch:
            on_batch(len(chunk))
    return results


PAPER_TOKENS_PER_STEP = 2  # HEX/eval/HEX.py evaluate(): steps = gen_length // 2
SMALLEST_PAPER_LENGTH = 32  # halving stops here: blocks gen_length/32 ... gen_length/2 stay whole


def paper_lengths(task: Task, max_length: int | None, longest_prompt: int,
                  ) -> tuple[int, int, str | None] | None:
    """(gen_length, steps, note) of the paper's protocol for ``task`` on a model whose context
    is ``max_length`` tokens: HEX.py's 256 tokens and 128 steps, halved (as HEX.py scales them,
    steps = gen_length / 2, blocks gen_length/32 ... gen_length/2) until the longest prompt
    fits, with a note saying so; None for a task that keeps the model's own settings."""
    if task.paper_gen_length is None:
        return None
    gen_length = task.paper_gen_length
    while (max_length and longest_prompt + gen_length > max_length
           and gen_length > SMALLEST_PAPER_LENGTH):
        gen_length //= 2
    note = None
    if gen_length != task.paper_gen_length:
        note = (f"note: the paper's gen_length {task.paper_gen_length} plus a {longest_prompt}-"
                f"token prompt exceeds this model's {max_length}-token context; using gen_length "
                f"{gen_length}, steps {gen_length // PAPER_TOKENS_PER_STEP} (the paper's ratios)")
    return gen_length, gen_length // PAPER_TOKENS_PER_STEP, note


def with_tie_rule(run: Run, tie_rule: str) -> Run:
    check_tie_rule(tie_rule)
    run.tie_rule = tie_rule
    run.__dict__.pop("vote", None)  # recount under the new rule
    return run


def prompt_ids(lm, task: Task | None, problem: Problem) -> list[int]:
    """The problem's prompt: the task's protocol, else the model's chat template."""
    return task.prompt_ids(lm.tokenizer, problem) if task else lm.format_prompt(problem.question)


def apply_task(lm, task: Task, run: Run, tie_rule: str = "first") -> Run:
    """``run`` with every expert's answer parsed by ``task`` (from the text it reads) and its
    vote under ``tie_rule``."""
    for t in run.trajectories:
        t.answer = task.parse(task.generation_text(lm.tokenizer, t.token_ids.tolist(), t.text))
    run.task = task.name
    return with_tie_rule(run, tie_rule)  # also drops a vote cached with the old answers


# --- scoring ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExpertScore:
    label: str
    votes: bool
    accuracy: float
    no_answer: float  # strict: no extractable answer
    collapse: float  # the AfterEoT wall (metrics.is_wall_collapse)
    ar_ness: float = math.nan  # mean over problems; nan where not recorded
    early_end_share: float = math.nan
    steps: float = math.nan  # mean steps taken: the expert's forward passes per problem


@dataclass(frozen=True)
class Summary:
    problems: int
    experts: list[ExpertScore]
    hex_accuracy: float
    tie_rate: float
    oracle: float  # some voting expert was right
    disagreement: float  # voting experts gave more than one distinct answer
    mean_expert_accuracy: float
    tie_rule: str = "first"
    decided_by: dict[str, int] = field(default_factory=dict)  # what decided, problems each
    # Per problem, mean: the voting experts' steps summed (the rows the vote costs, each expert
    # decoded on its own), and the slowest one's (forward passes of the batched experts)
    vote_row_passes: float = math.nan
    vote_steps: float = math.nan


def _finite(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


def _no_nan(items: list[tuple[str, Any]]) -> dict[str, Any]:
    """A dict with nan as None: JSON has no NaN, and strict readers refuse it."""
    return {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in items}


def _mean(values: Iterable[float | None]) -> float:
    known = [v for v in values if v is not None]
    return sum(known) / len(known) if known else math.nan


def vote_of(record: Record, voters: Sequence[int], tie_rule: str = "first"):
    lls = record.one_step_log_likelihoods
    return majority([record.answers[i] for i in voters],
                    [lls[i] for i in voters] if lls else None, tie_rule)


def checker(results: EvalResults) -> Callable[[str | None, str | None], bool]:
    """Whether an answer is right: the task's rule; plain equality for files without a task."""
    if results.task is None:
        return lambda answer, gold: answer == gold
    return get_task(results.task).is_correct


def has_likelihoods(results: EvalResults) -> bool:
    return bool(results.records) and all(
        r.one_step_log_likelihoods and all(
            ll is not None for a, ll in zip(r.answers, r.one_step_log_likelihoods)
            if a is not None) for r in results.records)


def summarize(results: EvalResults, voters: Sequence[int] | None = None,
              tie_rule: str | None = None) -> Summary:
    """Accuracy per expert, and of the HEX vote over ``voters`` (default: every voting expert)
    under ``tie_rule`` (default: the one the results were made with)."""
    voters = list(results.voters if voters is None else voters)
    tie_rule = tie_rule or results.tie_rule
    records = results.records
    n = len(records)
    if n == 0:
        raise ValueError("no records to score")
    right = checker(results)
    rate = lambda hits: sum(hits) / n  # noqa: E731
    scores = [ExpertScore(
        expert.label, expert.votes,
        rate(right(r.answers[i], r.gold) for r in records),
        rate(r.answers[i] is None for r in records),
        rate(r.collapsed[i] for r in records),
        _mean(r.ar_ness[i] for r in records if r.ar_ness),
        _mean(r.early_end[i] for r in records if r.early_end),
        _mean(r.steps[i] for r in records if r.steps))
        for i, expert in enumerate(results.experts)]
    votes = [vote_of(r, voters, tie_rule) for r in records]
    voting = [scores[i].accuracy for i in voters]
    decided: dict[str, int] = {}
    for v in votes:
        decided[str(v.decided_by)] = decided.get(str(v.decided_by), 0) + 1
    return Summary(
        problems=n, experts=scores,
        hex_accuracy=rate(right(v.winner, r.gold) for v, r in zip(votes, records, strict=True)),
        tie_rate=rate(v.tie for v in votes),
        oracle=rate(any(right(r.answers[i], r.gold) for i in voters) for r in records),
        disagreement=rate(len({r.answers[i] for i in voters}) > 1 for r in records),
        mean_expert_accuracy=sum(voting) / len(voting),
        tie_rule=tie_rule, decided_by=decided,
        vote_row_passes=_mean(sum(r.steps[i] for i in voters) for r in records if r.steps),
        vote_steps=_mean(max(r.steps[i] for i in voters) for r in records if r.steps),
    )


def tie_rule_table(results: EvalResults) -> list[tuple[str, float | None, float]]:
    """(tie rule, HEX accuracy, share of problems the rule decided) for every rule; accuracy
    None for the likelihood rules when the records have no likelihoods (older files)."""
    rows = []
    for rule in TIE_RULES:
        if rule in NEEDS_LIKELIHOOD and not has_likelihoods(results):
            rows.append((rule, None, math.nan))
            continue
        s = summarize(results, None, rule)
        rows.append((rule, s.hex_accuracy, s.decided_by.get(rule, 0) / s.problems))
    return rows


def scaling_curve(results: EvalResults) -> list[tuple[int, float, float]]:
    """(votes, HEX accuracy, tie rate) using the first 1..K voting experts.

    Experts are taken in results order: block sizes ascending, and for each block size its seeds,
    so with several seeds the first votes come from the smallest blocks.
    """
    voters = results.voters
    return [(k, s.hex_accuracy, s.tie_rate)
            for k in range(1, len(voters) + 1)
            for s in [summarize(results, voters[:k])]]


def seed_scaling_curve(results: EvalResults) -> list[tuple[int, int, float, float]]:
    """(seeds per block size, votes, HEX accuracy, tie rate) for 1..N seeds of every block size.

    Each point keeps the whole HEX set and adds seeds, the way the paper scales votes; empty when
    the results hold one seed per block size.
    """
    seeds = sorted({results.experts[i].seed for i in results.voters})
    if len(seeds) < 2:
        return []
    points = []
    for n in range(1, len(seeds) + 1):
        voters = [i for i in results.voters if results.experts[i].seed in seeds[:n]]
        s = summarize(results, voters)
        points.append((n, len(voters), s.hex_accuracy, s.tie_rate))
    return points


def frontier_verdict(rows: list[dict[str, Any]], points: float = 0.02,
                     share: float = 0.4) -> str:
    """One sentence on a sampler frontier (rows of ``sampler``, ``hex`` accuracy and
    ``vote_row_passes``, one of them ``fixed``): the cheapest threshold or factor sampler within
    ``points`` of fixed HEX at <= ``share`` of its row passes, else the most accurate of those
    at that cost (or, if none is that cheap, the cheapest)."""
    fixed = next(r for r in rows if r["sampler"] == "fixed")
    cost = lambda r: r["vote_row_passes"] / fixed["vote_row_passes"]  # noqa: E731
    parallel = [r for r in rows if r["sampler"].split(":")[0] in ("threshold", "factor")]
    if not parallel:
        return "no threshold or factor sampler was measured"
    near = [r for r in parallel if r["hex"] >= fixed["hex"] - points and cost(r) <= share]
    target = f"within {points * 100:g} points of fixed HEX ({fixed['hex']:.1%}) at <= " \
             f"{share:.0%} of its row passes"
    if near:
        best = min(near, key=cost)
        return f"{target}: {best['sampler']} ({best['hex']:.1%} at {cost(best):.0%})"
    cheap = [r for r in parallel if cost(r) <= share]
    best = max(cheap, key=lambda r: r["hex"]) if cheap else min(parallel, key=cost)
    return (f"no threshold or factor sampler is {target}; the best at that cost: "
            f"{best['sampler']} ({best['hex']:.1%} at {cost(best):.0%})")


def format_summary(summary: Summary) -> str:
    labels = [s.label + ("" if s.votes else " [baseline]") for s in summary.experts]
    w = max([28, *map(len, labels)])  # long baseline labels must not push their row askew
    lines = [f"{'expert':<{w}} {'accuracy':>9} {'no answer':>10} {'collapse':>9} "
             f"{'AR-ness':>8} {'early end':>10} {'passes':>7}"]
    for label, s in zip(labels, summary.experts, strict=True):
        lines.append(f"{label:<{w}} {s.accuracy:>9.1%} {s.no_answer:>10.1%} {s.collapse:>9.1%} "
                     f"{s.ar_ness:>8.2f} {s.early_end_share:>10.1%} {s.steps:>7.1f}")
    lines += [
        f"{'HEX vote':<{w}} {summary.hex_accuracy:>9.1%}   tie rate {summary.tie_rate:.1%}"
        f" (ties: {summary.tie_rule})"
        f"   passes {summary.vote_row_passes:.1f} rows, {summary.vote_steps:.1f} batched",
        f"{'mean voting expert':<{w}} {summary.mean_expert_accuracy:>9.1%}",
        f"{'oracle (any expert right)':<{w}} {summary.oracle:>9.1%}",
        f"{'experts disagree':<{w}} {summary.disagreement:>9.1%}",
        f"problems: {summary.problems}",
    ]
    return "\n".join(lines)


def format_tie_rules(rows: list[tuple[str, float | None, float]]) -> str:
    """HEX accuracy under every tie rule, and how many problems each rule decided."""
    lines = ["tie rule              HEX accuracy  decided by the rule"]
    for rule, accuracy, share in rows:
        if accuracy is None:
            lines.append(f"{rule:<21} {'n/a':>12}  (no one-step likelihoods in these records)")
        else:
            lines.append(f"{rule:<21} {accuracy:>12.1%}  {share:>19.1%}")
    return "\n".join(lines)


# The paper's Table 1 rows: whole-answer baselines by rule, each expert, HEX, mean, oracle.
BASELINE_ROWS = (("margin", "top-k margin (whole answer)"),
                 ("low_confidence", "low-confidence (whole answer)"),
                 ("random", "random (whole answer)"))


def paper_rows(results: EvalResults) -> dict[str, float]:
    """One task's column of the paper's table: row label -> accuracy."""
    summary = summarize(results)
    column = {}
    for rule, label in BASELINE_ROWS:
        for e, s in zip(results.experts, summary.experts, strict=True):
            if not e.votes and e.remasking == rule:
                column[label] = s.accuracy
    for i in results.voters:
        column[f"expert {results.experts[i].label}"] = summary.experts[i].accuracy
    column[f"HEX (ties: {summary.tie_rule})"] = summary.hex_accuracy
    column["mean expert"] = summary.mean_expert_accuracy
    column["oracle (any expert right)"] = summary.oracle
    return column


def task_label(results: EvalResults) -> str:
    return results.task or Path(results.data).stem or "data"


def format_paper_table(all_results: Sequence[EvalResults]) -> str:
    """Rows as in the HEX paper's Table 1, one column per task (accuracy %, - where absent)."""
    columns = [paper_rows(r) for r in all_results]
    labels = list(dict.fromkeys(label for column in columns for label in column))
    names = [task_label(r) for r in all_results]
    w = max(len(label) for label in labels)
    cw = max(8, *map(len, names))
    lines = [f"{'':<{w}}  " + "  ".join(f"{n:>{cw}}" for n in names)]
    for label in labels:
        cells = [f"{c[label]:>{cw}.1%}" if label in c else f"{'-':>{cw}}" for c in columns]
        lines.append(f"{label:<{w}}  " + "  ".join(cells))
    lines.append(f"{'problems':<{w}}  " + "  ".join(f"{len(r.records):>{cw}}"
                                                   for r in all_results))
    return "\n".join(lines)


def format_scaling(curve: list[tuple[int, float, float]],
                   by_seeds: list[tuple[int, int, float, float]]) -> str:
    """The vote-by-vote curve, then (with several seeds) the curve by seeds per block size."""
    lines = ["votes  accuracy  tie rate"]
    lines += [f"{k:>5}  {accuracy:>8.1%}  {ties:>8.1%}" for k, accuracy, ties in curve]
    if by_seeds:
        lines += ["", "seeds per block size  votes  accuracy  tie rate"]
        lines += [f"{n:>20}  {k:>5}  {accuracy:>8.1%}  {ties:>8.1%}"
                  for n, k, accuracy, ties in by_seeds]
    return "\n".join(lines)


# --- results file -------------------------------------------------------------------------------

def results_to_json(results: EvalResults) -> dict[str, Any]:
    summary = summarize(results)
    return {
        "schema": RESULTS_SCHEMA, "schema_version": RESULTS_SCHEMA_VERSION,
        "model": results.model, "data": results.data, "config": asdict(results.config),
        "answer_format": results.answer_format, "decode_s": round(results.decode_s, 3),
        "task": results.task, "tie_rule": results.tie_rule,
        "row_passes": results.row_passes,
        "experts": [asdict(e) | {"label": e.label} for e in results.experts],
        "records": [asdict(r) | {"vote": vote_of(r, results.voters, results.tie_rule).to_json()}
                    for r in results.records],
        "summary": asdict(summary, dict_factory=_no_nan),
        "scaling": [{"votes": k, "accuracy": a, "tie_rate": t}
                    for k, a, t in scaling_curve(results)],
    }


def results_from_json(d: Any) -> EvalResults:
    check_schema(d, RESULTS_SCHEMA, RESULTS_SCHEMA_VERSION, "hexviz eval results file")
    try:
        limits.check_eval_file(len(d["experts"]), len(d["records"]))
        experts = [Expert.from_json(e) for e in d["experts"]]
        records = [Record(r["index"], r["question"], r["gold"], r["answers"], r["collapsed"],
                          r.get("texts", []), r.get("ar_ness", []), r.get("early_end", []),
                          _likelihoods(r.get("one_step_log_likelihoods", [])),
                          [int(v) for v in r.get("steps", [])])
                   for r in d["records"]]
        return EvalResults(d["model"], d["data"], DecodeConfig(**d["config"]), experts,
                           d["answer_format"], records, d.get("decode_s", 0.0),
                           task=d.get("task"), tie_rule=d.get("tie_rule", "first"),
                           row_passes=int(d.get("row_passes", 0)))
    except (KeyError, TypeError, ValueError) as err:
        raise ValueError(f"damaged eval results file: {missing_field(err)}") from None


def _likelihoods(values: Any) -> list[float | None]:
    if not isinstance(values, list) or not all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool) and v <= 0)
            for v in values):
        raise ValueError("one_step_log_likelihoods must be a list of numbers <= 0 or nulls")
    return [None if v is None else float(v) for v in values]


def load_results(path: str | Path) -> EvalResults:
    try:
        limits.check_file_size(path)
        text = Path(path).read_text()
        return results_from_json(json.loads(text))  # NaN allowed: metrics of empty groups
    except OSError as err:
        raise ValueError(f"cannot read {path}: {err.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path} is not JSON: {err}") from None
    except RecursionError:
        raise ValueError(f"{path} is not a results file: its JSON is nested too deeply") from None


def default_batch_size(device) -> int:
    """Problems per forward pass: on CPU one problem's rows already fill the matrix kernels and
    bigger batches were slower per problem (bench/README.md); a GPU wants more rows."""
    return 1 if device.type == "cpu" else 8
