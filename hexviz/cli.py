"""hexviz (or python -m hexviz): decode a prompt with HEX experts (run), score a dataset
(eval), animate a stored run (animate), or read runs made elsewhere (import)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable
from pathlib import Path

from hexviz import limits
from hexviz.decode.plan import Plan, Settings, plan
from hexviz.eval.batch import default_batch_size, evaluate, read_problems
from hexviz.eval.records import EvalResults, load_results
from hexviz.eval.report import (
    format_paper_table,
    format_scaling,
    format_summary,
    format_tie_rules,
    format_vote_variants,
    results_to_json,
    task_label,
)
from hexviz.eval.scoring import (scaling_curve, seed_scaling_curve, summarize, tie_rule_table,
                                 vote_variants)
from hexviz.imports.hex import DATASETS as HEX_DATASETS
from hexviz.paths import TEST_SET
from hexviz.policy.length import LENGTH_MODES, LengthConfig
from hexviz.policy.length import flag as length_flag
from hexviz.policy.rules import RULE_NAMES
from hexviz.policy.samplers import EDIT_SCOPES, SAMPLER_NAMES, Sampler, parse_edit
from hexviz.policy.settings import CACHE_MODES, parse_blocks
from hexviz.policy.strategies import DVOTING_ENTROPY_THRESHOLD, DVOTING_ROUNDS, STRATEGIES
from hexviz.runs.record import Run, run_to_json
from hexviz.runs.vote import TIE_RULES
from hexviz.tasks import TASK_NAMES, get_task
from hexviz.tasks.answers import EXTRACTORS


def blocks_arg(text: str) -> tuple[int | str, ...]:
    """argparse type for --blocks "8,16,32,ada,8+24+96": plain sizes as ints, ascending, then
    schedules, presets and AdaBlock as normalized text (`parse_blocks`)."""
    try:
        return parse_blocks(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def delimiters_arg(text: str) -> tuple[str, ...]:
    """argparse type for --ada-delimiters "198 13" or ". ?": space-separated token ids or
    texts (a comma or a plus sign is a token here, never a separator)."""
    return tuple(text.split())


def sampler_arg(text: str) -> Sampler:
    """argparse type for --sampler NAME[:VALUE]: refused before anything loads."""
    try:
        return Sampler.parse(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None


def edit_arg(text: str) -> float | None:
    """argparse type for --edit T|off."""
    try:
        return parse_edit(text)
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
                        help="experts, comma-separated: block sizes 8,16,32; schedules "
                             "8+8+16+32+64 (summing to gen_length); grow, shrink; AdaBlock ada "
                             "or ada:T (T in (0, 1], default 0.3) (default: the HEX set, "
                             "gen_length/32 ... gen_length/2)")
    parser.add_argument("--ada-block-length", type=int, default=None, metavar="N",
                        help="AdaBlock's fallback block size, when no delimiter is sure "
                             "enough (default: gen_length/16)")
    parser.add_argument("--ada-delimiters", type=delimiters_arg, default=None, metavar="LIST",
                        help="AdaBlock's delimiters, space-separated token ids or texts, "
                             "e.g. \"198\" or \". ?\" (\\n: newline; default: the "
                             "tokenizer's newline, else its period)")
    parser.add_argument("--gen-length", type=int, default=None,
                        help="answer region length (default: the model's)")
    parser.add_argument("--steps", type=int, default=None,
                        help="forward passes (default: the model's; with --gen-length, the model's "
                             "tokens per step)")
    parser.add_argument("--remasking", default="low_confidence", choices=RULE_NAMES,
                        help="which positions an expert commits first")
    parser.add_argument("--sampler", type=sampler_arg, default=Sampler(),
                        help="how many per step, NAME[:VALUE]: " + ", ".join(SAMPLER_NAMES)
                             + " (e.g. threshold:0.9; default fixed, LLaDA's schedule)")
    parser.add_argument("--edit", type=edit_arg, default=None, metavar="T|off",
                        help="token editing: replace a committed token of the current block "
                             "when the model prefers another with probability above T "
                             "(default: the model's: none, unless its hexviz.json names a "
                             "threshold, as a model trained to edit would; off: never)")
    parser.add_argument("--edit-post-steps", type=int, default=0, metavar="N",
                        help="with --edit: once a block fills before its steps run out "
                             "(under fixed: after its steps), up to N + 1 more steps that only "
                             "edit it, while they change something (LLaDA2's max_post_steps; "
                             "default 0: none)")
    parser.add_argument("--edit-scope", choices=EDIT_SCOPES, default=None,
                        help="which committed tokens --edit may replace: the current block's "
                             "(LLaDA 2.1) or the answer's before the block's end (default: the "
                             "model's: block, unless its hexviz.json says answer)")
    parser.add_argument("--temperature", type=float, default=None,
                        help="sampling temperature (default 0, argmax; dVoting's rounds 0.6)")
    parser.add_argument("--seeds", type=int, default=1, help="votes per block size (seeds 0..N-1)")
    parser.add_argument("--strategy", default="hex", choices=STRATEGIES,
                        help="how the decodes are spent (docs/strategies.md): hex, one expert "
                             "per block size; seeds, one block schedule (--blocks, default "
                             "gen_length/8) sampled --seeds times; dvoting, dVoting's rounds, "
                             "each re-masking where the rounds so far disagree (default hex)")
    parser.add_argument("--rounds", type=int, default=DVOTING_ROUNDS, metavar="N",
                        help=f"--strategy dvoting: at most N rounds, 2 to 26 (default "
                             f"{DVOTING_ROUNDS})")
    parser.add_argument("--decided-vote", action="store_true",
                        help="hex and seeds, with a parallel sampler: stop the experts still "
                             "decoding once the finished ones settle the vote")
    parser.add_argument("--entropy-threshold", type=float, default=DVOTING_ENTROPY_THRESHOLD,
                        metavar="H", help="--strategy dvoting: commit every masked position of "
                                          "the block whose entropy is below H (default "
                                          f"{DVOTING_ENTROPY_THRESHOLD})")
    parser.add_argument("--answer", default=None, choices=list(EXTRACTORS),
                        help="answer extraction (default: the task's parser, else the model's; "
                             "'auto' for hub models)")
    parser.add_argument("--tie", default="first", choices=TIE_RULES,
                        help="how the vote breaks ties: first (the paper's: the answer seen "
                             "first in block order), lowest_nll (the answer with the best "
                             "one-step likelihood), frequency_lowest_nll (ties by likelihood)")
    parser.add_argument("--forbid-end-of-text", action="store_true",
                        help="remove end-of-text padding from the logits")
    parser.add_argument("--end-tokens-last", action="store_true",
                        help="exclude end tokens from confidence: reveal them last")
    parser.add_argument("--cache", default="none", choices=CACHE_MODES,
                        help="none: exact; prefix / dual: Fast-dLLM's block KV cache, an "
                             "approximation (each step computes the current block and what "
                             "follows / the current block alone; default: none)")
    add_length_args(parser)
    parser.add_argument("--max-gen-length", type=int, default=None,
                        help="raise or lower the gen_length limit (default: HEXVIZ_MAX_GEN_LENGTH)")


def add_length_args(parser: argparse.ArgumentParser) -> None:
    """--length and the growing canvas's settings; unset ones are the authors' defaults."""
    group = parser.add_argument_group(
        "growing canvas", "--length daedal|rho-eos: the answer canvas starts at --initial-length "
        "masks and grows or shrinks up to --gen-length (docs/length.md); unset settings are the "
        "authors' defaults")
    group.add_argument("--length", default="fixed", choices=LENGTH_MODES,
                       help="fixed (default), daedal or rho-eos")
    defaults = LengthConfig()
    for name, kind, text in LENGTH_FLAGS:
        group.add_argument(length_flag(name), type=kind, default=None,
                           help=f"{text} (default {getattr(defaults, name)})")


LENGTH_FLAGS = (
    ("initial_length", int, "masks the canvas starts with"),
    ("expansion_factor", int, "masks added per growth (rho-eos: times 1, 2, 4 or 8)"),
    ("high_conf_threshold", float, "commit every mask of the block above this confidence"),
    ("low_conf_threshold", float, "daedal: a mask below it may become expansion-factor masks"),
    ("eos_confidence_threshold", float, "daedal: grow the initial canvas below it"),
    ("expand_eos_confidence_threshold", float, "daedal: no insertions above it"),
    ("eos_check_tokens", int, "tail positions whose end-of-text confidence is averaged"),
    ("low_density_threshold", float, "rho-eos: grow below it"),
    ("high_density_threshold", float, "rho-eos: shrink above it"),
    ("scheduler", str, "rho-eos: const, linear or exp growth of the step outside the band"),
    ("max_adjust_steps", int, "rho-eos: steps in which the length may change"),
    ("eos_signal", str, "rho-eos: the end-of-text signal its code reads (tail) or its paper "
                        "describes (density: masks whose argmax is the end)"),
)


def length_options(args: argparse.Namespace) -> dict[str, object]:
    return {name: getattr(args, name) for name, _, _ in LENGTH_FLAGS
            if getattr(args, name) is not None}


def add_eval_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", nargs="+", choices=TASK_NAMES, default=None,
                        help="the tasks' prompts, parsers and the HEX paper's settings "
                             "(default: the model's own format); several print the paper's table")
    parser.add_argument("--data", nargs="+", default=None, metavar="FILE|TASK=FILE",
                        help="the dataset in its public format (.jsonl, .json, .csv, .parquet); "
                             "with several tasks, TASK=FILE each (default: the built-in test "
                             "set, for the model's own format and tinygsm)")
    parser.add_argument("--limit", type=int, default=None, help="first N problems")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="problems per forward pass (default: 1 on CPU, 8 on a GPU)")
    parser.add_argument("--out", type=Path, default=None,
                        help="write per-problem records here (several tasks: a folder, one "
                             "TASK.json each)")
    parser.add_argument("--no-baselines", dest="baselines", action="store_false",
                        help="decode only the HEX experts (no whole-answer baselines)")
    parser.add_argument("--rescore", type=Path, nargs="+", default=None,
                        help="score existing results files under every tie rule (no decoding); "
                             "several print the paper's table")


def settings_of(args: argparse.Namespace, task: str | None) -> Settings:
    """The decode the flags ask for (checked here, before any model loads)."""
    return Settings(task=task, blocks=args.blocks, remasking=args.remasking,
                    gen_length=args.gen_length, steps=args.steps, temperature=args.temperature,
                    seeds=args.seeds, baselines=args.baselines, sampler=args.sampler,
                    edit=args.edit, cache=args.cache, forbid_end_of_text=args.forbid_end_of_text,
                    end_tokens_last=args.end_tokens_last, answer_format=args.answer,
                    tie_rule=args.tie, length=args.length, length_options=length_options(args),
                    edit_post_steps=args.edit_post_steps, edit_scope=args.edit_scope,
                    ada_block_length=args.ada_block_length, ada_delimiters=args.ada_delimiters,
                    strategy=args.strategy, rounds=args.rounds,
                    entropy_threshold=args.entropy_threshold, decided_vote=args.decided_vote)


def run_limits(args: argparse.Namespace) -> limits.Limits:
    """The operator's limits, with --max-gen-length taking precedence over the environment."""
    current = limits.current()
    if args.max_gen_length is None:
        return current
    return dataclasses.replace(current, max_gen_length=args.max_gen_length)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (``error: ...``) and status 2, like ours."""

    def error(self, message: str):
        self.exit(2, f"error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="hexviz", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="decode one prompt with HEX experts and vote")
    run.add_argument("--prompt", required=True, help="the question, as a user would type it")
    run.add_argument("--task", choices=TASK_NAMES, default=None,
                     help="put the question in the task's prompt and parse its answers "
                          "(default: the model's own format)")
    add_model_args(run)
    add_decode_args(run)
    run.add_argument("--baselines", action="store_true",
                     help="also decode the whole answer as one block (not voting)")
    run.add_argument("--json", action="store_true", help="print the run as one JSON object")
    ev = sub.add_parser("eval", help="accuracy of HEX and its experts on a task's dataset")
    add_eval_args(ev)
    add_model_args(ev)
    add_decode_args(ev)
    add_animate_parser(sub)
    add_import_parser(sub)
    return parser


def add_animate_parser(sub) -> None:
    an = sub.add_parser("animate", help="a stored run's unmasking as an animated GIF or one "
                                        "offline HTML page")
    an.add_argument("run", type=Path, metavar="RUN.json", help="a hexviz run (--json, a download)")
    an.add_argument("--out", type=Path, required=True, metavar="FILE.gif|FILE.html")
    an.add_argument("--experts", default="",
                    help="block sizes and/or whole, e.g. 8,32,whole (default: all; one: the "
                         "middle block size; compare: the middle block size and whole)")
    an.add_argument("--layout", default="all", choices=["one", "all", "compare"],
                    help="one expert large, all side by side with the vote, or two compared")
    an.add_argument("--compare", type=Path, default=None, metavar="OTHER.json",
                    help="with --layout compare: the second run (default: RUN.json itself)")
    an.add_argument("--fps", type=float, default=8.0, help="steps per second (default 8)")
    an.add_argument("--width", type=int, default=1280, help="GIF width in pixels (default 1280)")


def add_import_parser(sub) -> None:
    im = sub.add_parser("import", help="runs made elsewhere, read as hexviz records")
    kinds = im.add_subparsers(dest="kind", required=True)
    hx = kinds.add_parser("hex", help="the HEX authors' eval.py generation files (one block "
                                      "size each) as one hexviz eval results file per dataset")
    hx.add_argument("files", type=Path, nargs="+", metavar="FILE",
                    help="{timestamp}_{dataset}_..._block{B}_..._generations.json, the same "
                         "questions in each")
    hx.add_argument("--out", type=Path, required=True, metavar="DIR",
                    help="writes DIR/TASK.json (for eval --rescore and the Scaling tab) and, "
                         "where the files kept intermediate_types, DIR/TASK_runs/*.json")
    hx.add_argument("--task", default=None, choices=HEX_DATASETS,
                    help="the dataset of every file (default: read from each file's name)")
    hx.add_argument("--rows", type=int, default=20,
                    help="problems listed in the problems x experts table (default 20)")
    hx.add_argument("--runs", type=int, default=20,
                    help="at most this many problems written as runs (default 20)")


def format_run(run: Run) -> str:
    """One line per expert (block size, answer, steps, one-step likelihood, collapsed?) and the
    vote."""
    task = f", task {run.task}" if run.task else ""
    cache = "" if run.config.cache == "none" else f", {run.config.cache} cache"
    rows = f" ({run.timing.row_passes} rows)" if run.timing.row_passes is not None else ""
    length = run.config.length
    decoding = (f"gen_length {run.config.gen_length}, steps {run.config.steps}, sampler "
                f"{run.config.sampler.label}{cache}" if not length.grows else
                f"{length.label()}, at most {run.config.gen_length}")
    lines = [f"model {run.model}{task}: {strategy_text(run) or decoding}, {run.steps_done} "
             f"forward passes{rows} in {run.timing.decode_s:.2f} s"]
    width = max(len(t.expert.label) for t in run.trajectories)
    for t in run.trajectories:
        answer = t.answer if t.answer is not None else "-"
        ll = t.one_step_log_likelihood
        flags = ("  COLLAPSED" if t.collapsed else "") + ("" if t.expert.votes else "  (no vote)")
        flags += f"  (stopped after {t.stopped_at} steps: vote decided)" if t.stopped_at >= 0 \
            else ""
        edits = f"  edits {len(t.edits)}" if run.config.edit is not None else ""
        edits += f"  length {len(t.token_ids):>3}" if length.grows else ""
        lines.append(f"  {t.expert.label:<{width}}  answer {answer:<8}"
                     f"  end tokens {t.end_fraction:4.0%}  AR-ness {t.ar_ness:4.2f}"
                     f"  steps {t.steps_taken:>3}{edits}"
                     f"  one-step ll {'-' if ll is None else f'{ll:.3f}'}{flags}")
    vote = run.vote
    if vote.winner is None:
        lines.append("vote: no expert produced an answer")
    else:
        total = sum(vote.counts.values())
        decided = {"first": "  (tie, broken by the first expert)",
                   "frequency_lowest_nll": "  (tie, broken by the lowest one-step NLL)",
                   "lowest_nll": "  (the answer with the lowest one-step NLL)"}
        lines.append(f"vote: {vote.winner} ({vote.counts[vote.winner]} of {total} votes)"
                     f"{decided.get(vote.decided_by, '')}")
    return "\n".join(lines)


def strategy_text(run: Run) -> str:
    """A dVoting run's settings for the header (its rounds stand for steps and sampler)."""
    strategy = run.config.strategy
    if not strategy.rounds_voting:
        return ""
    return (f"gen_length {run.config.gen_length}, dVoting: {len(run.trajectories)} of at most "
            f"{strategy.rounds} rounds, entropy threshold {strategy.entropy_threshold:g}")


