"""The HEX authors' eval output read as hexviz eval records, and their per-step canvases (where a
file kept them) as trajectories.

HEX/eval/eval.py (junos-ai-org/hex, commit b714b9c) decodes a dataset with one block size per
run and writes one JSON of generations, ``{"generations": [{"question", "prompt_input",
"generations" (the answer region decoded with its special tokens), "ground_truth",
"loglikelihood", optional "intermediate_types"}], "gen_length", "diffusion_steps",
"block_length", ...}``, named ``{timestamp}_{dataset}_{model}_{decoding}_genlen{G}_diffsteps{S}
_block{B}_seed{seed}_kv{kv}_generations.json``. `import_hex` reads a set of them (the same
questions in the same order) into one `EvalResults` per dataset: one expert per file, in block
order (then decoding, then seed; HEX.py's order, so ties under ``first`` go as HEX.py breaks
them), every answer parsed by the task's parser (the HEX code's own, `hexviz.tasks`), their
``loglikelihood`` as the one-step likelihood and their ground truth as gold. The vote under each
tie rule and which block sizes were right on which problems then come from hexviz's scoring.

``intermediate_types`` hold the answer region after every step: token strings
(``tokenizer.convert_ids_to_tokens``, generate.py at b714b9c) or, in files of the code before it,
one letter per position (T text, M mask, A AfterEoT, E end of turn). eval.py writes them only when
``evaluate`` is called with ``save_intermediate=True``, which its command line never does. A
position's first step without a mask is its reveal step, so such a problem becomes a `Run` whose
events are the differences between consecutive canvases. What the files do not hold, the runs do
not: commit probabilities (nan), the model's drafts (none), token ids (LLaDA's ids for the mask
and end tokens, a number per run for every other token string), prompt ids; a letter file's text
tokens all read "T".
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from hexviz import limits
from hexviz.eval.records import EvalResults, Record, finite
from hexviz.eval.scoring import checker, vote_of
from hexviz.models.tokens import LLADA
from hexviz.policy.settings import DEFAULT_MAX_GEN_LENGTH, DecodeConfig, Expert
from hexviz.runs import events as ev
from hexviz.runs.record import Run, Timing, Trajectory, with_wall_flags
from hexviz.tasks import get_task
from hexviz.tasks.gsm8k import float_text
from hexviz.tasks.sudoku import cells

DATASETS = ("gsm8k", "math", "arcc", "truthfulqa", "countdown", "sudoku")  # eval.py DATASET_MAP
# eval.py --decoding -> hexviz's remasking rule (banAEoTearly: low_confidence, plus a ban of the
# AfterEoT token in the first early_ban_steps that hexviz has no setting for)
DECODINGS = {"low_confidence": "low_confidence", "topk_margin": "margin", "random": "random",
             "low_confidence_banAEoTearly": "low_confidence"}
# eval.py --kv_caching -> hexviz's (sampler, cache), as its `evaluate` branches on it
KV_MODES = {"baseline": ("fixed", "none"), "prefix_cache": ("fixed", "prefix"),
            "parallel": ("threshold:0.9", "none"), "parallel_factor": ("factor:1.0", "none"),
            "prefix_cache_parallel": ("threshold:0.9", "prefix"),
            "dual_cache_parallel": ("threshold:0.9", "dual"),
            "prefix_cache_parallel_factor": ("factor:1.0", "prefix"),
            "dual_cache_parallel_factor": ("factor:1.0", "dual")}
MANY_BLOCK_SIZES = ("dynamic_blocks", "block_search")  # kv modes that change the block size
MASK, END_OF_TURN, END_OF_TEXT = "<|mdm_mask|>", "<|eot_id|>", "<|endoftext|>"
ENDS = (END_OF_TURN, END_OF_TEXT)
SPECIAL_IDS = {MASK: LLADA.mask_id, END_OF_TURN: LLADA.end_of_turn_id,
               END_OF_TEXT: LLADA.end_of_text_id}
LETTERS = {"T": "T", "M": MASK, "A": END_OF_TEXT, "E": END_OF_TURN}  # older intermediate_types
ANSWER_FORMAT = "boxed"  # unused while a task parses; a known extractor, so readers accept it

_NAME = re.compile(r"^\d{8}_\d{6}_(?P<dataset>[^_]+)_(?P<middle>.+)_genlen\d+_diffsteps\d+_"
                   r"(?:block\d+|blockinfo\[[^\]]*\])_seed(?P<seed>-?\d+)(?:_kv(?P<kv>.+))?"
                   r"_generations\.json$")
_SUDOKU = re.compile(r"Sudoku puzzle: ([0-9]{16})")


@dataclass(frozen=True)
class HexFile:
    """One eval.py output: what its name and its JSON say."""

    path: Path
    dataset: str | None  # from the name; None when the name is not eval.py's
    expert: Expert
    config: DecodeConfig
    model: str
    rows: list[dict[str, Any]]  # its "generations"
    notes: tuple[str, ...] = ()


@dataclass
class Imported:
    """One dataset's files read as hexviz records; `run` rebuilds a problem's trajectories."""

    task: str
    results: EvalResults
    files: list[HexFile]  # in expert order
    notes: list[str] = field(default_factory=list)

    @property
    def run_indices(self) -> list[int]:
        """Problems whose every file kept ``intermediate_types``: those `run` can rebuild."""
        return [i for i in range(len(self.results.records))
                if all(f.rows[i].get("intermediate_types") is not None for f in self.files)]

    def run(self, index: int) -> Run:
        """Problem ``index`` as a run: each expert's canvas after every step, as events."""
        record, table = self.results.records[index], {}
        trajectories = [with_wall_flags(
            _trajectory(f.expert, f.rows[index], table, record.answers[k], record.texts[k],
                        record.one_step_log_likelihoods[k]), LLADA.end_ids, f.config)
            for k, f in enumerate(self.files)]
        return Run(self.results.model, record.question, [], self.results.config, LLADA,
                   ANSWER_FORMAT, trajectories, Timing(0.0),
                   max(t.steps_taken for t in trajectories), task=self.task)


