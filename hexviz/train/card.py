"""``python -m hexviz.train.card``: write the built-in model's card and the app's examples from
an eval results file (``python -m hexviz eval --out results.json``).

    python -m hexviz eval --limit 500 --out runs/eval-500.json
    python -m hexviz.train.card runs/eval-500.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from hexviz.eval.records import EvalResults, Record, load_results
from hexviz.eval.scoring import (
    ExpertScore,
    PairedChanges,
    frontier_verdict,
    paired_changes,
    summarize,
    vote_of,
)
from hexviz.models import HEXVIZ_META
from hexviz.paths import BUILTIN_DIR, EXAMPLES
from hexviz.policy.settings import Expert
from hexviz.runs.metrics import MAX_SQUEEZED_TOKENS
from hexviz.train import task

EXAMPLE_COUNT = 5
HOW_IT_WAS_MADE = "how-it-was-made.md"  # probes and design notes, appended to the card
SAMPLERS = "samplers.json"  # bench/sampler_bench.py's frontier (--out), shown in the card


def teaching_examples(results: EvalResults, count: int = EXAMPLE_COUNT) -> list[str]:
    """Questions that show what the app teaches: the voting experts disagree and the vote is
    right, those where a whole-answer baseline collapsed first; one where the vote is wrong."""
    voters = results.voters
    baselines = [i for i, e in enumerate(results.experts) if not e.votes]
    split = [r for r in results.records if len({r.answers[i] for i in voters}) > 1]
    right = [r for r in split if vote_of(r, voters).winner == r.gold]
    wrong = [r for r in split if vote_of(r, voters).winner != r.gold]
    right.sort(key=lambda r: not any(r.collapsed[i] for i in baselines))  # stable: keeps order
    return [r.question for r in (right[:count - 1] + wrong[:1] + right[count - 1:])][:count]


def best_expert_accuracy(s) -> float:
    return max(e.accuracy for e in s.experts if e.votes)


def _rows(results: EvalResults, s) -> list[tuple[Expert, ExpertScore]]:
    """(expert, score) pairs, in results order."""
    return list(zip(results.experts, s.experts, strict=True))


def whole_answer(results: EvalResults, s, rule: str) -> ExpertScore | None:
    return next((score for e, score in _rows(results, s)
                 if not e.votes and e.remasking == rule), None)


def copy_checks(results: EvalResults) -> list[task.CopyCheck]:
    """The copy check of every voting expert's worked answer."""
    checks = (task.check_copies(record.question, record.texts[i])
              for record in results.records if record.texts for i in results.voters)
    return [c for c in checks if c is not None]


def copy_accuracy(results: EvalResults) -> tuple[int, int]:
    """(correct, compared) copied items over the voting experts' worked answers."""
    checks = copy_checks(results)
    return sum(c.correct for c in checks), sum(c.copied for c in checks)


def copy_by_kind(results: EvalResults) -> dict[str, tuple[int, int]]:
    """(correct, compared) copied items per kind (`task.COPY_KINDS`)."""
    checks = copy_checks(results)
    return {kind: (sum(c.by_kind[kind][1] for c in checks), sum(c.by_kind[kind][0] for c in checks))
            for kind in task.COPY_KINDS}


def worked_answers_section(results: EvalResults) -> str:
    """The card's table of what the voting experts' worked answers copy, kind by kind."""
    rows = [(f"{kind}s", *counts) for kind, counts in copy_by_kind(results).items() if counts[1]]
    consistent, finals = final_consistency(results)
    if finals:
        rows.append(("final `#### N` = the working's last result", consistent, finals))
    fluent, worked = fluency(results)
    if worked:
        rows.append(("written in the task's sentences only", fluent, worked))
    if not rows:
        return ""
    lines = "\n".join(f"| {what} | {right / total:.1%} | {total - right:,} of {total:,} |"
                      for what, right, total in rows)
    return ("\n\n### What worked answers copy\n\nThe voting experts' worked answers. A name "
            "is right if the question mentions that person, an object if it is the one asked "
            "about; numbers are each step's amount and the first step's start value. The last "
            "row counts worked answers whose every sentence is one of the task's answer "
            "sentences, whatever its names and numbers (\"Leo 28 stamps marbles now.\" is "
            "not).\n\n"
            "| item | right | wrong |\n|---|---|---|\n" + lines)