def check_before_loading(args: argparse.Namespace, question_sets: list,
                         settings: list[Settings]) -> list[Plan]:
    """Each question set planned against the model's tokenizer, context and defaults before
    its weights load (`hexviz.models.load_outline`): a refusal comes at once, in the words the
    app and the API use for the same values."""
    from hexviz import models

    outline = models.load_outline(args.model, trust_remote_code=args.trust_remote_code)
    return [plan(outline, questions, s, run_limits(args))
            for questions, s in zip(question_sets, settings, strict=True)]


def parallel_hint(cores: int) -> str:
    """What to run instead of one process on ``cores`` CPU cores. accelerate's ``--multi_gpu``
    is its flag for several processes, GPUs or not: without it a CPU-only machine gets one."""
    return (f"hint: on {cores} shared CPU cores this is faster, one process per core: "
            f"accelerate launch --multi_gpu --num_processes {cores} -m hexviz eval ... "
            "(--multi_gpu starts the processes on CPUs too)")


def cmd_run(args: argparse.Namespace) -> int:
    from hexviz import models
    from hexviz.decode.assemble import decode  # torch is imported only when decoding

    limits.check_prompt(args.prompt)
    settings = settings_of(args, args.task)
    (checked,) = check_before_loading(args, [[args.prompt]], [settings])
    limits.check_prompt_tokens(len(checked.prompts[0]))
    limits.set_torch_threads()
    lm = models.load(args.model, device=args.device, trust_remote_code=args.trust_remote_code)
    p = plan(lm, [args.prompt], settings, run_limits(args))
    for note in p.notes:
        print(note, file=sys.stderr)
    run = decode(lm, p.prompts[0], p.experts, p.config, p.reader, args.prompt)
    print(json.dumps(run_to_json(run)) if args.json else format_run(run))
    return 0