# --- one file ---------------------------------------------------------------------------------

def read_file(path: str | Path) -> HexFile:
    """One eval.py generations file; a bad one (not JSON, not eval.py's shape, too large) is
    refused in one line that names it."""
    path = Path(path)
    try:
        limits.check_file_size(path)
        d = json.loads(path.read_bytes(), parse_constant=limits.refuse_constant)
        return _hex_file(path, d)
    except OSError as err:
        raise ValueError(f"cannot read {path}: {err.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{path.name} is not JSON: {err}") from None
    except RecursionError:
        raise ValueError(f"{path.name} is not a HEX eval file: its JSON is nested too "
                         "deeply") from None
    except limits.ShapeError as err:
        raise ValueError(f"{path.name} is not a HEX eval.py generations file: {err}") from None
    except limits.LimitError as err:
        raise ValueError(f"{path.name}: {err}") from None


def _hex_file(path: Path, d: Any) -> HexFile:
    if not isinstance(d, dict) or not isinstance(d.get("generations"), list):
        raise limits.ShapeError('no "generations" list at its top level')
    if "block_length" not in d and "block_lengths" in d:
        raise limits.ShapeError("it is HEX.py's output, which keeps the voted answer only; "
                                "import eval.py's files, one per block size")
    gen_length, steps, block = (_positive(d, key) for key in
                                ("gen_length", "diffusion_steps", "block_length"))
    named, notes = _NAME.match(path.name), []
    kv = (named["kv"] or "baseline") if named else "baseline"
    kv = "dynamic_blocks" if "_blockinfo[" in path.name else kv  # that name has no kv part
    if kv in MANY_BLOCK_SIZES:
        raise limits.ShapeError(f"it decodes with kv_caching {kv}, not one block size")
    decoding = _decoding(named["middle"]) if named else "low_confidence"
    if not named:
        notes.append(f"{path.name}: not named as eval.py names its files; decoding taken as "
                     "low_confidence, seed 0, kv_caching baseline")
    elif decoding not in DECODINGS:
        notes.append(f"{path.name}: decoding {decoding!r} is not one of eval.py's; recorded as "
                     "low_confidence")
    elif decoding == "low_confidence_banAEoTearly":
        notes.append(f"{path.name}: {decoding} (AfterEoT banned for the first "
                     f"{d.get('early_ban_steps', 10)} steps) recorded as low_confidence")
    if kv not in KV_MODES:
        notes.append(f"{path.name}: kv_caching {kv!r} is not one of eval.py's; recorded as "
                     "baseline")
    elif kv != "baseline":
        notes.append(f"{path.name}: kv_caching {kv} recorded as sampler {KV_MODES[kv][0]}, "
                     f"cache {KV_MODES[kv][1]}")
    sampler, cache = KV_MODES.get(kv, KV_MODES["baseline"])
    try:
        config = DecodeConfig(gen_length, steps, max_gen_length=max(gen_length,
                                                                      DEFAULT_MAX_GEN_LENGTH),
                              sampler=sampler, cache=cache)
    except ValueError as err:
        raise limits.ShapeError(f"its settings: {err}") from None
    expert = Expert(block, DECODINGS.get(decoding, "low_confidence"),
                    int(named["seed"]) if named else 0)
    rows = d["generations"]
    if not rows:
        raise limits.ShapeError("its generations list is empty")
    limits.check_eval_file(1, len(rows))
    for i, row in enumerate(rows):
        _check_row(row, i, gen_length, config.step_cap)
    return HexFile(path, named["dataset"] if named else None, expert, config,
                   _model(d), rows, tuple(notes))


