"""``python -m hexviz``: decode a prompt with HEX experts (``run``) or score a dataset (``eval``)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable

from hexviz import limits
from hexviz.answers import EXTRACTORS
from hexviz.config import DecodeConfig, baseline_experts, hex_experts
from hexviz.evaluate import add_eval_parser, cmd_eval
from hexviz.remasking import RULE_NAMES
from hexviz.trajectory import Run, run_to_json


def parse_blocks(text: str) -> list[int]:
    """argparse type for --blocks "8,16,32"."""
    try:
        blocks = [int(b) for b in text.split(",") if b.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--blocks takes comma-separated integers such as 8,16,32 (got {text!r})") from None
    if not blocks:
        raise argparse.ArgumentTypeError("--blocks needs at least one block size")
    return blocks


def add_model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", default=None,
                        help="local directory or hub id (default: the built-in tinygsm model)")
    parser.add_argument("--device", default=None, help="cpu, cuda, ... (default: cuda if present)")
    parser.add_argument("--trust-remote-code", action="store_true",
                        help="operator opt-in to a checkpoint's own Python code (never needed "
                             "for the built-in model, LLaDA or BERT-style models)")


def add_decode_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--blocks", type=parse_blocks, default=None,
                        help="expert block sizes, e.g. 8,16,32 (default: the HEX set, "
                             "gen_length/32 ... gen_length/2)")
    parser.add_argument("--gen-length", type=int, default=None,
                        help="answer region length (default: the model's)")
    parser.add_argument("--steps", type=int, default=None, help="forward passes (default: gen length)")
    parser.add_argument("--remasking", default="low_confidence", choices=RULE_NAMES)
    parser.add_argument("--temperature", type=float, default=0.0)
    parser.add_argument("--seeds", type=int, default=1, help="votes per block size (seeds 0..N-1)")
    parser.add_argument("--answer", default=None, choices=list(EXTRACTORS),
                        help="answer extraction (default: the model's; 'auto' for hub models)")
    parser.add_argument("--forbid-end-of-text", action="store_true",
                        help="remove end-of-text padding from the logits")
    parser.add_argument("--end-tokens-last", action="store_true",
                        help="exclude end tokens from confidence: reveal them last")
    parser.add_argument("--max-gen-length", type=int, default=None,
                        help="raise or lower the gen_length limit (default: HEXVIZ_MAX_GEN_LENGTH)")


def run_limits(args: argparse.Namespace) -> limits.Limits:
    """The operator's limits, with --max-gen-length taking precedence over the environment."""
    current = limits.current()
    if args.max_gen_length is None:
        return current
    return dataclasses.replace(current, max_gen_length=args.max_gen_length)


def decode_config(args: argparse.Namespace, defaults) -> DecodeConfig:
    """The model's defaults fill what was not given; a given 0 stays 0 and is refused."""
    gen_length = defaults.gen_length if args.gen_length is None else args.gen_length
    steps = args.steps if args.steps is not None else (
        defaults.steps if args.gen_length is None else gen_length)
    return DecodeConfig(gen_length, steps, args.forbid_end_of_text, args.end_tokens_last,
                        run_limits(args).max_gen_length)


def check_run(args: argparse.Namespace, config: DecodeConfig, rows: int) -> None:
    limits.check_decode(config.gen_length, config.steps, rows, run_limits(args))


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``error: ...``) and status 2, like ours."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="python -m hexviz", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="decode one prompt with HEX experts and vote")
    run.add_argument("--prompt", required=True, help="the question, as a user would type it")
    add_model_args(run)
    add_decode_args(run)
    run.add_argument("--baselines", action="store_true",
                     help="also decode the whole answer as one block (not voting)")
    run.add_argument("--json", action="store_true", help="print the run as one JSON object")
    add_eval_parser(sub, add_model_args, add_decode_args)
    return parser


def format_run(run: Run) -> str:
    """One line per expert (block size, answer, collapsed?) and the vote."""
    lines = [f"model {run.model}: gen_length {run.config.gen_length}, steps {run.config.steps}, "
             f"{run.timing.forward_passes} forward passes in {run.timing.decode_s:.2f} s"]
    width = max(len(t.expert.label) for t in run.trajectories)
    for t in run.trajectories:
        answer = t.answer if t.answer is not None else "-"
        flags = ("  COLLAPSED" if t.collapsed else "") + ("" if t.expert.votes else "  (no vote)")
        lines.append(f"  {t.expert.label:<{width}}  answer {answer:<8}"
                     f"  end tokens {t.end_fraction:4.0%}{flags}")
    vote = run.vote
    if vote.winner is None:
        lines.append("vote: no expert produced an answer")
    else:
        total = sum(vote.counts.values())
        tie = "  (tie, broken by the first expert)" if vote.tie else ""
        lines.append(f"vote: {vote.winner} ({vote.counts[vote.winner]} of {total} votes){tie}")
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    from hexviz import engine, models  # torch is imported only when decoding

    limits.check_prompt(args.prompt)
    limits.set_torch_threads()
    lm = models.load(args.model, device=args.device, trust_remote_code=args.trust_remote_code)
    config = decode_config(args, lm.defaults)
    experts = hex_experts(config.gen_length, args.blocks, args.remasking, args.seeds,
                          args.temperature)
    if args.baselines:
        experts += baseline_experts(config.gen_length, [args.remasking, "margin"],
                                    args.temperature)
    check_run(args, config, len(experts))
    prompt_ids = lm.format_prompt(args.prompt)
    limits.check_prompt_tokens(len(prompt_ids))
    run = engine.decode(lm, prompt_ids, experts, config, args.answer, prompt_text=args.prompt)
    print(json.dumps(run_to_json(run)) if args.json else format_run(run))
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"run": cmd_run, "eval": cmd_eval}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ValueError as err:  # bad settings, model load failures, bad files: one clear line
        print(f"error: {err}", file=sys.stderr)
        return 2
    except (MemoryError, RuntimeError, OSError) as err:  # still one line, never a traceback
        print(f"error: {type(err).__name__}: {err}".splitlines()[0], file=sys.stderr)
        return 1
