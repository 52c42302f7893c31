"""The guided lesson's chapters, drawn from stored runs and the model card's eval records.

`load_lesson` reads the runs `python -m hexviz.showcase build` stored in ``assets/gallery/``
(which run is which chapter: the index ``lesson.index``) and never imports torch, so the lesson
appears at once on any machine. Every number in a chapter's text is computed from the stored
runs or the eval records when the chapter is rendered: rebuild after retraining the model and
the text follows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from hexviz import limits
from hexviz.eval.records import EvalResults, load_results
from hexviz.eval.scoring import scaling_curve, seed_scaling_curve, summarize
from hexviz.paths import STORED_EVALS
from hexviz.render import animate, figures
from hexviz.render.animate import middle_voter
from hexviz.render.animate.panels import run_vocab
from hexviz.render.plotting import block_name
from hexviz.render.scaling import BUILTIN_NAME, scaling_title
from hexviz.runs import metrics
from hexviz.runs.gallery import GALLERY_DIR, read_run
from hexviz.runs.record import Run, TrajectoryFormatError

INDEX = GALLERY_DIR / "lesson.index"  # which stored run is which chapter (not a run: not *.json)
CARD_EVALS = STORED_EVALS  # the card's eval records: one seed, and several
CHAPTER_KEYS = ("one_expert", "wall", "disagree", "vote")
FILE_NAMES = {"one_expert": "lesson-1-one-expert.json", "wall": "lesson-2-end-of-text-wall.json",
              "disagree": "lesson-3-experts-disagree.json", "vote": "lesson-4-vote.json"}
BUILD_COMMAND = "python -m hexviz.showcase build"
SHORT_TITLES = {"one_expert": "1 · One expert", "wall": "2 · The end-of-text wall",
                "disagree": "3 · Experts disagree", "vote": "4 · The vote",
                "scaling": "5 · Scaling", "parallel": "6 · Parallel decoding",
                "growing": "7 · Two cures for the wall"}
# Chapter 6: the HEX experts with a parallel sampler, on the same candidate problems.
PARALLEL_FILES = {"run": "lesson-6-parallel.json", "fixed": "lesson-6-parallel-fixed.json",
                  # eval results of every candidate, not runs: not *.json, so the gallery
                  # does not list them
                  "eval": "lesson-6-candidates-threshold.results",
                  "fixed_eval": "lesson-6-candidates-fixed.results"}
# Chapter 7: one candidate decoded on the fixed canvas and on a growing one (DAEDAL).
GROWING_FILES = {"run": "lesson-7-growing-canvas.json", "fixed": "lesson-7-fixed-canvas.json"}


# --- what the chapters measure on a run (also the builder's rules for choosing them) ----------

def voter_answers(run: Run) -> list[str | None]:
    return [run.trajectories[i].answer for i in run.voters]


def baselines(run: Run) -> list[int]:
    return [i for i, t in enumerate(run.trajectories) if not t.expert.votes]


def early_end(run: Run, index: int) -> float:
    """Share of end tokens among what trajectory ``index`` revealed in the first half."""
    t = run.trajectories[index]
    share = metrics.early_end_share(t.token_ids, t.reveal_step, run.special.end_ids,
                                    run.config.steps)
    return 0.0 if np.isnan(share) else share


def whole_row(run: Run) -> int:
    """The whole-answer row that commits by confidence (the one a growing canvas can run too:
    DAEDAL commits by confidence); the first whole-answer row if none does."""
    rows = baselines(run)
    return next((i for i in rows if run.trajectories[i].expert.remasking == "low_confidence"),
                rows[0] if rows else 0)


def distinct_answers(run: Run) -> int:
    return len({a for a in voter_answers(run) if a is not None})


def text_commits(run: Run, index: int) -> np.ndarray:
    """(steps,) tokens other than end tokens that trajectory ``index`` committed per step."""
    t = run.trajectories[index]
    text = (t.reveal_step >= 0) & ~np.isin(t.token_ids, run.special.end_ids)
    return np.bincount(t.reveal_step[text], minlength=t.steps_taken)[:max(t.steps_taken, 1)]


def largest_burst(run: Run, text_only: bool = True) -> tuple[int, int, int]:
    """(tokens, voting expert, step) of the most tokens one voting expert committed at one
    step, end-of-text padding left out unless ``text_only`` is False (first expert and step
    on ties)."""
    bursts = []
    for i in run.voters:
        counts = text_commits(run, i) if text_only else run.trajectories[i].commits
        if len(counts):
            bursts.append((int(counts.max()), -i, -int(counts.argmax())))
    tokens, i, step = max(bursts, default=(0, 0, 0))
    return tokens, -i, -step


# --- rendering (no torch) ----------------------------------------------------------------------

@dataclass
class Chapter:
    """One lesson chapter: text with numbers from its run, figures, and the run itself."""

    key: str
    title: str
    text: str  # markdown
    figures: list = field(default_factory=list)  # plotly figures
    run: Run | None = None  # what "Try it yourself" loads into Explore
    path: Path | None = None
    animation: str | None = None  # an HTML animation shown beside the first figure

    @property
    def short(self) -> str:
        """The tab label: the chapter's number and first words."""
        return SHORT_TITLES.get(self.key, self.title)


