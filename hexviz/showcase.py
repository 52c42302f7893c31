"""The showcase builder: decodes the lesson's and the gallery's stored runs and remakes the
README's animation.

``python -m hexviz.showcase build`` decodes the first problems of the built-in test set with the
built-in model at its own defaults, picks each chapter's problem by a rule (`pick_chapters`,
`pick_parallel`, `pick_growing`), and writes the runs to ``assets/gallery/`` with an index
(``lesson.index``) that `hexviz.render.lesson` reads. ``python -m hexviz.showcase growing``
decodes and writes only chapter 7's runs, adding them to the index and leaving every other
stored file as it is. ``python -m hexviz.showcase blocks RESULTS`` writes the gallery's run of
experts beyond one block size, picked from an eval of them (`bench/block_bench.py`).
``python -m hexviz.showcase animation`` remakes only the README's GIF from the stored run (no
model needed); ``show`` prints the chapters' text.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from hexviz.paths import EXAMPLES, README_ANIMATION, TEST_SET
from hexviz.render import animate
from hexviz.render.lesson import (FILE_NAMES, GROWING_FILES, INDEX, PARALLEL_FILES, baselines,
                                  distinct_answers, early_end, largest_burst, load_lesson,
                                  voter_answers, whole_row)
from hexviz.runs.gallery import GALLERY_DIR, read_run
from hexviz.runs.record import Run

CANDIDATES = 24  # test problems decoded to choose the chapters' runs from
PARALLEL_SAMPLER = "threshold:0.9"  # chapter 6's sampler: Fast-dLLM's threshold
GROWING_LENGTH = "daedal"  # chapter 7's growing canvas, at its authors' settings fitted
BLOCKS_FILE = "blocks-beyond-one-size.json"  # the gallery's run of schedules and AdaBlock


# --- choosing the chapters' problems (pure, on decoded runs) -----------------------------------

def wall_score(run: Run) -> tuple[int, float]:
    """How strongly the whole-answer rows hit the end-of-text wall: collapses, then the largest
    early end-token share."""
    rows = baselines(run)
    return (sum(run.trajectories[i].collapsed for i in rows),
            max((early_end(run, i) for i in rows), default=0.0))


def pick_chapters(runs: Sequence[Run], golds: Sequence[str]) -> dict[str, int]:
    """Each chapter's run, by rule, each a different problem where possible (first wins ties):

    - one_expert: every voting expert gave the right answer (else the vote was right);
    - wall: the most whole-answer collapses, then the most end tokens revealed early;
    - disagree: the most distinct answers among the voting experts;
    - vote: a tied vote (else the first run whose experts disagree).
    """
    if not runs:
        raise ValueError("no runs to choose the lesson's chapters from")
    taken: set[int] = set()

    def first(candidates: list[int], fallback: list[int]) -> int:
        for pool in (candidates, fallback, list(range(len(runs)))):
            free = [i for i in pool if i not in taken] or pool
            if free:
                taken.add(free[0])
                return free[0]
        raise AssertionError("unreachable")

    def best(key) -> list[int]:
        return sorted(range(len(runs)), key=lambda i: (-key(runs[i]), i))

    unanimous = [i for i, r in enumerate(runs)
                 if r.voters and all(a == golds[i] for a in voter_answers(r))]
    right = [i for i, r in enumerate(runs) if r.vote.winner == golds[i]]
    picks = {"one_expert": first(unanimous, right)}
    picks["wall"] = first(best(lambda r: wall_score(r)[0] * 10 + wall_score(r)[1]), [])
    picks["disagree"] = first(best(distinct_answers), [])
    ties = [i for i, r in enumerate(runs) if r.vote.tie]
    disagree = [i for i, r in enumerate(runs) if distinct_answers(r) > 1]
    picks["vote"] = first(ties, disagree)
    return picks


def pick_parallel(runs: Sequence[Run]) -> int:
    """Chapter 6's problem: where a voting expert of the parallel sampler committed the most
    answer tokens (not end-of-text padding) at one step (the first such problem on ties)."""
    if not runs:
        raise ValueError("no runs to choose the parallel chapter from")
    return max(range(len(runs)), key=lambda i: (largest_burst(runs[i])[0], -i))


def pick_growing(fixed_runs: Sequence[Run], grown_runs: Sequence[Run],
                 golds: Sequence[str]) -> int:
    """Chapter 7's problem: where the fixed canvas's whole-answer row collapsed and the growing
    canvas's did not; then where the fixed row's answer was wrong, the growing row's right,
    and the HEX vote right (the first such problem on ties)."""
    if not fixed_runs:
        raise ValueError("no runs to choose the growing-canvas chapter from")

    def score(i: int) -> tuple:
        fixed, grown = fixed_runs[i], grown_runs[i]
        tf, tg = fixed.trajectories[whole_row(fixed)], grown.trajectories[whole_row(grown)]
        return (tf.collapsed and not tg.collapsed, tf.answer != golds[i], tg.answer == golds[i],
                fixed.vote.winner == golds[i], -i)

    return max(range(len(fixed_runs)), key=score)


# --- building the stored runs (decodes: torch only here) ---------------------------------------

def portable(run: Run) -> Run:
    """The run with its model named by the checkpoint's folder, not this machine's path."""
    run.model = Path(run.model).name or run.model
    return run


def decode_candidates(lm, candidates: int) -> tuple[list, list[Run]]:
    """The first ``candidates`` test problems, each decoded by the HEX experts and the
    whole-answer rows at the model's own lengths, as every fixed-canvas chapter has them."""
    from hexviz.decode.assemble import decode
    from hexviz.eval.batch import read_problems
    from hexviz.policy.settings import DecodeConfig, baseline_experts, hex_experts

    config = DecodeConfig.of_model(lm.defaults)  # its lengths and editing, as the app decodes
    experts = hex_experts(config.gen_length) + baseline_experts(config.gen_length)
    problems = read_problems(TEST_SET, candidates)
    runs = []
    for n, problem in enumerate(problems, 1):
        runs.append(portable(decode(lm, lm.format_prompt(problem.question), experts, config,
                                    question=problem.question)))
        print(f"\rdecoded {n}/{len(problems)} test problems", end="", file=sys.stderr)
    print(file=sys.stderr)
    return problems, runs


