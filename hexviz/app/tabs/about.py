"""The About tab: what a masked diffusion LM does, the AfterEoT collapse, parallel samplers, HEX,
how to read each chart, and the built-in model with its model card's figures."""

from __future__ import annotations

import gradio as gr

from hexviz.models.meta import read_card
from hexviz.paths import BUILTIN_DIR
from hexviz.runs.metrics import MAX_SQUEEZED_TOKENS

PAPER = "https://arxiv.org/abs/2510.05040"
TAB_ID = "about"


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
current block it committed earlier when it now prefers another above a threshold; with the
**editing scope** `answer`, any token of the answer before the block's end (the built-in model's
default: a slip committed at the end of a block shows only once the next words stand beside it).

## HEX: hidden semi-autoregressive experts
Different block sizes make different mistakes. HEX decodes the same prompt with several block
sizes (for a 256-token answer the paper uses 8, 16, 32, 64 and 128), extracts each final answer
and takes the **majority vote** (ties go to the smallest block). No training is needed; on
LLaDA-8B-Instruct it lifts GSM8K accuracy from 24.7% (whole-answer top-k margin) to 88.1%.
Paper: [Test-Time Scaling in Diffusion LLMs via Hidden Semi-Autoregressive Experts]({PAPER})
(arXiv 2510.05040).

## The views
- **Lesson** (the first tab): seven short chapters on stored runs of the built-in model: one
  expert's block-by-block order, the end-of-text wall of whole-answer decoding, experts that
  disagree, the vote, test-time scaling from the model card's eval records, parallel
  decoding with a threshold sampler, and two cures for the wall (blocks, or a canvas that
  grows). Every number in
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
  its answer highlighted. While a run decodes, the panel shows the step reached and each
  expert's revealed tokens so far.
- **Reveal order**: one row per expert, one column per answer position; the colour is the step at
  which the token was revealed (dark early, yellow late). White lines are block edges. Left-to-right
  colour ramps are semi-autoregressive decoding; a dark tail means end tokens were revealed first.
- **Step scrubber**: drag the slider or press play to see every expert's canvas after t steps.
  A token's text shows in its cell where it fits (widen the window, or hover for any token).
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
- **Re-masked** (○, with `--strategy dvoting`): a dVoting round after the first starts from the
  round before's answer and masks again where the rounds so far disagree; the reveal order,
  scrubber and unmasking map ring those positions (hover: what they held), and tokens per step
  dashes how many.

## How hexviz is built
Floors, each importing only the ones below it: `hexviz/tasks/` asks the question and reads the
answer; `hexviz/models/` loads a masked LM; `hexviz/policy/` holds the experts' settings, the
remasking rules, the samplers and the reveal schedule; `hexviz/runs/` is the record of a decode
(every chart here is drawn from it, without the model); `hexviz/decode/` plans a request, runs
the batched decode loop and reads its answers; `hexviz/eval/` scores datasets;
`hexviz/render/` draws the charts and animations; `hexviz/app/` is this app. The same planner
and engine serve the `hexviz` command and the eval.

"""


def about_builtin(card: dict) -> str:
    """The About tab's words on the built-in model, with its model card's figures."""
    text = ("## The built-in model\nA 1.9M-parameter ModernBERT-style dLLM trained by hexviz "
            "with LLaDA's fine-tuning recipe on \"tinygsm\", generated GSM8K-style word "
            "problems; it runs on a laptop CPU. On a GPU the same app runs LLaDA-8B-Instruct "
            "when the operator enables it (see docs/llada-gpu.md).")
    if card.get("whole_collapse") is None:
        return text
    return text + (
        f" On {card['problems']} held-out problems of its model card "
        f"(`assets/tinygsm-dllm/README.md`), whole-answer `low_confidence` decoding hit the "
        f"end-of-text wall on {card['whole_collapse']:.0%} of them and scored "
        f"{card['whole_accuracy']:.0%}; the HEX vote of its block-size experts scored "
        f"{card['hex_accuracy']:.0%} (mean expert {card['mean_expert_accuracy']:.0%}).")


def build() -> None:
    """The About text, with the built-in model's figures read from its model card."""
    gr.Markdown(ABOUT + about_builtin(read_card(BUILTIN_DIR)))