def subset(run: Run, indices: Sequence[int]) -> Run:
    """The run with only the trajectories at ``indices`` (for a figure about a few experts)."""
    return replace(run, trajectories=[run.trajectories[i] for i in indices])


def pct(x: float) -> str:
    return f"{x:.0%}" if abs(x * 100 - round(x * 100)) < 1e-9 else f"{x:.1%}"


def quoted(text: str, limit: int = 90) -> str:
    text = " ".join(text.split())
    return f"“{text[:limit]}{'…' if len(text) > limit else ''}”" if text else "*(nothing)*"


def answers_table(run: Run, gold: str | None = None) -> str:
    """Markdown table: each expert's answer and the start of its text."""
    rows = ["| expert | answer | text |", "|---|---|---|"]
    for t, label in zip(run.trajectories, figures.row_labels(run), strict=True):
        answer = "—" if t.answer is None else f"**{t.answer}**"
        if gold is not None and t.answer == gold:
            answer += " ✓"
        text = quoted(t.text, 60).replace("|", "\\|")
        name = block_name(t.expert) if t.expert.votes else f"{label}, no vote"
        rows.append(f"| {name} | {answer} | {text} |")
    return "\n".join(rows)


def chapter_one_expert(run: Run, gold: str | None) -> Chapter:
    i = middle_voter(run)
    t = run.trajectories[i]
    b, cfg = t.expert.block_length, run.config
    blocks = cfg.gen_length // b
    rho = metrics.order_correlation(t.reveal_step)
    verdict = "" if gold is None else (" — right" if t.answer == gold else
                                       f" — the right answer is {gold}")
    text = (f"The question: {quoted(run.prompt, 200)}\n\n"
            f"The model starts from {cfg.gen_length} `[MASK]` tokens and has {cfg.steps} steps "
            f"(forward passes). Expert **B={b}** cuts the answer into {blocks} blocks of {b} "
            f"tokens and finishes each block before it starts the next, spending "
            f"{cfg.steps // blocks} steps on each; inside a block it reveals the tokens it is "
            f"surest about first (`{t.expert.remasking}`). Each cell of the reveal order is one "
            f"answer position, coloured by the step it was revealed at: the ramp from dark to "
            f"yellow is the block-by-block order (rank correlation between position and step "
            f"{rho:.2f}; 1 would be strictly left to right). Press play on the scrubber to "
            f"watch it unmask. This expert answered **{t.answer or 'nothing'}**{verdict}.")
    sub = subset(run, [i])
    return Chapter("one_expert", "1 · One expert unmasks its answer, block by block", text,
                   [figures.reveal_order(sub), figures.scrubber(sub, start=0)], run,
                   animation=animate.page_of(run, [i], animate.AnimationSettings(layout="one")))


