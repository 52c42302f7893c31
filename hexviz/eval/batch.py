"""Decoding a dataset: problems in batches, each decoded by every expert of the plan, one
`Record` per problem."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from hexviz.decode.plan import Plan
from hexviz.eval.records import EvalResults, Record, finite
from hexviz.tasks import get_task
from hexviz.tasks.base import Problem


def read_problems(path: str | Path, limit: int | None = None) -> list[Problem]:
    """GSM8K jsonl: ``question`` and ``answer`` ending in ``#### N`` (commas, decimals allowed),
    golds normalised as the built-in model's answers are (the ``tinygsm`` task)."""
    return get_task("tinygsm").read(path, limit)


def record_of(index: int, problem: Problem, run) -> Record:
    """One problem's record from its decoded `Run`."""
    ts = run.trajectories
    return Record(index, problem.question, problem.gold, [t.answer for t in ts],
                  [t.collapsed for t in ts], [t.text for t in ts],
                  [finite(t.ar_ness) for t in ts], [finite(t.early_end_share) for t in ts],
                  [t.one_step_log_likelihood for t in ts], [t.steps_taken for t in ts],
                  [len(t.token_ids) for t in ts], [useful_tokens(t, run.special.end_ids) for t in ts])


def useful_tokens(t, end_ids: tuple[int, ...]) -> int:
    """Tokens of the final canvas that are not end tokens (rho-EOS's useful tokens)."""
    return int((~np.isin(t.token_ids, end_ids)).sum())


def evaluate(lm, plan: Plan, problems: Sequence[Problem], batch_size: int = 8, data: str = "",
             on_batch: Callable[[int], None] | None = None,
             indices: Sequence[int] | None = None) -> EvalResults:
    """Decode ``problems`` (the plan's prompts, one each) in batches of ``batch_size`` and
    record every expert's answer, read by the plan's reader.

    ``indices`` pick the problems this process decodes (default all): their positions in the
    whole dataset, so shards evaluated by different processes merge back in order.
    """
    from hexviz.decode.assemble import assemble
    from hexviz.decode.engine import decode_all  # torch only when decoding

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1 (got {batch_size})")
    indices = list(range(len(problems))) if indices is None else list(indices)
    reader = plan.reader
    results = EvalResults(lm.name, data, plan.config, list(plan.experts), reader.answer_format,
                          task=plan.task.name if plan.task else None, tie_rule=reader.tie_rule)
    for start in range(0, len(indices), batch_size):
        chunk = indices[start:start + batch_size]
        decoded = decode_all(lm, [plan.prompts[i] for i in chunk], plan.experts, plan.config)
        runs = assemble(lm, decoded, reader, [problems[i].question for i in chunk])
        for i, run in zip(chunk, runs, strict=True):
            results.records.append(record_of(i, problems[i], run))
        results.decode_s += decoded.timing.decode_s
        results.row_passes += decoded.timing.row_passes or 0  # the batch's, shared by its runs
        if on_batch:
            on_batch(len(chunk))
    return results


def default_batch_size(device) -> int:
    """Problems per forward pass: on CPU one problem's rows already fill the matrix kernels and
    bigger batches were slower per problem (bench/README.md); a GPU wants more rows."""
    return 1 if device.type == "cpu" else 8
