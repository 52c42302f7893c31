"""hexviz (or python -m hexviz): decode a prompt with HEX experts (run) or score a dataset
(eval)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path

from hexviz import limits
from hexviz.decode.rules import RULE_NAMES
from hexviz.decode.settings import (CACHE_MODES, DecodeConfig, baseline_experts, hex_experts,
                                    parse_blocks, resolve_lengths)
from hexviz.evaluate import (EvalResults, default_batch_size, eval_experts, evaluate,
                             format_scaling, format_summary, load_results, read_problems,
                             results_to_json, scaling_curve, seed_scaling_curve, summarize)
from hexviz.paths import TEST_SET
from hexviz.runs.record import Run, run_to_json
from hexviz.tasks.answers import EXTRACTORS


def blocks_arg(text: str) -> tuple[int, ...]:
    """argparse type for --blocks "8,16,32"."""
    try:
        return parse_blocks(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None,
                        help="local directory or hub id (default: the built-in tinygsm model)")
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda if present)")
    parser.add_argument("--trust-remote-code", action="store_true",
                        help="operator opt-in to a checkpoint's own Python code (never needed "
                             "for the built-in model, LLaDA or BERT-style models)")


def add_decode_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--blocks", type=blocks_arg, default=None,
                        help="expert block sizes, e.g. 8,16,32 (default: the HEX set, "
                             "gen_length/32 ... gen_length/2)")
    parser.add_argument("--gen-length", type=int, default=None,
                        help="answer region length (default: the model's)")
    parser.add_argument("--steps", type=int, default=None,
                        help="forward passes (default: the model's; with --gen-length, the model's "
                             "tokens per step)")
    parser.add_argument("--remasking", default="low_confidence", choices=RULE_NAMES)
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--seeds", type=int, default=1, help="votes per block size (seeds 0..N-1)")
    parser.add_argument("--answer", default=None, choices=list(EXTRACTORS),
                        help="answer extraction (default: the model's; 'auto' for hub models)")
    parser.add_argument("--forbid-end-of-text", action="store_true",
                        help="remove end-of-text padding from the logits")
    parser.add_argument("--end-tokens-last", action="store_true",
                        help="exclude end tokens from confidence: reveal them last")
    parser.add_argument("--cache", default="none", choices=CACHE_MODES,
                        help="none: exact; prefix / dual: Fast-dLLM's block KV cache, an "
                             "approximation (each step computes the current block and what "
                             "follows / the current block alone; default: none)")
    parser.add_argument("--max-gen-length", type=int, default=None,
                        help="raise or lower the gen_length limit (default: HEXVIZ_MAX_GEN_LENGTH)")


def run_limits(args: argparse.Namespace) -> limits.Limits:
    """The operator's limits, with --max-gen-length taking precedence over the environment."""
    current = limits.current()
    if args.max_gen_length is None:
        return current
    return dataclasses.replace(current, max_gen_length=args.max_gen_length)


def add_eval_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="GSM8K-format jsonl (default: the built-in test set)")
    parser.add_argument("--limit", type=int, default=None, help="first N problems")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="problems per forward pass (default: 1 on CPU, 8 on a GPU)")
    parser.add_argument("--out", type=Path, default=None, help="write per-problem records here")
    parser.add_argument("--no-baselines", dest="baselines", action="store_false",
                        help="decode only the HEX experts (no whole-answer baselines)")
    parser.add_argument("--rescore", type=Path, default=None,
                        help="score an existing results file (no decoding)")


def decode_config(args: argparse.Namespace, defaults) -> DecodeConfig:
    for flag, given in (("gen_length", args.gen_length), ("steps", args.steps)):
        if given is not None and given < 1:  # 0 means "the default" in the API, not here
            raise ValueError(f"{flag} must be a positive integer (got {given})")
    gen_length, steps = resolve_lengths(args.gen_length, args.steps, defaults.gen_length,
                                        defaults.steps, args.blocks)
    return DecodeConfig(gen_length, steps, args.forbid_end_of_text, args.end_tokens_last,
                        run_limits(args).max_gen_length, cache=args.cache)


def cached_or_exact(lm, config: DecodeConfig, say: bool = True) -> DecodeConfig:
    """``config``, or with ``cache="none"`` for a model without a block KV cache, which
    decodes exactly; that is said on stderr (a note, not an error)."""
    from hexviz.decode.cache import cache_refusal

    refusal = cache_refusal(lm, config.cache)
    if refusal is None:
        return config
    if say:
        print(f"note: {refusal}", file=sys.stderr)
    return dataclasses.replace(config, cache="none")


def check_run(args: argparse.Namespace, config: DecodeConfig, rows: int) -> None:
    limits.check_decode(config.gen_length, config.steps, rows, run_limits(args))


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``error: ...``) and status 2, like ours."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="hexviz", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="decode one prompt with HEX experts and vote")
    run.add_argument("--prompt", required=True, help="the question, as a user would type it")
    add_model_args(run)
    add_decode_args(run)
    run.add_argument("--baselines", action="store_true",
                     help="also decode the whole answer as one block (not voting)")
    run.add_argument("--json", action="store_true", help="print the run as one JSON object")
    ev = sub.add_parser("eval", help="accuracy of HEX and its experts on a GSM8K-format file")
    add_eval_args(ev)
    add_model_args(ev)
    add_decode_args(ev)
    return parser