def print_report(results: EvalResults) -> None:
    print(format_summary(summarize(results)))
    print(format_tie_rules(tie_rule_table(results)))
    print(format_scaling(scaling_curve(results), seed_scaling_curve(results)))


def datasets(tasks: list[str | None], given: list[str] | None) -> list[str]:
    """One dataset path per task, from ``--data FILE`` or ``--data TASK=FILE ...``."""
    given = given or []
    pairs = dict(item.split("=", 1) for item in given if "=" in item)
    plain = [item for item in given if "=" not in item]
    if plain and (len(tasks) > 1 or len(plain) > 1):
        raise ValueError("with several tasks or files, give --data as TASK=FILE for each task")
    unknown = sorted(set(pairs) - {t for t in tasks if t})
    if unknown:
        raise ValueError(f"--data names tasks that are not evaluated: {', '.join(unknown)}")
    paths = []
    for task in tasks:
        path = plain[0] if plain else pairs.get(task or "")
        if path is None and task in (None, "tinygsm"):
            path = str(TEST_SET)
        if path is None:
            raise ValueError(f"--data is needed for task {task} (its test set in the public "
                             f"format: {get_task(task).row_format})")
        paths.append(path)
    return paths


def rescore(paths: list[Path]) -> int:
    all_results = [load_results(path) for path in paths]
    for path, results in zip(paths, all_results, strict=True):
        if len(paths) > 1:
            print(f"== {task_label(results)} ({path})")
        print_report(results)
        print(format_vote_variants(vote_variants(results)))
    if len(all_results) > 1:
        print("\n== the HEX paper's table (accuracy)")
        print(format_paper_table(all_results))
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    if args.rescore:
        return rescore(args.rescore)
    import torch
    from accelerate import PartialState
    from accelerate.utils import gather_object
    from tqdm import tqdm

    from hexviz import models

    tasks: list[str | None] = list(dict.fromkeys(args.task)) if args.task else [None]
    settings = [settings_of(args, task) for task in tasks]
    paths = datasets(tasks, args.data)
    problem_sets = [get_task(t).read(p, args.limit) if t else read_problems(p, args.limit)
                    for t, p in zip(tasks, paths, strict=True)]
    # One process, or one per GPU/CPU under `accelerate launch`: each decodes its shard.
    check_before_loading(args, problem_sets, settings)
    state = PartialState(cpu=not torch.cuda.is_available())  # CPU processes join over gloo
    device = args.device or (state.device if state.num_processes > 1 else None)
    limits.set_torch_threads()
    lm = models.load(args.model, device=device, trust_remote_code=args.trust_remote_code)
    # refusals first: a refused eval prints one line
    plans = [plan(lm, problems, s, run_limits(args))
             for s, problems in zip(settings, problem_sets, strict=True)]
    if state.is_main_process:
        for note in dict.fromkeys(note for p in plans for note in p.notes):
            print(note, file=sys.stderr)
    cores = limits.available_cpus()  # a Space's cgroup quota, not the host's count
    if state.num_processes == 1 and lm.device.type == "cpu" and cores > 1:
        # One single-thread process per core: as fast on idle cores, far faster on shared ones,
        # where threads wait on each other (bench/README.md).
        print(parallel_hint(cores), file=sys.stderr)
    all_results = []
    for p, problems, path in zip(plans, problem_sets, paths, strict=True):
        with state.split_between_processes(list(range(len(problems)))) as mine:
            with tqdm(total=len(mine), desc=p.task.name if p.task else "eval", unit="problem",
                      disable=not state.is_main_process) as bar:
                results = evaluate(lm, p, problems,
                                   args.batch_size or default_batch_size(lm.device), path,
                                   bar.update, indices=mine)
        if state.num_processes > 1:
            results.records = sorted(gather_object(results.records), key=lambda r: r.index)
            # the processes decode side by side: the slowest one's time is the eval's
            results.decode_s = max(gather_object([results.decode_s]))
            results.row_passes = sum(gather_object([results.row_passes]))
        if not state.is_main_process:
            continue
        if len(plans) > 1:
            print(f"== {task_label(results)}")
        print_report(results)
        if p.config.cache != "none":
            print(f"cache: {p.config.cache} (Fast-dLLM's block KV cache: an approximation of "
                  f"exact decoding)")
        all_results.append(results)
        if args.out:
            out = args.out / f"{task_label(results)}.json" if len(plans) > 1 else args.out
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(results_to_json(results), indent=1) + "\n")
            print(f"records written to {out}")
    if len(all_results) > 1:
        print("\n== the HEX paper's table (accuracy)")
        print(format_paper_table(all_results))
    return 0