def _positive(d: dict, key: str) -> int:
    value = d.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise limits.ShapeError(f"{key} must be a positive integer (got {value!r})")
    return value


def _decoding(middle: str) -> str:
    """The decoding ending ``{model}_{decoding}`` (model names may hold underscores too)."""
    for name in sorted(DECODINGS, key=len, reverse=True):
        if middle == name or middle.endswith("_" + name):
            return name
    return middle.rsplit("_", 1)[-1]


def _model(d: dict) -> str:
    model = str(d.get("model_path") or "").rstrip("/").split("/")[-1] or "unknown model"
    lora = str(d.get("checkpoint_path") or "").rstrip("/")
    return model + (f" + {lora.split('/')[-1]}" if lora and lora != "nope" else "")


def _check_row(row: Any, i: int, gen_length: int, step_cap: int) -> None:
    if not isinstance(row, dict):
        raise limits.ShapeError(f"generation {i} is not an object")
    for key in ("question", "generations"):
        if not isinstance(row.get(key), str):
            raise limits.ShapeError(f'generation {i} has no "{key}" text')
    if "ground_truth" not in row:
        raise limits.ShapeError(f'generation {i} has no "ground_truth"')
    ll = row.get("loglikelihood")
    if ll is not None and (isinstance(ll, bool) or not isinstance(ll, (int, float))
                           or not math.isfinite(ll) or ll > 0):
        raise limits.ShapeError(f"generation {i}'s loglikelihood must be a number <= 0 "
                                f"(got {ll!r})")
    steps = row.get("intermediate_types")
    if steps is None:
        return
    if not isinstance(steps, list) or not 1 <= len(steps) <= step_cap or not all(
            isinstance(s, list) and len(s) == gen_length and all(isinstance(t, str) for t in s)
            for s in steps):
        raise limits.ShapeError(f"generation {i}'s intermediate_types must be 1 to {step_cap} "
                                f"steps of {gen_length} token strings")


# --- a set of files ---------------------------------------------------------------------------