def chapter_wall(run: Run, card: EvalResults | None) -> Chapter:
    rows = baselines(run)
    whole = rows[0] if rows else 0
    small = run.voters[0] if run.voters else whole
    tw, ts = run.trajectories[whole], run.trajectories[small]
    collapsed = sum(run.trajectories[i].collapsed for i in rows)
    text = (f"Now the same model decodes the whole {run.config.gen_length}-token answer as one "
            f"block, by confidence. The model was trained on answers padded with end-of-text "
            f"tokens, and it is surest of that padding: in the first half of the steps, "
            f"**{pct(early_end(run, whole))}** of the tokens the whole-answer run revealed were "
            f"end tokens, against {pct(early_end(run, small))} for {block_name(ts.expert)}. "
            f"Those end tokens form a wall that the answer has to fit in front of (red in the "
            f"unmasking map; the pressure chart shows the share of masked positions whose draft "
            f"is an end token). ")
    if len(tw.end_density):
        text += (f"Before anything is revealed, the model already gives an end token "
                 f"{pct(float(tw.end_density[0]))} probability on an average masked position. ")
    if collapsed:
        text += (f"In this stored run **{collapsed} of the {len(rows)} whole-answer runs "
                 f"collapsed**: the wall squeezed the working out, leaving only "
                 f"{quoted(tw.text)}" + (" and no final answer." if tw.answer is None else
                                         ": a bare guess."))
    else:
        text += (f"In this stored run **none of the {len(rows)} whole-answer runs collapsed**: "
                 f"this model still fitted its answer in front of the wall "
                 f"({quoted(tw.text, 60)}), so the wall is visible here but harmless.")
    if card is not None:
        s = summarize(card)
        rates = [(e.label, e.collapse) for e in s.experts if not e.votes]
        if rates:
            listed = ", ".join(f"{label} {pct(rate)}" for label, rate in rates)
            text += (f" On the model card's {s.problems} test problems the whole-answer "
                     f"collapse rates were: {listed}.")
    pair = subset(run, [small, whole])
    return Chapter("wall", "2 · Whole-answer decoding and the end-of-text wall", text,
                   [figures.unmasking_map(run, whole), figures.end_pressure(pair)], run,
                   animation=animate.page_of(run, [small, whole],
                                             animate.AnimationSettings(layout="compare")))


def chapter_disagree(run: Run, gold: str | None, card: EvalResults | None) -> Chapter:
    answers = voter_answers(run)
    distinct = distinct_answers(run)
    none = sum(a is None for a in answers)
    text = (f"Every block size is a different decoding order, and different orders make "
            f"different mistakes. On {quoted(run.prompt, 120)} the {len(answers)} voting "
            f"experts gave **{distinct} different answers**"
            + (f" and {none} gave none" if none else "")
            + (f" (the right answer is {gold})" if gold is not None else "") + ".")
    if card is not None:
        s = summarize(card)
        text += (f" Over the card's {s.problems} problems the experts disagreed on "
                 f"{pct(s.disagreement)} of them; at least one expert was right on "
                 f"{pct(s.oracle)}, while a single expert was right on "
                 f"{pct(s.mean_expert_accuracy)} on average. That gap is what a vote can win back.")
    text += "\n\n" + answers_table(run, gold)
    return Chapter("disagree", "3 · Block sizes disagree", text, [figures.reveal_order(run)], run)


def chapter_vote(run: Run, gold: str | None, card: EvalResults | None) -> Chapter:
    vote = run.vote
    counts = ", ".join(f"{a} ×{c}" for a, c in vote.counts.items()) or "no answers"
    abstained = (f" ({len(vote.abstained)} of the {len(run.voters)} experts gave no answer and "
                 f"abstained)" if vote.abstained else "")
    text = (f"HEX takes the majority of the voting experts' answers; whole-answer rows don't "
            f"vote, and an expert with no answer abstains. Here the votes were "
            f"{counts}{abstained}")
    if vote.winner is None:
        text += ", so there is no HEX answer."
    elif vote.tie:
        text += (f": a **tie**, broken as in the HEX reference by the smallest block, so the "
                 f"HEX answer is **{vote.winner}**.")
    else:
        text += f": the HEX answer is **{vote.winner}**."
    if gold is not None and vote.winner is not None:
        text += " That is right." if vote.winner == gold else f" The right answer is {gold}."
    if card is not None:
        s = summarize(card)
        text += (f" On the card's {s.problems} problems {pct(s.tie_rate)} of the votes were "
                 f"ties.")
    return Chapter("vote", "4 · The vote, and ties", text, [figures.vote_panel(run)], run)


