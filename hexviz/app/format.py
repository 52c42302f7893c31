"""The app's words and HTML: header, About text, the answers panel, the status line, and the
figures as one offline page. Pure functions of a run; no Gradio."""

from __future__ import annotations

import html
import math
from pathlib import Path

from hexviz.app import plots
from hexviz.runs.metrics import MAX_SQUEEZED_TOKENS
from hexviz.runs.record import Run, Trajectory
from hexviz.tasks import get_task


PAPER = "https://arxiv.org/abs/2510.05040"


HEADER = f"""# hexviz — how a diffusion LM unmasks its answer
A masked diffusion LM starts from an all-`[MASK]` answer and reveals tokens over many steps.
Each **block size** is a hidden expert ([HEX, Lee et al. 2025]({PAPER})): run several, vote on
their answers. Whole-answer baselines (one block) are shown for contrast; they don't vote.
"""


ABOUT = f"""
## What a masked diffusion LM does
A masked diffusion language model (dLLM) such as LLaDA answers a prompt by starting from an
answer region that is all `[MASK]` and revealing tokens over a fixed number of **steps**. At each
step one forward pass predicts every masked position at once; a **remasking rule** keeps the
positions it is surest about and leaves the rest masked for later steps:
`low_confidence` (probability of the chosen token), `margin` (top-1 minus top-2 probability),
`entropy` (sharpest distribution first) or `random`.

## Semi-autoregressive blocks
The answer can be split into blocks of `block_length` tokens decoded left to right: a block is
finished before the next one starts, and the rule only chooses inside the current block. One block
of the whole answer is fully "any order"; blocks of 1 token are ordinary left-to-right decoding.

## AfterEoT collapse
LLaDA is fine-tuned with every answer padded by end-of-text tokens, and it learns to be very sure
of them. Decoding the whole answer by confidence therefore reveals the tail's end-of-text tokens
first; each one makes the next one to its left likelier, and the answer can be squeezed into
nothing. That is a **collapse**: hexviz flags an expert when at most {MAX_SQUEEZED_TOKENS} tokens of
text stand before its first end token and the end tokens were committed before that text (median reveal
step). A short answer written first and padded afterwards is not a collapse.
Blocks prevent it: the tail cannot be touched before the blocks before it are done.

## Parallel samplers
The rule says which positions come first; a **sampler** says how many an expert commits at a
step. `fixed` is LLaDA's even share of the block per step; `threshold:T` commits every position
the model is at least T sure of (the best one always), `factor:F` uses a bar that rises with the
number committed, `bounded:T` (LLaDA2) at least the fixed share and everything above T, and
`entropy:G` as many as keep their summed entropy, less the largest, under G. With these a block
ends when it has no mask left, so each expert finishes at its own step and a finished expert
costs no forward pass. **Token editing** (LLaDA 2.1) lets the model replace a token of the
current block it committed earlier when it now prefers another above a threshold.

## HEX: hidden semi-autoregressive experts
Different block sizes make different mistakes. HEX decodes the same prompt with several block
sizes (for a 256-token answer the paper uses 8, 16, 32, 64 and 128), extracts each final answer
and takes the **majority vote** (ties go to the smallest block). No training is needed; on
LLaDA-8B-Instruct it lifts GSM8K accuracy from 24.7% (whole-answer top-k margin) to 88.1%.
Paper: [Test-Time Scaling in Diffusion LLMs via Hidden Semi-Autoregressive Experts]({PAPER})
(arXiv 2510.05040).

## The views
- **Lesson** (the first tab): six short chapters on stored runs of the built-in model: one
  expert's block-by-block order, the end-of-text wall of whole-answer decoding, experts that
  disagree, the vote, test-time scaling from the model card's eval records, and parallel
  decoding with a threshold sampler. Every number in
  the text is read from those runs and records; **Try it yourself** loads a chapter into Explore.
- **Explore**: decode a question; the HEX answer, the vote and each expert's answer on top, the
  charts below in tabs. **What-if fork** continues one expert from its canvas after step t with
  another block length, rule or temperature, or with one masked position forced to one of the
  model's top candidates, and shows the original and the fork side by side.
- **Gallery**: stored runs (`assets/gallery/`), replayed in every view without a model; a run
  JSON from elsewhere joins the list when dropped into that folder.
- **Compare**: two experts, of one run or two, on one colour scale, with the positions where
  their final tokens differ marked.

## How to read the charts
- **Vote**: one bar per extracted answer; hover to see which experts voted for it. Green is the
  winner; grey are experts with no answer (they don't vote). Below, each expert's final text with
  its answer highlighted.
- **Reveal order**: one row per expert, one column per answer position; the colour is the step at
  which the token was revealed (dark early, yellow late). White lines are block edges. Left-to-right
  colour ramps are semi-autoregressive decoding; a dark tail means end tokens were revealed first.
- **Step scrubber**: drag the slider or press play to see every expert's canvas after t steps.
- **End-token pressure**: for the experts ticked above it, the share of still-masked positions
  whose current draft is an end token (solid), the share of revealed tokens that are end tokens
  (dotted) and the model's mean end-token probability over the masked positions (dash-dot). A
  solid line near 100% early on is the pull towards AfterEoT collapse.
- **Unmasking map**: one expert in detail, as in the HEX paper's Figure 2: step down, position
  across; grey is masked, blue text, orange end of turn, red end-of-text padding. Its steps are
  the expert's own.
- **Tokens per step**: per expert, how many tokens it committed at each of its steps (dotted:
  how many it edited). A fixed schedule is a flat line; a parallel sampler shows bursts.
- **Edits** (◇, with token editing): in the reveal order, scrubber and unmasking map, a
  position whose token was replaced; hover for old → new.

## How hexviz is built
Layers, each importing only the ones above it: `hexviz/models/` loads a masked LM;
`hexviz/tasks/` asks the question and reads the answer; `hexviz/runs/` is the record of a decode
(every chart here is drawn from it, without the model); `hexviz/decode/` holds the settings, the
reveal schedule, the remasking rules and the batched decode loop; `hexviz/app/` is this app.
The same engine serves the `hexviz` command and the eval.

"""