def build(out: Path = GALLERY_DIR, candidates: int = CANDIDATES, model: str | None = None,
          examples: int = 2) -> list[Path]:
    """Decode, choose and write the lesson's runs (plus the first ``examples`` app examples)."""
    from hexviz import models
    from hexviz.decode.assemble import decode

    lm = models.load(model)
    problems, runs = decode_candidates(lm, candidates)
    config, experts = runs[0].config, [t.expert for t in runs[0].trajectories]
    picks = pick_chapters(runs, [p.gold for p in problems])
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for key, index in picks.items():
        written.append(save_small(runs[index], out / FILE_NAMES[key]))
    parallel_paths, parallel = build_parallel(lm, problems, runs, out)
    written += parallel_paths
    growing_paths, growing = build_growing(lm, problems, runs, out)
    written += growing_paths
    for i, question in enumerate(json.loads(EXAMPLES.read_text())[:examples], 1):
        run = portable(decode(lm, lm.format_prompt(question), experts, config,
                              question=question))
        written.append(save_small(run, out / f"example-{i}.json"))
    index = {"model": Path(lm.name).name, "gen_length": config.gen_length, "steps": config.steps,
             "candidates": len(problems),
             "chapters": {k: {"file": FILE_NAMES[k], "test_index": i, "gold": problems[i].gold}
                          for k, i in picks.items()}}
    index["chapters"]["parallel"] = {**PARALLEL_FILES, "sampler": PARALLEL_SAMPLER,
                                     "test_index": parallel, "gold": problems[parallel].gold}
    index["chapters"]["growing"] = growing_entry(problems, growing)
    (out / INDEX.name).write_text(json.dumps(index, indent=1) + "\n")
    # the README's GIF; a build elsewhere (a test, another model) keeps its GIF beside its runs
    gif = README_ANIMATION if out.resolve() == GALLERY_DIR.resolve() else out / README_ANIMATION.name
    written.append(readme_animation(out, gif))
    return written