def import_hex(paths: Sequence[str | Path], task: str | None = None) -> list[Imported]:
    """eval.py generation files as one `Imported` per dataset (the name's, or ``task`` for all)."""
    if task is not None and task not in DATASETS:
        raise ValueError(f"--task must be one of the HEX tasks: {', '.join(DATASETS)} "
                         f"(got {task!r})")
    if not paths:
        raise ValueError("no files to import")
    groups: dict[str, list[HexFile]] = {}
    for f in map(read_file, paths):
        name = task or f.dataset
        if name not in DATASETS:
            said = f"names dataset {name!r}" if name else "does not name its dataset"
            raise ValueError(f"{f.path.name} {said}; give --task (one of {', '.join(DATASETS)})")
        groups.setdefault(name, []).append(f)
    return [_imported(name, files) for name, files in groups.items()]


def _imported(task: str, files: list[HexFile]) -> Imported:
    files = sorted(files, key=lambda f: (f.expert.block_length, f.expert.remasking,
                                         f.expert.seed))
    _check_together(files)
    first, experts = files[0], [f.expert for f in files]
    limits.check_eval_file(len(experts), len(first.rows))
    parse = get_task(task).parse
    records = []
    for i, base in enumerate(first.rows):
        rows = [f.rows[i] for f in files]
        raw = [row["generations"] for row in rows]
        lls = [None if r.get("loglikelihood") is None else float(r["loglikelihood"])
               for r in rows]
        records.append(Record(
            i, base["question"], gold_of(task, base["ground_truth"], base["question"],
                                         first.path.name, i),
            [parse(text) for text in raw],
            [text.startswith(ENDS) for text in raw],  # the wall, where no reveal order is kept
            [answer_text(text) for text in raw], [], [], lls,
            [] if first.config.variable else [first.config.steps] * len(files),
            [first.config.gen_length] * len(files),
            [first.config.gen_length - sum(text.count(e) for e in ENDS) for text in raw]))
    models = sorted({f.model for f in files})
    results = EvalResults(", ".join(models), "HEX eval.py: " + ", ".join(
        f.path.name for f in files), first.config, experts, ANSWER_FORMAT, records, task=task)
    imported = Imported(task, results, files, [n for f in files for n in f.notes])
    _add_orders(imported)
    if len(models) > 1:
        imported.notes.append(f"the files come from different models: {', '.join(models)}")
    if not any(ll is not None for r in records for ll in r.one_step_log_likelihoods):
        imported.notes.append("no loglikelihood in these files: the lowest_nll tie rules are n/a")
    return imported


def _check_together(files: list[HexFile]) -> None:
    """One record set: the same problems in the same order, one config, no expert twice."""
    a = files[0]
    for b in files[1:]:
        if len(b.rows) != len(a.rows):
            raise ValueError(f"{a.path.name} holds {len(a.rows)} problems and {b.path.name} "
                             f"{len(b.rows)}: import files of the same questions")
        for i, (x, y) in enumerate(zip(a.rows, b.rows, strict=True)):
            for key in ("question", "ground_truth"):
                if x[key] != y[key]:
                    raise ValueError(f"{a.path.name} and {b.path.name} differ in problem {i}'s "
                                     f"{key}: import files of the same questions in the same "
                                     "order")
        if b.config != a.config:
            raise ValueError(f"{a.path.name} and {b.path.name} decode with different settings "
                             f"(gen_length {a.config.gen_length} vs {b.config.gen_length}, "
                             f"steps {a.config.steps} vs {b.config.steps}, sampler "
                             f"{a.config.sampler.spec} vs {b.config.sampler.spec}); one record "
                             "set shares one")
    seen: dict[Expert, Path] = {}
    for f in files:
        if f.expert in seen:
            raise ValueError(f"{seen[f.expert].name} and {f.path.name} are the same expert "
                             f"({f.expert.label}, seed {f.expert.seed})")
        seen[f.expert] = f.path