def read_run(path: Path) -> Run:
    """A run file, refused as the app refuses a bad upload (damaged, too large, not a run)."""
    from hexviz.runs.record import TrajectoryFormatError, load

    try:
        return load(path)
    except TrajectoryFormatError as err:
        raise ValueError(f"cannot replay {path.name}: {err}") from None


def cmd_animate(args: argparse.Namespace) -> int:
    from hexviz.render import animate  # pure: numpy and Pillow, no UI library

    if args.compare is not None and args.layout != "compare":
        raise ValueError(f"--compare needs --layout compare (got --layout {args.layout})")
    settings = animate.AnimationSettings(args.layout, animate.parse_experts(args.experts), args.fps,
                                args.width)
    animate.output_format(args.out)  # before any work: a wrong suffix is one line
    run = read_run(args.run)
    other = read_run(args.compare) if args.compare is not None else None
    try:
        out = animate.write(run, args.out, settings, other)
    except OSError as err:
        raise ValueError(f"cannot write {args.out}: {err.strerror}") from None
    print(f"{out}  {out.stat().st_size / 2**20:.2f} MB")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    """`hexviz import hex`: each dataset's records written and its tables printed."""
    from hexviz.imports import hex as hex_files

    if args.rows < 0 or args.runs < 0:
        raise ValueError(f"--rows and --runs must be >= 0 (got {args.rows}, {args.runs})")
    imported = hex_files.import_hex(args.files, args.task)
    try:
        for imp in imported:
            print(f"== {imp.task}: {len(imp.files)} experts x {len(imp.results.records)} "
                  f"problems ({imp.results.model})")
            for note in imp.notes:
                print(f"note: {note}")
            print_report(imp.results)
            print(hex_files.format_grid(imp.results, args.rows))
            if cells := hex_files.format_cells(imp.results):
                print(cells)
            args.out.mkdir(parents=True, exist_ok=True)
            out = args.out / f"{imp.task}.json"
            out.write_text(json.dumps(results_to_json(imp.results), indent=1) + "\n")
            print(f"records written to {out}")
            runs = imp.run_indices[:args.runs]
            if runs:
                folder = args.out / f"{imp.task}_runs"
                folder.mkdir(exist_ok=True)
                for i in runs:
                    (folder / f"problem_{i:04d}.json").write_text(json.dumps(
                        run_to_json(imp.run(i))))
                print(f"{len(runs)} of {len(imp.run_indices)} runs written to {folder}")
    except OSError as err:
        raise ValueError(f"cannot write to {args.out}: {err.strerror}") from None
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {"run": cmd_run, "eval": cmd_eval}
COMMANDS["animate"] = cmd_animate
COMMANDS["import"] = cmd_import


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