def build_parallel(lm, problems, fixed_runs: Sequence[Run], out: Path) -> tuple[list[Path], int]:
    """Chapter 6's files: the candidates decoded by the HEX experts with `PARALLEL_SAMPLER`,
    the one picked by `pick_parallel` and its fixed-schedule run, and both samplers' records
    on all candidates (eval results files: the chapter's numbers come from them)."""
    from hexviz.decode.assemble import decode
    from hexviz.eval.batch import record_of
    from hexviz.eval.records import EvalResults
    from hexviz.eval.report import results_to_json
    from hexviz.policy.settings import DecodeConfig, hex_experts

    config = DecodeConfig.of_model(lm.defaults, sampler=PARALLEL_SAMPLER)
    experts = hex_experts(config.gen_length)
    runs = [portable(decode(lm, lm.format_prompt(p.question), experts, config,
                            question=p.question)) for p in problems]
    chosen = pick_parallel(runs)
    paths = [save_small(runs[chosen], out / PARALLEL_FILES["run"]),
             save_small(fixed_runs[chosen], out / PARALLEL_FILES["fixed"])]
    for key, decoded in (("eval", runs), ("fixed_eval", fixed_runs)):
        results = EvalResults(Path(lm.name).name, "tinygsm test (lesson candidates)",
                              decoded[0].config, [t.expert for t in decoded[0].trajectories],
                              decoded[0].answer_format,
                              [record_of(i, p, r) for i, (p, r) in
                               enumerate(zip(problems, decoded, strict=True))],
                              sum(r.timing.decode_s for r in decoded),
                              row_passes=sum(r.timing.row_passes or 0 for r in decoded))
        path = out / PARALLEL_FILES[key]
        path.write_text(json.dumps(results_to_json(results)) + "\n")
        paths.append(path)
    return paths, chosen


def build_growing(lm, problems, fixed_runs: Sequence[Run],
                  out: Path) -> tuple[list[Path], int]:
    """Chapter 7's files: the candidates decoded on a growing canvas (`GROWING_LENGTH`) by the
    HEX experts and the whole-answer row that commits by confidence, the one picked by
    `pick_growing`, and its fixed-canvas run."""
    from hexviz.decode.assemble import decode
    from hexviz.policy.length import LengthConfig, fitted_to
    from hexviz.policy.settings import DecodeConfig, baseline_experts, hex_experts

    fixed = fixed_runs[0].config
    length, _ = fitted_to(LengthConfig(GROWING_LENGTH), fixed.gen_length)
    config = DecodeConfig(fixed.gen_length, fixed.steps, length=length)
    experts = hex_experts(config.gen_length) + baseline_experts(config.gen_length)[:1]
    runs = [portable(decode(lm, lm.format_prompt(p.question), experts, config,
                            question=p.question)) for p in problems]
    chosen = pick_growing(fixed_runs, runs, [p.gold for p in problems])
    return [save_small(runs[chosen], out / GROWING_FILES["run"]),
            save_small(fixed_runs[chosen], out / GROWING_FILES["fixed"])], chosen


def growing_entry(problems, chosen: int) -> dict:
    return {**GROWING_FILES, "length": GROWING_LENGTH, "test_index": chosen,
            "gold": problems[chosen].gold}


def build_growing_only(out: Path = GALLERY_DIR, candidates: int = CANDIDATES,
                       model: str | None = None) -> list[Path]:
    """Chapter 7 alone: decode the candidates on both canvases, write its two runs and add its
    entry to the index; every other stored file stays as it is."""
    from hexviz import models

    lm = models.load(model)
    problems, runs = decode_candidates(lm, candidates)
    out.mkdir(parents=True, exist_ok=True)
    written, chosen = build_growing(lm, problems, runs, out)
    index_path = out / INDEX.name
    index = json.loads(index_path.read_text()) if index_path.exists() else {}
    index.setdefault("chapters", {})["growing"] = growing_entry(problems, chosen)
    index_path.write_text(json.dumps(index, indent=1) + "\n")
    return [*written, index_path]


def pick_rescue(results) -> tuple[int, int] | None:
    """(record position, expert index) of the first problem a schedule or AdaBlock expert got
    right while every plain block size got it wrong (`scoring.rescues`); None when none did."""
    from hexviz.eval.scoring import rescues

    found = sorted((n, i) for i, problems in rescues(results).items() for n in problems)
    return found[0] if found else None