def chapter_scaling(card: EvalResults | None, seeds: EvalResults | None) -> Chapter:
    if card is None:
        return Chapter("scaling", "5 · Test-time scaling",
                       "The model card's eval records are missing, so there is no curve here.")
    curve = scaling_curve(card)
    by_seeds = seed_scaling_curve(seeds) if seeds is not None else []
    s = summarize(card)
    best_whole = max((e for e in s.experts if not e.votes), key=lambda e: e.accuracy,
                     default=None)
    first, last = curve[0], curve[-1]
    trend = "rises" if last[1] > first[1] else "does not rise" if last[1] == first[1] else "falls"
    text = (f"HEX is test-time scaling: more votes, more compute, and (ideally) more accuracy, "
            f"with no training. On the model card's {s.problems} test problems, HEX accuracy "
            f"{trend} from {pct(first[1])} with {first[0]} vote to **{pct(last[1])}** with "
            f"{last[0]} votes (tie rate {pct(last[2])}); the average single expert scores "
            f"{pct(s.mean_expert_accuracy)}.")
    if best_whole is not None:
        relation = "above" if best_whole.accuracy > s.hex_accuracy else "below"
        text += (f" The best whole-answer baseline, {best_whole.label}, scores "
                 f"{pct(best_whole.accuracy)}: {relation} the vote on this model.")
    if by_seeds:
        n, votes, accuracy, _ = by_seeds[-1]
        text += (f" Adding seeds (temperature {seeds.experts[0].temperature:g}) to every block "
                 f"size: {pct(by_seeds[0][2])} with 1 seed, {pct(accuracy)} with {n} seeds "
                 f"({votes} votes, {len(seeds.records)} problems).")
    return Chapter("scaling", "5 · Test-time scaling: more votes", text,
                   # the card's evals are the built-in model's, whatever folder they name
                   [figures.scaling(curve, scaling_title(card, BUILTIN_NAME), by_seeds)])


def chapter_parallel(run: Run, fixed: Run | None, gold: str | None,
                     evals: tuple[EvalResults | None, EvalResults | None]) -> Chapter:
    tokens, i, step = largest_burst(run)
    t = run.trajectories[i]
    burst = np.flatnonzero((t.reveal_step == step) & ~np.isin(t.token_ids, run.special.end_ids))
    # the span the burst covers, positions it left masked as ▢
    words = quoted(" ".join(t.tokens[p].strip() if p in set(burst.tolist()) else "▢"
                            for p in range(burst.min(), burst.max() + 1)), 120)
    pad, pad_i, pad_step = largest_burst(run, text_only=False)
    steps = run.config.steps
    taken = ", ".join(f"{block_name(run.trajectories[v].expert)} "
                      f"{run.trajectories[v].steps_taken}" for v in run.voters)
    sampler = run.config.sampler
    text = (f"So far every expert revealed a fixed share of its block at each step: "
            f"{run.config.gen_length} tokens in {steps} steps. A *parallel sampler* lets an "
            f"expert commit as many tokens as the model is sure of. With `{sampler.spec}` "
            f"(Fast-dLLM's threshold, the HEX authors' `generate(threshold="
            f"{sampler.value:g})`) an expert commits its most confident masked position and "
            f"every other one at {sampler.value:g} or above, and a block ends as soon as no "
            f"mask is left in it, so every expert finishes at its own step.\n\n"
            f"On {quoted(run.prompt, 120)} expert **{block_name(t.expert)}** committed "
            f"**{tokens} answer tokens at once** at step {step} (positions {burst.min()}–"
            f"{burst.max()}, ▢ still masked: {words}) and finished in {t.steps_taken} steps instead of "
            f"{steps}. ")
    if pad > tokens:
        text += (f"The largest burst of all is end-of-text padding: "
                 f"{block_name(run.trajectories[pad_i].expert)} committed {pad} tokens at "
                 f"step {pad_step}, the wall of chapter 2 laid down in one step. ")
    voters_steps = sum(run.trajectories[v].steps_taken for v in run.voters)
    text += f"Steps per voting expert: {taken}, {voters_steps} in all"
    if fixed is not None:
        fixed_steps = sum(fixed.trajectories[v].steps_taken for v in fixed.voters)
        text += (f", against {fixed_steps} on the fixed schedule "
                 f"({pct(voters_steps / fixed_steps)}): a finished expert costs no more forward "
                 f"passes. ")
    else:
        text += ". "
    if fixed is not None:
        text += (f"HEX answered **{run.vote.winner or 'nothing'}** with these experts and "
                 f"**{fixed.vote.winner or 'nothing'}** with fixed-schedule ones"
                 + (f" (the right answer is {gold})" if gold is not None else "") + ".")
    parallel_eval, fixed_eval = evals
    if parallel_eval is not None and fixed_eval is not None:
        a, b = summarize(parallel_eval), summarize(fixed_eval)
        text += (f"\n\nOn all {a.problems} problems this chapter was chosen from, HEX scored "
                 f"**{pct(a.hex_accuracy)}** with `{sampler.spec}` experts at "
                 f"{a.vote_row_passes:.0f} row passes per problem (each expert's steps, summed), "
                 f"and {pct(b.hex_accuracy)} on the fixed schedule at {b.vote_row_passes:.0f} "
                 f"({pct(a.vote_row_passes / b.vote_row_passes)} of the work); the mean single "
                 f"expert scored {pct(a.mean_expert_accuracy)} against "
                 f"{pct(b.mean_expert_accuracy)}. The vote works as before: the experts still "
                 f"decode in different orders, and now each at its own speed.")
    text += ("\n\nThe tokens-per-step chart shows the bursts (a fixed schedule is a flat "
             "line); in the reveal order a burst is a run of one colour. Explore's Sampler "
             "setting tries the others (`factor`, `bounded`, `entropy`) and token editing.")
    return Chapter("parallel", "6 · Parallel decoding: many tokens per step", text,
                   [figures.tokens_per_step(run), figures.reveal_order(run)], run)