def _add_orders(imported: Imported) -> None:
    """Where every file kept its canvases, each record's walls and order metrics from them."""
    indices = imported.run_indices
    for i in indices:
        run, record = imported.run(i), imported.results.records[i]
        ts = run.trajectories
        record.collapsed = [t.collapsed for t in ts]
        record.ar_ness = [finite(t.ar_ness) for t in ts]
        record.early_end = [finite(t.early_end_share) for t in ts]
        record.steps = [t.steps_taken for t in ts]
    some = any(f.rows[i].get("intermediate_types") is not None for f in imported.files
               for i in range(len(f.rows)))
    if len(indices) < len(imported.results.records):
        imported.notes.append(
            ("only problems whose every file kept intermediate_types have reveal orders; "
             if some else "no intermediate_types in these files: ") +
            "elsewhere collapse counts only answers with no text before their first end token")


def gold_of(task: str, truth: Any, question: str, name: str = "", index: int = 0) -> str | None:
    """eval.py's ``ground_truth`` as the task's gold: gsm8k's float as its text, countdown's
    ``[numbers, target]`` and sudoku's solution (with the puzzle from the question) as JSON."""
    if truth is None:
        return None
    try:
        if task == "gsm8k":
            if isinstance(truth, bool):
                raise TypeError("not a number")
            return float_text(float(truth))
        if task == "countdown":
            numbers, target = truth
            return json.dumps([[int(n) for n in numbers], int(target)])
        if task == "sudoku":
            found = _SUDOKU.search(question)
            puzzle = question[:16] if question[:16].isdigit() and len(question) >= 16 else (
                found.group(1) if found else None)
            if puzzle is None or not re.fullmatch(r"[0-9]{16}", str(truth)):
                raise ValueError("no 16-digit puzzle and solution")
            return json.dumps([puzzle, str(truth)])
        return str(truth)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{name}: problem {index}'s ground_truth {truth!r} is not a {task} "
                         "answer") from None


def answer_text(generation: str) -> str:
    """An answer's text as hexviz records keep it: everything before its first end token."""
    cut = min((i for i in (generation.find(e) for e in ENDS) if i >= 0), default=None)
    return generation[:cut].replace(MASK, "").strip()


# --- per-step canvases -> trajectories ----------------------------------------------------------

def canvas_log(canvases: np.ndarray, mask_id: int) -> ev.EventLog:
    """The events that turn an all-mask canvas into each of ``canvases`` (S, W) in turn: a mask
    that gets a token is a commit, a token that changes an edit, a token masked again a remask."""
    before = np.full(canvases.shape[1], mask_id, dtype=np.int64)
    events = []
    for step, now in enumerate(canvases):
        for p in np.flatnonzero(now != before).tolist():
            old, new = int(before[p]), int(now[p])
            if old == mask_id:
                events.append(ev.Event(step, ev.COMMIT, p, new))
            elif new == mask_id:
                events.append(ev.Event(step, ev.REMASK, p, old=old))
            else:
                events.append(ev.Event(step, ev.EDIT, p, new, old))
        before = now
    return ev.EventLog.of(len(before), events)


def _trajectory(expert: Expert, row: dict[str, Any], table: dict[str, int], answer: str | None,
                text: str, ll: float | None) -> Trajectory:
    steps = row["intermediate_types"]
    if all(set(s) <= LETTERS.keys() for s in steps):
        steps = [[LETTERS[t] for t in s] for s in steps]
    ids = np.array([[SPECIAL_IDS[t] if t in SPECIAL_IDS else table.setdefault(t, len(table))
                     for t in s] for s in steps], dtype=np.int64)  # (S, W)
    n_steps, width = ids.shape
    return Trajectory.from_events(
        expert, canvas_log(ids, LLADA.mask_id), LLADA.mask_id, n_steps, tokens=list(steps[-1]),
        draft_ids=np.full((n_steps, width), -1, dtype=np.int64),
        draft_prob=np.full((n_steps, width), np.nan, dtype=np.float32), text=text,
        answer=answer, collapsed=False,
        end_fraction=float(np.isin(ids[-1], LLADA.end_ids).mean()),
        one_step_log_likelihood=ll)