def build_blocks(results_path: Path, out: Path = GALLERY_DIR, model: str | None = None
                 ) -> list[Path]:
    """The gallery's run of experts beyond one block size: the first problem of an eval of
    them (`bench/block_bench.py`) that a schedule or AdaBlock expert got right and every plain
    size wrong, decoded again with the eval's experts and settings; nothing when none did."""
    from hexviz import models
    from hexviz.decode.assemble import decode
    from hexviz.eval.records import load_results

    results = load_results(results_path)
    picked = pick_rescue(results)
    if picked is None:
        print(f"no problem of {len(results.records)} was right by a schedule or AdaBlock "
              f"alone; nothing written", file=sys.stderr)
        return []
    n, expert = picked
    record = results.records[n]
    lm = models.load(model)
    run = portable(decode(lm, lm.format_prompt(record.question), results.experts,
                          results.config, question=record.question))
    if [t.answer for t in run.trajectories] != record.answers:
        raise ValueError(f"problem {record.index} decodes to other answers than the eval's")
    out.mkdir(parents=True, exist_ok=True)
    print(f"test problem {record.index}: {results.experts[expert].label} right, every plain "
          f"size wrong (gold {record.gold})", file=sys.stderr)
    return [save_small(run, out / BLOCKS_FILE)]


def animation_command(folder: Path = GALLERY_DIR, out: Path = README_ANIMATION) -> list[str]:
    """The `hexviz animate` arguments that make the README's GIF: the wall chapter's run, every
    expert side by side, the vote at the end."""
    return ["animate", str(folder / FILE_NAMES["wall"]), "--out", str(out), "--layout", "all"]


def readme_animation(folder: Path = GALLERY_DIR, out: Path = README_ANIMATION) -> Path:
    """Remake the README's GIF from the stored run: the file that ``hexviz`` with
    `animation_command`'s arguments (the command the README shows) writes, made by the same
    animation call."""
    out = Path(out)
    animate.write(read_run(folder / FILE_NAMES["wall"]), out,
                  animate.AnimationSettings(layout="all"))
    print(f"{out}  {out.stat().st_size / 2**20:.2f} MB")
    return out


def save_small(run: Run, path: Path, digits: int = 3) -> Path:
    """The run's JSON with probabilities rounded to ``digits`` (the stored files stay small)."""
    from hexviz.runs.record import run_to_json

    d = run_to_json(run)
    for e in d["experts"]:
        e["draft_prob"] = [[None if v is None else round(v, digits) for v in row]
                           for row in e["draft_prob"]]
    path.write_text(json.dumps(d, separators=(",", ":")))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hexviz.showcase",
                                     description="the lesson's stored runs")
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="decode the chapters' runs and write them to the gallery")
    b.add_argument("--out", type=Path, default=GALLERY_DIR)
    b.add_argument("--candidates", type=int, default=CANDIDATES,
                   help="test problems to choose the chapters from")
    b.add_argument("--model", default=None, help="default: the built-in model")
    g = sub.add_parser("growing", help="decode and write only chapter 7's runs (the growing "
                                       "canvas), adding them to the index")
    g.add_argument("--out", type=Path, default=GALLERY_DIR)
    g.add_argument("--candidates", type=int, default=CANDIDATES,
                   help="test problems to choose the chapter from")
    g.add_argument("--model", default=None, help="default: the built-in model")
    k = sub.add_parser("blocks", help="write the gallery's run where a schedule or AdaBlock "
                                      "beats every plain block size, from an eval of them")
    k.add_argument("results", type=Path, help="bench/block_bench.py's results (fixed.json)")
    k.add_argument("--out", type=Path, default=GALLERY_DIR)
    k.add_argument("--model", default=None, help="default: the built-in model")
    sub.add_parser("show", help="print the chapters' text (no model needed)")
    sub.add_parser("animation", help="remake the README's GIF from the stored run (no model)")
    args = parser.parse_args(argv)
    if args.command == "build":
        for path in build(args.out, args.candidates, args.model):
            print(f"{path}  {path.stat().st_size / 1024:.0f} KiB")
        return 0
    if args.command == "growing":
        for path in build_growing_only(args.out, args.candidates, args.model):
            print(f"{path}  {path.stat().st_size / 1024:.0f} KiB")
        return 0
    if args.command == "blocks":
        for path in build_blocks(args.results, args.out, args.model):
            print(f"{path}  {path.stat().st_size / 1024:.0f} KiB")
        return 0
    if args.command == "animation":
        readme_animation()  # the command prints the file and its size
        return 0
    for chapter in load_lesson():
        print(f"## {chapter.title}\n{chapter.text}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
