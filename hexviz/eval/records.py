"""Eval records: one `Record` per problem, `EvalResults` per dataset, and reading results files.

A record keeps every expert's answer and one-step likelihood, so the vote can be re-scored
with any number of experts and any tie rule without decoding again.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hexviz import limits
from hexviz.policy.settings import DecodeConfig, Expert
from hexviz.runs.schema import check_schema, missing_field
from hexviz.runs.vote import check_tie_rule
from hexviz.tasks import get_task

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
    # Each expert's final canvas length (gen_length unless it grew or shrank) and how many of
    # its tokens are not end tokens (older files: none)
    lengths: list[int] = field(default_factory=list)
    useful: list[int] = field(default_factory=list)
    # Each expert's mean probability of the tokens it committed (older files: none)
    confidences: list[float | None] = field(default_factory=list)


@dataclass
class EvalResults:
    """A dataset decoded by one plan: its settings, experts and one `Record` per problem."""

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


def finite(value: float) -> float | None:
    return None if math.isnan(value) else round(value, 4)


def results_from_json(d: Any) -> EvalResults:
    check_schema(d, RESULTS_SCHEMA, RESULTS_SCHEMA_VERSION, "hexviz eval results file")
    try:
        limits.check_eval_file(len(d["experts"]), len(d["records"]))
        experts = [Expert.from_json(e) for e in d["experts"]]
        records = [Record(r["index"], r["question"], r["gold"], r["answers"], r["collapsed"],
                          r.get("texts", []), r.get("ar_ness", []), r.get("early_end", []),
                          _likelihoods(r.get("one_step_log_likelihoods", [])),
                          [int(v) for v in r.get("steps", [])],
                          [int(v) for v in r.get("lengths", [])],
                          [int(v) for v in r.get("useful", [])],
                          _probabilities(r.get("confidences", [])))
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


def _probabilities(values: Any) -> list[float | None]:
    if not isinstance(values, list) or not all(
            v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)
                          and 0 <= v <= 1) for v in values):
        raise ValueError("confidences must be a list of numbers in [0, 1] or nulls")
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