def format_run(run: Run) -> str:
    """One line per expert (block size, answer, collapsed?) and the vote."""
    cache = "" if run.config.cache == "none" else f", {run.config.cache} cache"
    lines = [f"model {run.model}: gen_length {run.config.gen_length}, steps {run.config.steps}"
             f"{cache}, {run.steps_done} forward passes in {run.timing.decode_s:.2f} s"]
    width = max(len(t.expert.label) for t in run.trajectories)
    for t in run.trajectories:
        answer = t.answer if t.answer is not None else "-"
        flags = ("  COLLAPSED" if t.collapsed else "") + ("" if t.expert.votes else "  (no vote)")
        lines.append(f"  {t.expert.label:<{width}}  answer {answer:<8}"
                     f"  end tokens {t.end_fraction:4.0%}  AR-ness {t.ar_ness:4.2f}{flags}")
    vote = run.vote
    if vote.winner is None:
        lines.append("vote: no expert produced an answer")
    else:
        total = sum(vote.counts.values())
        tie = "  (tie, broken by the first expert)" if vote.tie else ""
        lines.append(f"vote: {vote.winner} ({vote.counts[vote.winner]} of {total} votes){tie}")
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    from hexviz import models
    from hexviz.decode import engine  # torch is imported only when decoding

    limits.check_prompt(args.prompt)
    limits.set_torch_threads()
    lm = models.load(args.model, device=args.device, trust_remote_code=args.trust_remote_code)
    config = decode_config(args, lm.defaults)
    experts = hex_experts(config.gen_length, args.blocks, args.remasking, args.seeds,
                          args.temperature)
    if args.baselines:
        experts += baseline_experts(config.gen_length, args.remasking, args.temperature)
    check_run(args, config, len(experts))
    config = cached_or_exact(lm, config)
    prompt_ids = lm.format_prompt(args.prompt)
    limits.check_prompt_tokens(len(prompt_ids))
    run = engine.decode(lm, prompt_ids, experts, config, args.answer, prompt_text=args.prompt)
    print(json.dumps(run_to_json(run)) if args.json else format_run(run))
    return 0


def print_report(results: EvalResults) -> None:
    print(format_summary(summarize(results)))
    print(format_scaling(scaling_curve(results), seed_scaling_curve(results)))


def cmd_eval(args: argparse.Namespace) -> int:
    if args.rescore:
        print_report(load_results(args.rescore))
        return 0
    import torch
    from accelerate import PartialState
    from accelerate.utils import gather_object
    from tqdm import tqdm

    from hexviz import models

    data = args.data or str(TEST_SET)
    problems = read_problems(data, args.limit)
    # One process, or one per GPU/CPU under `accelerate launch`: each decodes its shard.
    state = PartialState(cpu=not torch.cuda.is_available())  # CPU processes join over gloo
    device = args.device or (state.device if state.num_processes > 1 else None)
    limits.set_torch_threads()
    lm = models.load(args.model, device=device, trust_remote_code=args.trust_remote_code)
    config = decode_config(args, lm.defaults)
    experts = eval_experts(config.gen_length, args.blocks, args.remasking, args.seeds,
                           args.temperature, args.baselines)
    check_run(args, config, len(experts))  # refusals first: a refused eval prints one line
    config = cached_or_exact(lm, config, say=state.is_main_process)
    cores = limits.available_cpus()  # a Space's cgroup quota, not the host's count
    if state.num_processes == 1 and lm.device.type == "cpu" and cores > 1:
        # One single-thread process per core: as fast on idle cores, far faster on shared ones,
        # where threads wait on each other (bench/README.md).
        print(f"hint: on {cores} shared CPU cores this is faster: accelerate launch --multi_gpu "
              f"--num_processes {cores} -m hexviz eval ...", file=sys.stderr)
    with state.split_between_processes(list(range(len(problems)))) as mine:
        with tqdm(total=len(mine), desc="eval", unit="problem",
                  disable=not state.is_main_process) as bar:
            results = evaluate(lm, [problems[i] for i in mine], experts, config,
                               args.batch_size or default_batch_size(lm.device), args.answer,
                               data, bar.update, indices=mine)
    if state.num_processes > 1:
        results.records = sorted(gather_object(results.records), key=lambda r: r.index)
        # the processes decode side by side: the slowest one's time is the eval's
        results.decode_s = max(gather_object([results.decode_s]))
    if not state.is_main_process:
        return 0
    print_report(results)
    if config.cache != "none":
        print(f"cache: {config.cache} (Fast-dLLM's block KV cache: an approximation of exact "
              f"decoding)")
    if args.out:
        args.out.write_text(json.dumps(results_to_json(results), indent=1) + "\n")
        print(f"records written to {args.out}")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"run": cmd_run, "eval": cmd_eval}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ValueError as err:  # bad settings, model load failures, bad files: one clear line
        print(f"error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # noqa: BLE001  anything else: still one line, never a traceback
        print(f"error: {type(err).__name__}: {err}".splitlines()[0], file=sys.stderr)
        return 1