def chapter_growing(grown: Run, fixed: Run, gold: str | None) -> Chapter:
    g, f = whole_row(grown), whole_row(fixed)
    tg, tf = grown.trajectories[g], fixed.trajectories[f]
    hex_row = middle_voter(fixed)
    length, most = grown.config.length, fixed.config.gen_length
    blocks = ", ".join(fixed.trajectories[i].expert.blocks_spec for i in fixed.voters)
    right = (lambda a: " ✓" if gold is not None and a == gold else "")  # noqa: E731
    wall = ("collapsed into the wall" if tf.collapsed else "did not collapse this time")
    grew = (f"went from {tg.events.initial_length} to {len(tg.token_ids)} positions (at most "
            f"{grown.config.gen_length}) in {tg.steps_taken} steps, "
            + ("and still collapsed" if tg.collapsed else "and did not collapse"))
    steps = [sum(r.trajectories[i].steps_taken for i in r.voters) for r in (fixed, grown)]
    text = (f"The wall of chapter 2 has a cause: the answer region is {most} masks from the "
            f"first step, more than most answers need, and the model is surest of the "
            f"end-of-text padding that fills the rest. There are two ways out. **HEX keeps the "
            f"room and changes the order**: its experts decode blocks left to right, so no end "
            f"token is committed before the words in front of it. **A growing canvas changes "
            f"the room**: DAEDAL (Li et al., ICLR 2026) starts from {length.initial_length} "
            f"masks, appends {length.expansion_factor} more while the model's end-of-text "
            f"confidence at the tail is below {length.eos_confidence_threshold:g}, closes the "
            f"canvas with {length.eos_check_tokens // 2} end tokens, and only then decodes; "
            f"while decoding it may turn an unsure mask into {length.expansion_factor}.\n\n"
            f"On {quoted(grown.prompt, 160)}, side by side:\n\n"
            f"- **whole-answer confidence**, fixed {most}-token canvas: {wall} "
            f"({quoted(tf.text, 60)}), answer **{tf.answer or 'none'}**{right(tf.answer)};\n"
            f"- **HEX**, blocks {blocks} on the same canvas: the vote says "
            f"**{fixed.vote.winner or 'nothing'}**{right(fixed.vote.winner)} "
            f"({block_name(fixed.trajectories[hex_row].expert)} shown);\n"
            f"- **whole-answer confidence on DAEDAL's canvas**: it {grew}, answer "
            f"**{tg.answer or 'none'}**{right(tg.answer)}.\n\n"
            f"The HEX experts decoded on the growing canvas too: their vote says "
            f"**{grown.vote.winner or 'nothing'}**, after {steps[1]} forward passes against "
            f"{steps[0]} on the fixed canvas (a growing canvas ends when its blocks are full). "
            f"The canvas-length chart shows each expert's canvas over its steps; in Explore, "
            f"the Canvas length setting picks fixed, daedal or rho-eos.")
    vocab = run_vocab([fixed, grown])
    side_by_side = [animate.panel(fixed, f, "fixed canvas · ", vocab),
                    animate.panel(fixed, hex_row, "HEX · ", vocab),
                    animate.panel(grown, g, "growing canvas · ", vocab)]
    page = animate.render_html(animate.build_from_panels(
        side_by_side, grown, animate.AnimationSettings(layout="compare"), None,
        limits.current()))
    return Chapter("growing", "7 · Two cures for the wall: blocks, or a canvas that grows", text,
                   [figures.canvas_length(grown),
                    figures.unmasking_map(fixed, f, "Fixed canvas"),
                    figures.unmasking_map(grown, g, "Growing canvas")], grown, animation=page)