def about_builtin(card: dict) -> str:
    """The About tab's words on the built-in model, with its model card's figures."""
    text = ("## The built-in model\nA 1.9M-parameter ModernBERT-style dLLM trained by hexviz "
            "with LLaDA's fine-tuning recipe on \"tinygsm\", generated GSM8K-style word "
            "problems; it runs on a laptop CPU. On a GPU the same app runs LLaDA-8B-Instruct "
            "when the operator enables it (see the README).")
    if card.get("whole_collapse") is None:
        return text
    return text + (
        f" On {card['problems']} held-out problems of its model card "
        f"(`assets/tinygsm-dllm/README.md`), whole-answer `low_confidence` decoding hit the "
        f"end-of-text wall on {card['whole_collapse']:.0%} of them and scored "
        f"{card['whole_accuracy']:.0%}; the HEX vote of its block-size experts scored "
        f"{card['hex_accuracy']:.0%} (mean expert {card['mean_expert_accuracy']:.0%}).")


# Inline styles, so the answers panel looks the same however the app is launched.
# A flex row: on a narrow screen the text wraps under its label instead of beside it.
ROW_STYLE = ("font-family: ui-monospace, monospace; font-size: 13px; margin: 3px 0; "
             "display: flex; flex-wrap: wrap; column-gap: 1em;")


LABEL_STYLE = "flex: 0 0 14em; color: #666;"


TEXT_STYLE = "flex: 1 1 18em;"


MARK_STYLE = "background: #ffe08a; padding: 0 2px; border-radius: 3px;"


COLLAPSED_STYLE = "color: #b22222;"