def _voters_passing(results: EvalResults, check) -> tuple[int, int]:
    """(passed, compared): ``check`` (True, False, or None for nothing to compare) over the
    voting experts' answers."""
    checks = [check(record.texts[i])
              for record in results.records if record.texts for i in results.voters]
    return sum(c is True for c in checks), sum(c is not None for c in checks)


def final_consistency(results: EvalResults) -> tuple[int, int]:
    """(consistent, compared) voting experts' worked answers whose ``#### N`` is the result of
    their own last equation."""
    return _voters_passing(results, task.final_matches_working)


def fluency(results: EvalResults) -> tuple[int, int]:
    """(fluent, compared) voting experts' worked answers with a ``#### N`` that read as the task's
    own sentences (`task.reads_as_task_sentences`)."""
    return _voters_passing(results, task.reads_as_task_sentences)


COPY_GOAL = 0.97
FINAL_GOAL = 0.98
FLUENCY_GOAL = 0.98


@dataclass(frozen=True)
class Target:
    claim: str
    measured: str
    met: bool


def targets(results: EvalResults, s) -> list[Target]:
    """The built-in model's targets (what the app teaches must hold on it), met or not."""
    rows = _rows(results, s)
    confident = [w for w in (whole_answer(results, s, r) for r in ("low_confidence", "margin"))
                 if w is not None]
    small = [score for e, score in rows
             if e.votes and e.block_length <= results.config.gen_length // 8]
    random_row, margin_row = whole_answer(results, s, "random"), whole_answer(results, s, "margin")
    best = best_expert_accuracy(s)
    correct, compared = copy_accuracy(results)
    consistent, finals = final_consistency(results)
    found = []
    if confident:
        found.append(Target("whole-answer low_confidence and margin collapse on >= 50%",
                            ", ".join(f"{w.label} {w.collapse:.1%}" for w in confident),
                            min(w.collapse for w in confident) >= 0.5))
        top = max(w.accuracy for w in confident)
        found.append(Target("HEX >= best whole-answer confidence baseline + 15 points",
                            f"{s.hex_accuracy:.1%} vs {top:.1%}", s.hex_accuracy >= top + 0.15))
    if small:
        worst = max(w.collapse for w in small)
        found.append(Target(f"experts with block length <= {results.config.gen_length // 8} "
                            "collapse on <= 5%", f"at most {worst:.1%}", worst <= 0.05))
    if random_row and margin_row:
        found.append(Target("whole-answer random >= whole-answer margin + 10 points",
                            f"{random_row.accuracy:.1%} vs {margin_row.accuracy:.1%}",
                            random_row.accuracy >= margin_row.accuracy + 0.10))
    found += [
        Target("HEX >= best single expert", f"{s.hex_accuracy:.1%} vs {best:.1%}",
               s.hex_accuracy >= best),
        Target("HEX >= mean single expert + 5 points",
               f"{s.hex_accuracy:.1%} vs {s.mean_expert_accuracy:.1%}",
               s.hex_accuracy >= s.mean_expert_accuracy + 0.05),
        Target("mean single expert between 40% and 90%", f"{s.mean_expert_accuracy:.1%}",
               0.4 <= s.mean_expert_accuracy <= 0.9),
    ]
    if compared:
        found.append(Target("worked answers copy the question's names, objects and amounts "
                            f"right >= {COPY_GOAL:.0%}",
                            f"{correct / compared:.1%} of {compared:,} copied items "
                            f"({compared - correct:,} wrong)", correct / compared >= COPY_GOAL))
    if finals:
        found.append(Target("a worked answer's `#### N` is the last value its working computed "
                            f">= {FINAL_GOAL:.0%}",
                            f"{consistent / finals:.1%} of {finals:,} worked answers "
                            f"({finals - consistent:,} not)", consistent / finals >= FINAL_GOAL))
    fluent, worked = fluency(results)
    if worked:
        found.append(Target(f"worked answers written in the task's sentences only >= "
                            f"{FLUENCY_GOAL:.0%}",
                            f"{fluent / worked:.1%} of {worked:,} worked answers "
                            f"({worked - fluent:,} not)", fluent / worked >= FLUENCY_GOAL))
    return found


def editing_settings(edited: EvalResults) -> str:
    """The flags that decoded ``edited``: its sampler, editing threshold and scope."""
    config = edited.config
    scope = "" if config.edit_scope == "block" else f" --edit-scope {config.edit_scope}"
    return f"--sampler {config.sampler.spec} --edit {config.sampler.edit:g}{scope}"


def editing_targets(edited: EvalResults, effect: PairedChanges, default: bool) -> list[Target]:
    """The targets token editing must meet at one setting: it must not cost the vote, and at
    the ``default`` settings (the card's eval's) it must repair more answers than it breaks."""
    flags = f"`{editing_settings(edited)}`"
    found = [Target(f"HEX with token editing >= HEX without, {flags}",
                    f"{effect.hex_with:.1%} vs {effect.hex_without:.1%}",
                    effect.hex_with >= effect.hex_without)]
    if default:
        found.append(Target(f"answers editing changed: more wrong -> right than right -> wrong, "
                            f"{flags}", f"{effect.fixed} vs {effect.broken} of "
                            f"{effect.answers:,}", effect.fixed > effect.broken))
    return found


def editing_section(pairs: list[tuple[EvalResults, PairedChanges]]) -> str:
    """The card's table on token editing: the same problems decoded with and without it, one
    column per setting."""
    if not pairs:
        return ""
    heads = " | ".join(f"`{editing_settings(edited)}`" for edited, _ in pairs)
    line = "|---" * (len(pairs) + 1) + "|"

    def row(name, cell) -> str:
        return f"| {name} | " + " | ".join(cell(effect) for _, effect in pairs) + " |"

    return (f"\n\n### Token editing\n\nThe first {len(pairs[0][0].records)} problems, HEX with "
            "each setting against the same with `--edit off` (`hexviz eval`, then `python -m "
            "hexviz.train.card ... --editing WITH.json WITHOUT.json`, once per setting).\n\n"
            f"| | {heads} |\n{line}\n"
            + "\n".join([row("HEX with editing", lambda e: f"{e.hex_with:.1%}"),
                         row("HEX without", lambda e: f"{e.hex_without:.1%}"),
                         row("voting experts' answers: wrong -> right", lambda e: f"{e.fixed}"),
                         row("voting experts' answers: right -> wrong", lambda e: f"{e.broken}")]))


def accuracy_by_operations(results: EvalResults) -> list[tuple[int, int, float, float, float]]:
    """(operations, problems, HEX, mean voting expert, best whole-answer) per operation count."""
    groups: dict[int, list[Record]] = {}
    for record in results.records:
        groups.setdefault(len(task.question_operations(record.question)), []).append(record)
    rows = []
    for ops, records in sorted(groups.items()):
        part = dataclasses.replace(results, records=records)
        s = summarize(part)
        whole = [e.accuracy for e in s.experts if not e.votes]
        rows.append((ops, len(records), s.hex_accuracy, s.mean_expert_accuracy,
                     max(whole, default=float("nan"))))
    return rows


def samplers_section(rows: list[dict]) -> str:
    """The card's table of HEX with each sampler (bench/sampler_bench.py's measured rows)."""
    if not rows:
        return ""
    fixed = next((r for r in rows if r["sampler"] == "fixed"), None)
    lines = ["| sampler | HEX | mean expert | vote row passes per problem | vs fixed |",
             "|---|---|---|---|---|"]
    for r in rows:
        ratio = f"{r['vote_row_passes'] / fixed['vote_row_passes']:.0%}" if fixed else "-"
        lines.append(f"| `{r['sampler']}` | {r['hex']:.1%} | {r['mean']:.1%} | "
                     f"{r['vote_row_passes']:.1f} | {ratio} |")
    sentence = frontier_verdict(rows) if fixed else ""
    verdict = f"\n\n{sentence[:1].upper()}{sentence[1:]}." if fixed else ""
    edit, scope = rows[0].get("edit"), rows[0].get("edit_scope", "block")
    over = ", over the answer written so far" if scope == "answer" else ""
    editing = f", each with the model's token editing (threshold {edit:g}{over})" if edit else ""
    return (f"\n\n### HEX with parallel samplers\n\nThe first {rows[0]['problems']} problems, the "
            f"same HEX experts, each sampler{editing} (`hexviz eval --sampler ...`; `python "
            "bench/sampler_bench.py --out` measured this table). Row passes: each voting "
            "expert's steps, summed.\n\n" + "\n".join(lines) + verdict)


def card_markdown(results: EvalResults, meta: dict, how_made: str = "",
                  samplers: list[dict] | None = None,
                  editing: list[tuple[EvalResults, EvalResults]] = ()) -> str:
    s = summarize(results)
    pairs = [(edited, paired_changes(edited, base)) for edited, base in editing]
    training = meta["training"]
    rows = "\n".join(
        f"| {e.label}{'' if e.votes else ', no vote'} | {e.accuracy:.1%} | "
        f"{e.no_answer:.1%} | {e.collapse:.1%} |" for e in s.experts)
    by_ops = "\n".join(f"| {ops} | {n} | {hex_:.1%} | {mean:.1%} | {whole:.1%} |"
                       for ops, n, hex_, mean, whole in accuracy_by_operations(results))
    found = targets(results, s) + [t for edited, effect in pairs for t in editing_targets(
        edited, effect, edited.config == results.config)]
    goals = "\n".join(f"| {t.claim} | {t.measured} | {'met' if t.met else '**not met**'} |"
                      for t in found)
    edit_part = editing_section(pairs)
    settings = ", ".join(f"{k}={v}" for k, v in training.items()
                         if k not in ("steps", "steps_run", "minutes", "parameters", "out_dir",
                                      "started_from"))
    op_range = f"{min(task.OP_COUNT_WEIGHTS)}-{max(task.OP_COUNT_WEIGHTS)}"
    return f"""---
library_name: transformers
tags: [masked-diffusion, dllm, hexviz, toy]
---
# tinygsm-dllm: hexviz's built-in masked diffusion LM

A {training['parameters'] / 1e6:.2f}M-parameter ModernBERT-style masked diffusion LM trained by
hexviz (`python -m hexviz.train`) from scratch with LLaDA's supervised fine-tuning recipe on
*tinygsm* v{task.TASK_VERSION}: generated GSM8K-style word problems ({op_range} chained +, -, * steps on
numbers up to {task.MAX_VALUE}, answers ending in `#### N`). Worked answers start with
"{task.WORKED_LEAD}", copy the question's person and every step's amount, and may open and
close with a sentence on the person's count; {bare_recipe(training)} `#### N`,
drawn independently of the question. The answer region is {meta['gen_length']} tokens:
answer, end-of-turn, then end-of-text padding that is part of the loss, as in LLaDA. It loads
with `AutoModelForMaskedLM.from_pretrained` (no remote code) and is the default model of the
hexviz app, CLI and tests.{editing_intro(meta)}

## Held-out results

{s.problems} problems of `assets/tinygsm/test.jsonl` (disjoint from training by construction),
temperature 0, `gen_length` {results.config.gen_length}, `steps` {results.config.steps},
block-size experts with `low_confidence` remasking. Produced by:

```
python -m hexviz eval --limit {s.problems} --out results.json
python -m hexviz.train.card results.json
```

| decoding | accuracy | no answer | collapse |
|---|---|---|---|
{rows}

| HEX | value |
|---|---|
| majority-vote accuracy | {s.hex_accuracy:.1%} |
| tie rate | {s.tie_rate:.1%} |
| mean single expert | {s.mean_expert_accuracy:.1%} |
| best single expert | {best_expert_accuracy(s):.1%} |
| oracle (any expert right) | {s.oracle:.1%} |
| experts disagree | {s.disagreement:.1%} |

"No answer" is strict: no extractable `#### N`. A **collapse** is the AfterEoT wall, read off
the trajectory alone: at most {MAX_SQUEEZED_TOKENS} tokens of text stand before the first end token, and
the end tokens were committed earlier (median reveal step) than that text. The same rule flags
LLaDA-8B's collapsed runs, which hold no text at all.

### Accuracy by number of operations

| operations | problems | HEX | mean expert | best whole-answer |
|---|---|---|---|---|
{by_ops}{worked_answers_section(results)}{samplers_section(samplers or [])}{edit_part}

## Targets

| target | measured | |
|---|---|---|
{goals}

## Training

- parameters: {training['parameters']:,}
{runs_made(training)}
- settings: {settings}
- architecture: ModernBERT (pre-norm, rotary positions), every layer attending globally; a BERT
  of the same size with learned absolute positions had not learned to copy names and numbers
  from the prompt after 1,000 steps, this one does within a few hundred
- tokenizer: word-level, built from the task's own text; every number from 0 to 99 is one token,
  so each arithmetic step is one fact and a number sits at a fixed offset from its words
- recipe: prompt never masked; per example t ~ U(eps, 1), each answer token (padding included)
  masked with probability t, cross-entropy on masked tokens weighted by
  1/t{suffix_recipe(training)}; AdamW, linear warm-up and cosine decay; every batch a pure
  function of (seed, step), so runs are reproducible and resumable{edit_recipe(training)}.
{how_made}"""


def runs_made(training: dict) -> str:
    """The card's lines on the run (or the two runs: a main stage, then an editing stage
    started from its checkpoint) that made the model, with their steps and wall times."""
    parent = training.get("started_from")
    edit_steps = training.get("edit_steps", 0)
    if parent and not training.get("steps") and edit_steps:
        return (f"- main stage: {parent['steps']:,} steps, {parent['minutes']} minutes on "
                f"{trained_on(parent)}, `python -m hexviz.train` with the settings below\n"
                f"- editing stage: {edit_steps:,} steps, {training['minutes']} minutes on "
                f"{trained_on(training)}, started from the main stage's model "
                f"(`python -m hexviz.train --init-from MAIN --steps 0 --edit-steps {edit_steps}`; "
                "one run of `python -m hexviz.train` with `--edit-steps` makes both stages, its "
                "editing stage drawing the same batches)")
    return (f"- steps: {training.get('steps_run', training['steps']):,}, wall time "
            f"{training['minutes']} minutes on {trained_on(training)}, one run\n  of "
            "`python -m hexviz.train` with the settings below")


def editing_intro(meta: dict) -> str:
    """The card's sentence on editing by default, for a model trained to edit."""
    if meta.get("edit") is None:
        return ""
    scope = meta.get("edit_scope", "block")
    where = ("any token of the answer before the current block's end" if scope == "answer"
             else "a token of the current block")
    return (" An editing stage then taught it to re-predict tokens it has already committed, "
            f"so it decodes with token editing by default: {where} is replaced when the model "
            f"prefers another with probability above {meta['edit']:g} (`--edit {meta['edit']:g} "
            f"--edit-scope {scope}`; `--edit off` turns it off), and every result below is "
            "measured so unless a row says otherwise.")


def edit_recipe(training: dict) -> str:
    """The card's words for the editing stage, if the model had one."""
    if not training.get("edit_steps"):
        return ""
    ends = "" if training.get("edit_end_tokens", True) else " (never an end token)"
    return (f". Editing stage (LLaDA 2.1's token-to-token training): from lr "
            f"{training['edit_lr']:g} with a fresh optimizer, each answer token left visible "
            f"is replaced with probability {training['edit_share']:g} by another{ends}, half "
            "of them a token 1 or 2 positions away, half any word, and every visible answer "
            "token carries the loss (weight 1), so the model learns to re-predict committed "
            "tokens; decoding edits at the threshold and scope its `hexviz.json` names "
            "(`--edit off`: no editing)")


def curriculum_words(training: dict) -> str:
    """"from step N on, " when the run switched recipes at step N (`curriculum_step`)."""
    step = training.get("curriculum_step", 0)
    return f"from step {step:,} on, " if step else ""


def bare_recipe(training: dict) -> str:
    """The card's words for the share of bare answers, as the run's curriculum set it."""
    share = training.get("bare_answer_share", task.BARE_ANSWER_PROB)
    switch = curriculum_words(training)
    if switch and share != task.BARE_ANSWER_PROB:
        return f"{task.BARE_ANSWER_PROB:.0%} of training answers ({switch}{share:.0%}) are a bare"
    return f"{share:.0%} of training answers are a bare"


def suffix_recipe(training: dict) -> str:
    """The card's words for suffix masking, if the run used it."""
    share = training.get("suffix_mask_share", 0.0)
    if not share:
        return ""
    return (f"; {curriculum_words(training)}in {share:.0%} of the examples instead the answer "
            "is masked from a uniformly drawn cut to its end (what a block expert decodes "
            "from), each masked token weighted 1")


def trained_on(training: dict) -> str:
    """Where the run trained, for the card (checkpoints from before ``device`` was recorded
    trained on the CPU)."""
    device = training.get("device", "cpu")
    if device == "cpu":
        return "2 CPU cores"
    return f"one GPU (`--device {device}`, {training.get('precision', 'float32')})"


def ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hexviz.train.card", description=__doc__)
    parser.add_argument("results", type=Path, help="eval results JSON of the built-in model")
    parser.add_argument("--model-dir", type=Path, default=BUILTIN_DIR)
    parser.add_argument("--examples", type=Path, default=EXAMPLES)
    parser.add_argument("--editing", type=Path, nargs=2, metavar=("WITH", "WITHOUT"),
                        action="append", default=[],
                        help="eval results of the same problems with and without --edit (once "
                             "per setting)")
    args = parser.parse_args(argv)
    results = load_results(args.results)
    editing = [(load_results(w), load_results(wo)) for w, wo in args.editing]
    try:
        effects = [paired_changes(*pair) for pair in editing]
    except ValueError as error:
        parser.error(f"--editing: {error}")
    meta_path = args.model_dir / HEXVIZ_META
    meta = json.loads(meta_path.read_text())
    summary = summarize(results)
    wall = whole_answer(results, summary, "low_confidence")
    meta["card"] = {"problems": summary.problems, "hex_accuracy": summary.hex_accuracy,
                    "mean_expert_accuracy": summary.mean_expert_accuracy,
                    "tie_rate": summary.tie_rate,
                    "whole_collapse": wall.collapse if wall else None,
                    "whole_accuracy": wall.accuracy if wall else None,
                    "copy_accuracy": ratio(*copy_accuracy(results)),
                    "final_consistency": ratio(*final_consistency(results)),
                    "fluency": ratio(*fluency(results))}
    if editing:
        meta["card"]["editing"] = [{"settings": editing_settings(edited),
                                    **dataclasses.asdict(effect)}
                                   for (edited, _), effect in zip(editing, effects, strict=True)]
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")  # what the checkpoint test holds to
    how_made = args.model_dir / HOW_IT_WAS_MADE
    extra = how_made.read_text() if how_made.is_file() else ""
    frontier = args.model_dir / SAMPLERS
    rows = json.loads(frontier.read_text()) if frontier.is_file() else []
    (args.model_dir / "README.md").write_text(card_markdown(results, meta, extra, rows, editing))
    args.examples.write_text(json.dumps(teaching_examples(results), indent=1) + "\n")
    print(f"wrote {args.model_dir / 'README.md'} and {args.examples}")


if __name__ == "__main__":
    main()
