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


def record_of(index: int, problem: Problem, run, experts: int | None = None) -> Record:
    """One problem's record from its decoded `Run`; ``experts`` pads it to the plan's experts
    when the run decoded fewer (dVoting's rounds that the settled answers made unneeded: no
    answer, no steps)."""
    ts = run.trajectories
    missing = (experts or len(ts)) - len(ts)
    pad = lambda values, value: list(values) + [value] * missing  # noqa: E731
    return Record(index, problem.question, problem.gold, pad([t.answer for t in ts], None),
                  pad([t.collapsed for t in ts], False), pad([t.text for t in ts], ""),
                  pad([finite(t.ar_ness) for t in ts], None),
                  pad([finite(t.early_end_share) for t in ts], None),
                  pad([t.one_step_log_likelihood for t in ts], None),
                  pad([t.steps_taken for t in ts], 0), pad([len(t.token_ids) for t in ts], 0),
                  pad([useful_tokens(t, run.special.end_ids) for t in ts], 0),
                  pad([mean_confidence(t) for t in ts], None))


def mean_confidence(t) -> float | None:
    """The mean probability of the tokens the expert committed, as it committed them."""
    committed = t.reveal_conf[np.isfinite(t.reveal_conf)]
    return float(committed.mean()) if len(committed) else None


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
    from hexviz.decode.assemble import assemble, decode_many
    from hexviz.decode.engine import decode_all  # torch only when decoding

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1 (got {batch_size})")
    indices = list(range(len(problems))) if indices is None else list(indices)
    reader = plan.reader
    results = EvalResults(lm.name, data, plan.config, list(plan.experts), reader.answer_format,
                          task=plan.task.name if plan.task else None, tie_rule=reader.tie_rule)
    for start in range(0, len(indices), batch_size):
        chunk = indices[start:start + batch_size]
        prompts, questions = [plan.prompts[i] for i in chunk], [problems[i].question for i in chunk]
        if plan.config.strategy.rounds_voting:  # rounds in turn, a prompt at a time
            runs = decode_many(lm, prompts, plan.experts, plan.config, reader, questions)
            timings = [run.timing for run in runs]
        else:
            decoded = decode_all(lm, prompts, plan.experts, plan.config)
            runs = assemble(lm, decoded, reader, questions)
            timings = [decoded.timing]  # the batch's, shared by its runs
        for i, run in zip(chunk, runs, strict=True):
            results.records.append(record_of(i, problems[i], run, len(plan.experts)))
        results.decode_s += sum(t.decode_s for t in timings)
        results.row_passes += sum(t.row_passes or 0 for t in timings)
        if on_batch:
            on_batch(len(chunk))
    return results


def default_batch_size(device) -> int:
    """Problems per forward pass: on CPU one problem's rows already fill the matrix kernels and
    bigger batches were slower per problem (bench/README.md); a GPU wants more rows."""
    return 1 if device.type == "cpu" else 8