# --- the HEX authors' table -----------------------------------------------------------------------

def _heads(results: EvalResults) -> list[str]:
    blocks = Counter(e.block_length for e in results.experts)
    return [str(e.block_length) if blocks[e.block_length] == 1
            else f"{e.block_length}{e.remasking[:1]}{e.seed}" for e in results.experts]


def _short(value: str | None, width: int = 10) -> str:
    text = "-" if value is None else " ".join(str(value).split())
    return text if len(text) <= width else text[:width - 1] + "~"


def format_grid(results: EvalResults, rows: int = 20) -> str:
    """Which experts were right on which problems, the table the HEX authors draw (a row per
    problem, a column per block size, then the vote): how many problems share each pattern,
    then the first ``rows`` problems with their answers."""
    right, voters = checker(results), results.voters
    heads = _heads(results)
    w = max(3, *map(len, heads))
    mark = lambda a, gold: "-" if a is None else "#" if right(a, gold) else "."  # noqa: E731
    patterns: Counter[str] = Counter()
    lines, some, single, by_vote = [], 0, 0, 0
    for r in results.records:
        vote = vote_of(r, voters, results.tie_rule)
        marks = [mark(a, r.gold) for a in r.answers]
        cells = " ".join(f"{m:>{w}}" for m in marks) + f" | {mark(vote.winner, r.gold):>3}"
        patterns[cells] += 1
        hits = sum(marks[i] == "#" for i in voters)
        some, single = some + (hits > 0), single + (hits == 1)
        by_vote += mark(vote.winner, r.gold) == "#"
        if len(lines) < rows:
            lines.append(f"{r.index:>7} {cells}  {_short(r.gold):>10}  "
                         + " ".join(_short(a) for a in r.answers) + f"  -> {_short(vote.winner)}")
    head = " ".join(f"{h:>{w}}" for h in heads) + " | HEX"
    out = [f"problems x experts: # right, . wrong, - no answer; HEX: the vote (ties: "
           f"{results.tie_rule})", f"{head}  problems"]
    out += [f"{cells}  {n:>8}" for cells, n in sorted(patterns.items(),
                                                      key=lambda kv: (-kv[1], kv[0]))]
    n = len(results.records)
    out += [f"right by some block size: {some} of {n}; by exactly one: {single}; by the vote: "
            f"{by_vote}", "", f"problem {head}  {'gold':>10}  answers  -> vote"] + lines
    if n > rows:
        out.append(f"(the first {rows} of {n} problems)")
    return "\n".join(out)


def sudoku_cells(results: EvalResults) -> tuple[list[float], float]:
    """Sudoku as the paper scores it: the share of empty cells filled right, summed over the
    problems (HEX's ``evaluate_sudoku_answers``), for each expert and for the vote."""
    records = [r for r in results.records if r.gold is not None]
    votes = [vote_of(r, results.voters, results.tie_rule).winner for r in records]

    def share(answers: list[str | None]) -> float:
        counts = [cells(a, r.gold) for a, r in zip(answers, records, strict=True)]
        empty = sum(e for _, e in counts)
        return sum(c for c, _ in counts) / empty if empty else math.nan

    return [share([r.answers[k] for r in records]) for k in range(len(results.experts))], \
        share(votes)


def format_cells(results: EvalResults) -> str:
    """`sudoku_cells` in one line; "" for other tasks."""
    if results.task != "sudoku":
        return ""
    experts, vote = sudoku_cells(results)
    return "sudoku cells right (the paper's score): " + ", ".join(
        f"{h} {v:.1%}" for h, v in zip(_heads(results), experts, strict=True)) + f", HEX {vote:.1%}"