def load_growing(folder: Path, info: dict[str, Any]) -> Chapter:
    files = {**GROWING_FILES, **{k: v for k, v in info.items() if k in GROWING_FILES}}
    try:
        grown, fixed = read_run(folder / files["run"]), read_run(folder / files["fixed"])
    except TrajectoryFormatError as err:
        return missing("growing", SHORT_TITLES["growing"], str(err))
    chapter = chapter_growing(grown, fixed, info.get("gold"))
    chapter.path = folder / files["run"]
    return chapter


def load_parallel(folder: Path, info: dict[str, Any]) -> Chapter:
    files = {**PARALLEL_FILES, **{k: v for k, v in info.items() if k in PARALLEL_FILES}}
    try:
        run = read_run(folder / files["run"])
    except TrajectoryFormatError as err:
        return missing("parallel", SHORT_TITLES["parallel"], str(err))
    try:
        fixed = read_run(folder / files["fixed"])
    except TrajectoryFormatError:
        fixed = None
    evals = (_results(folder / files["eval"]), _results(folder / files["fixed_eval"]))
    chapter = chapter_parallel(run, fixed, info.get("gold"), evals)
    chapter.path = folder / files["run"]
    return chapter


def read_index(folder: Path) -> dict[str, Any]:
    try:
        return json.loads((folder / INDEX.name).read_text())
    except (OSError, json.JSONDecodeError):
        return {}


def _results(path: Path) -> EvalResults | None:
    try:
        return load_results(path)
    except ValueError:
        return None


def missing(key: str, title: str, reason: str) -> Chapter:
    return Chapter(key, title, f"This chapter's stored run is missing ({reason}). "
                               f"`{BUILD_COMMAND}` writes it.")


def load_lesson(folder: Path = GALLERY_DIR, evals: Sequence[Path] = CARD_EVALS) -> list[Chapter]:
    """Every chapter, from the stored runs in ``folder`` and the card's eval records."""
    index = read_index(folder).get("chapters", {})
    card, seeds = (_results(p) for p in (list(evals) + [Path("-"), Path("-")])[:2])
    chapters = []
    titles = SHORT_TITLES
    for key in CHAPTER_KEYS:
        info = index.get(key, {})
        path = folder / info.get("file", FILE_NAMES[key])
        gold = info.get("gold")
        try:
            run = read_run(path)
        except TrajectoryFormatError as err:
            chapters.append(missing(key, titles[key], str(err)))
            continue
        if key == "one_expert":
            chapter = chapter_one_expert(run, gold)
        elif key == "wall":
            chapter = chapter_wall(run, card)
        elif key == "disagree":
            chapter = chapter_disagree(run, gold, card)
        else:
            chapter = chapter_vote(run, gold, card)
        chapter.path = path
        chapters.append(chapter)
    chapters.append(chapter_scaling(card, seeds))
    chapters.append(load_parallel(folder, index.get("parallel", {})))
    chapters.append(load_growing(folder, index.get("growing", {})))
    return chapters