def one_line(err: BaseException) -> str:
    """A user-facing line: a ValueError's message, else the error's type and first line."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    if isinstance(err, ValueError) and text:
        return text
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def order_summary(t: Trajectory) -> str:
    """How left to right the expert decoded, and how early it committed end tokens."""
    def number(value: float, fmt: str) -> str:
        return "-" if math.isnan(value) else format(value, fmt)

    return (f"AR-ness {number(t.ar_ness, '.2f')} · order rho "
            f"{number(t.order_correlation, '+.2f')} · "
            f"early end {number(t.early_end_share, '.0%')}")


def steps_summary(run: Run, t: Trajectory) -> str:
    """The steps the expert took (its forward passes), the most it committed at once, and its
    edits."""
    most = int(t.commits.max()) if len(t.commits) else 0
    edits = f" · {len(t.edits)} edits" if run.config.edit is not None else ""
    return f"{t.steps_taken} steps · up to {most} tokens a step{edits}"


def expert_texts_html(run: Run) -> str:
    """Each expert's final text with its extracted answer highlighted, and its steps."""
    rows = []
    for t, label in zip(run.trajectories, plots.row_labels(run), strict=True):
        text = html.escape(t.text) or "<i>(empty)</i>"
        if t.answer is not None:
            needle = html.escape(t.answer)
            cut = text.rfind(needle)
            if cut >= 0:
                text = (f'{text[:cut]}<mark style="{MARK_STYLE}">{needle}</mark>'
                        f"{text[cut + len(needle):]}")
        style = ROW_STYLE + (COLLAPSED_STYLE if t.collapsed else "")
        ll = t.one_step_log_likelihood
        likelihood = "" if ll is None else f"<br><small>one-step ll {ll:.3f}</small>"
        answer = "" if t.answer is None else (
            f"<br><small>answer <b>{html.escape(t.answer[:40])}</b></small>")
        rows.append(f'<div style="{style}"><span style="{LABEL_STYLE}">{html.escape(label)}'
                    f'<br><small>{order_summary(t)}</small>'
                    f'<br><small>{steps_summary(run, t)}</small>{likelihood}{answer}</span>'
                    f'<span style="{TEXT_STYLE}">{text}</span></div>')
    if run.timing.row_passes is not None:
        rows.append(f'<div style="{ROW_STYLE}"><span style="{LABEL_STYLE}">row passes</span>'
                    f'<span style="{TEXT_STYLE}">{run.timing.row_passes} rows computed in '
                    f'{run.steps_done} forward passes (equal rows once, finished experts '
                    f'none; {sum(t.steps_taken for t in run.trajectories)} expert steps)'
                    f'</span></div>')
    return "\n".join(rows)


OWN_FORMAT = "the model's own format"  # the task picker's entry for no task


def task_template_markdown(name: str | None) -> str:
    """What the task picker shows: the user turn around the question, and the prefix."""
    if not name or name == OWN_FORMAT:
        return ("The question goes to the model as typed, in its chat template; answers are "
                "read in the model's own format.")
    task = get_task(name)
    prefix = (f" The generation prompt is followed by `{task.generation_prefix}`."
              if task.generation_prefix else "")
    settings = (f" The paper decodes it with gen_length {task.paper_gen_length}, "
                f"{task.paper_gen_length // 2} steps, blocks {task.paper_gen_length // 32}-"
                f"{task.paper_gen_length // 2}." if task.paper_gen_length else "")
    return (f"**{html.escape(task.description)}**. User turn:\n\n```text\n{task.template()}\n```"
            f"\n\n{prefix}{settings}")


def status_markdown(run: Run) -> str:
    vote = run.vote
    done = f"step {run.steps_done}/{run.config.step_cap}"
    if not run.complete:
        return f"**Decoding…** {done}"
    collapsed = sum(t.collapsed for t in run.trajectories)
    decided = {"first": " (tie, broken by the smallest block)",
               "frequency_lowest_nll": " (tie, broken by the lowest one-step NLL)",
               "lowest_nll": " (the lowest one-step NLL)"}
    head = ("no expert produced an answer" if vote.winner is None else
            f"HEX answer **{vote.winner}**" + decided.get(vote.decided_by, ""))
    rows = "" if run.timing.row_passes is None else f" ({run.timing.row_passes} rows)"
    cache = "" if run.config.cache == "none" else f" ({run.config.cache} cache)"
    return (f"{head} · {len(run.voters)} voting experts · {collapsed} collapsed · "
            f"sampler `{run.config.sampling.label}` · {run.steps_done} forward passes{rows} "
            f"in {run.timing.decode_s:.2f} s{cache} · model `{Path(run.model).name}`")


def figures_html(run: Run, figures: dict | None = None) -> str:
    """Every figure in one self-contained page (plotly.js embedded once: works offline)."""
    figures = figures or plots.all_figures(run)
    parts = [fig.to_html(full_html=False, include_plotlyjs=(i == 0))
             for i, fig in enumerate(figures.values())]
    title = html.escape(run.prompt)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>hexviz: {title}</title>"
            f"</head><body><h2>{title}</h2>{''.join(parts)}</body></html>")
