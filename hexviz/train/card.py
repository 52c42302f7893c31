"""``python -m hexviz.train.card``: write the built-in model's card and the app's examples from
an eval results file (``python -m hexviz eval --out results.json``).

    python -m hexviz eval --limit 500 --out runs/eval-500.json
    python -m hexviz.train.card runs/eval-500.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from hexviz.answers import COLLAPSE_END_FRACTION
from hexviz.evaluate import EvalResults, load_results, summarize, vote_of
from hexviz.models import HEXVIZ_META
from hexviz.paths import BUILTIN_DIR, EXAMPLES
EXAMPLE_COUNT = 5


def disagreement_examples(results: EvalResults, count: int = EXAMPLE_COUNT) -> list[str]:
    """Questions on which the voting experts gave different answers, the vote right first."""
    voters = results.voters
    split = [r for r in results.records if len({r.answers[i] for i in voters}) > 1]
    right = [r for r in split if vote_of(r, voters).winner == r.gold]
    wrong = [r for r in split if vote_of(r, voters).winner != r.gold]
    return [r.question for r in (right[:count - 1] + wrong[:1] + right[count - 1:])][:count]


def best_expert_accuracy(s) -> float:
    return max(e.accuracy for e in s.experts if e.votes)


def observations(s) -> str:
    """Plain statements read off the numbers, so the card never claims more than it measured."""
    best = best_expert_accuracy(s)
    whole = [e for e in s.experts if not e.votes and e.label != "whole (random)"]
    small = [e for e in s.experts if e.votes and int(e.label.split()[0][2:]) <= 16]
    lines = [
        f"- HEX vote {s.hex_accuracy:.1%} vs mean expert {s.mean_expert_accuracy:.1%} "
        f"({(s.hex_accuracy - s.mean_expert_accuracy) * 100:+.1f} points) and best expert "
        f"{best:.1%} ({(s.hex_accuracy - best) * 100:+.1f} points).",
        f"- Whole-answer confidence decoding collapsed on at most "
        f"{max(e.collapse for e in whole):.1%} of problems; block sizes <= 16 on at most "
        f"{max(e.collapse for e in small):.1%}.",
        f"- Best whole-answer baseline {max(e.accuracy for e in whole):.1%} vs best block-size "
        f"expert {best:.1%}.",
        f"- Block sizes <= 16 give no final answer on {min(e.no_answer for e in small):.1%} to "
        f"{max(e.no_answer for e in small):.1%} of problems.",
        f"- The experts disagree on {s.disagreement:.1%} of problems; some expert is right on "
        f"{s.oracle:.1%}.",
    ]
    return "\n".join(lines)


def card_markdown(results: EvalResults, meta: dict) -> str:
    s = summarize(results)
    training = meta["training"]
    rows = "\n".join(
        f"| {e.label}{'' if e.votes else ', no vote'} | {e.accuracy:.1%} | "
        f"{e.no_answer:.1%} | {e.collapse:.1%} |" for e in s.experts)
    settings = ", ".join(f"{k}={v}" for k, v in training.items()
                         if k not in ("steps", "minutes", "parameters", "out_dir"))
    return f"""---
library_name: transformers
tags: [masked-diffusion, dllm, hexviz, toy]
---
# tinygsm-dllm: hexviz's built-in masked diffusion LM

A {training['parameters'] / 1e6:.2f}M-parameter ModernBERT-style masked diffusion LM trained by
hexviz (`python -m hexviz.train`) with LLaDA's supervised fine-tuning recipe on *tinygsm*:
generated GSM8K-style word problems (1-4 chained +, -, * steps on small numbers, answers ending in
`#### N`, verbosity of the chain of thought drawn at random). The answer region is
{meta['gen_length']} tokens: answer, end-of-turn, then end-of-text padding that is part of the
loss, as in LLaDA. It loads with `AutoModelForMaskedLM.from_pretrained` (no remote code) and is
the default model of the hexviz app, CLI and tests.

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

A collapse is an answer with no extractable `#### N` and at least {COLLAPSE_END_FRACTION:.0%}
end tokens.

## What this model does and does not show

{observations(s)}

## Training

- parameters: {training['parameters']:,}
- steps: {training['steps']:,}, wall time {training['minutes']} minutes on 2 CPU cores, one run
  of `python -m hexviz.train` with the settings below
- settings: {settings}
- architecture: ModernBERT (pre-norm, rotary positions), every layer attending globally; a BERT
  of the same size with learned absolute positions had not learned to copy names and numbers
  from the prompt after 1,000 steps, this one does within a few hundred
- recipe: prompt never masked; per example t ~ U(eps, 1), each answer token (padding included)
  masked with probability t, cross-entropy on masked tokens weighted by 1/t; AdamW, linear
  warm-up and cosine decay; every batch a pure function of (seed, step), so runs are reproducible
  and resumable.
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hexviz.train.card", description=__doc__)
    parser.add_argument("results", type=Path, help="eval results JSON of the built-in model")
    parser.add_argument("--model-dir", type=Path, default=BUILTIN_DIR)
    parser.add_argument("--examples", type=Path, default=EXAMPLES)
    args = parser.parse_args(argv)
    results = load_results(args.results)
    meta_path = args.model_dir / HEXVIZ_META
    meta = json.loads(meta_path.read_text())
    summary = summarize(results)
    meta["card"] = {"problems": summary.problems, "hex_accuracy": summary.hex_accuracy,
                    "mean_expert_accuracy": summary.mean_expert_accuracy,
                    "tie_rate": summary.tie_rate}
    meta_path.write_text(json.dumps(meta, indent=2) + "\n")  # what the checkpoint test holds to
    (args.model_dir / "README.md").write_text(card_markdown(results, meta))
    args.examples.write_text(json.dumps(disagreement_examples(results), indent=1) + "\n")
    print(f"wrote {args.model_dir / 'README.md'} and {args.examples}")


if __name__ == "__main__":
    main()
