"""``python -m hexviz.train.copy_probe``: can a built-in model checkpoint copy names and objects?
One forward pass per problem, no decoding, so it runs on a checkpoint in seconds while training
goes on.

    python -m hexviz.train.copy_probe MODEL_DIR [MODEL_DIR ...] [--problems 100]

Three teacher-forced checks on validation problems (never the test set), argmax at masked
positions of the gold [question | answer] sequence:

1. ``answer``: every name and object of a worked gold answer masked at once (chance about 1 in
   16 names, 1 in 14 objects): what the answer must copy from the question.
2. ``closing``: answers with both "NAME starts with N OBJECTS." and "NAME has N OBJECTS now.";
   only the closing object is masked, so the same object stays visible twice in the question
   and once in the answer. A model that cannot tell its objects apart fails even this.
3. ``question``: the object of "How many OBJECTS does" and the "has" of the first sentence
   masked in the question (the answer visible): the in-question copy that
   ``--prompt-mask-share`` trains.

It also prints the input embeddings' mean pairwise cosine for names, objects and numbers.
"""

from __future__ import annotations

import argparse
from collections import Counter
from dataclasses import dataclass, field

import torch
from transformers import AutoTokenizer, ModernBertForMaskedLM

from hexviz.train import task
from hexviz.train.loop import answer_region, prompt_ids


@dataclass
class Tally:
    right: int = 0
    total: int = 0
    guesses: Counter = field(default_factory=Counter)

    def add(self, guess: int, truth: int) -> None:
        self.right += guess == truth
        self.total += 1
        self.guesses[guess] += 1

    def line(self, tokenizer) -> str:
        top = ", ".join(f"{tokenizer.convert_ids_to_tokens(t).lstrip('▁')} {n}"
                        for t, n in self.guesses.most_common(2))
        return f"{self.right}/{self.total} ({self.right / max(1, self.total):.1%}; top: {top})"


def gold_ids(tokenizer, problem: task.Problem) -> tuple[torch.Tensor, int]:
    """[prompt | answer region] ids of ``problem`` and the prompt's length."""
    prompt = prompt_ids(tokenizer, problem.question)
    return torch.tensor(prompt + answer_region(tokenizer, problem.answer, 128)), len(prompt)


def guesses(model, ids: torch.Tensor, positions: list[int], mask_id: int) -> list[int]:
    """The model's argmax at ``positions`` with all of them masked at once."""
    noisy = ids.clone()
    noisy[positions] = mask_id
    with torch.no_grad():
        logits = model(input_ids=noisy[None]).logits[0]
    return logits[positions].argmax(-1).tolist()


def probe(model, tokenizer, problems: int) -> dict[str, Tally]:
    word = {w: tokenizer.convert_tokens_to_ids("▁" + w) for w in [*task.NAMES, *task.OBJECTS,
                                                                   "many", "has"]}
    names = {word[n] for n in task.NAMES}
    objects = {word[o] for o in task.OBJECTS}
    tallies = {k: Tally() for k in ("answer names", "answer objects", "closing object",
                                    "question object", "question 'has'")}
    mask = tokenizer.mask_token_id
    pool = task.unique_problems("validation", 20 * problems)
    worked = [p for p in pool if not p.answer.startswith("####")][:problems]
    for problem in worked:  # 1. every name and object of the answer
        ids, start = gold_ids(tokenizer, problem)
        spots = [j for j in range(start, len(ids)) if int(ids[j]) in names | objects]
        for j, guess in zip(spots, guesses(model, ids, spots, mask)):
            kind = "answer names" if int(ids[j]) in names else "answer objects"
            tallies[kind].add(guess, int(ids[j]))
    both = [p for p in pool if " starts with " in p.answer and " now." in p.answer][:problems]
    for problem in both:  # 2. the closing object alone
        ids, start = gold_ids(tokenizer, problem)
        j = max(j for j in range(start, len(ids)) if int(ids[j]) in objects)
        tallies["closing object"].add(guesses(model, ids, [j], mask)[0], int(ids[j]))
    for problem in worked:  # 3. in the question
        ids, start = gold_ids(tokenizer, problem)
        j = int((ids[:start] == word["many"]).nonzero()[-1]) + 1
        h = int((ids[:start] == word["has"]).nonzero()[0])
        got = guesses(model, ids, [j, h], mask)
        tallies["question object"].add(got[0], int(ids[j]))
        tallies["question 'has'"].add(got[1], int(ids[h]))
    return tallies


def mean_cosine(model, tokenizer, words: list[str]) -> float:
    """Mean pairwise cosine of the input embeddings of ``words`` (near 1: the model's input
    cannot tell them apart)."""
    ids = [tokenizer.convert_tokens_to_ids("▁" + w) for w in words]
    vectors = torch.nn.functional.normalize(model.get_input_embeddings().weight[ids].detach(), dim=-1)
    cosines = vectors @ vectors.T
    n = len(ids)
    return float((cosines.sum() - n) / (n * (n - 1)))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m hexviz.train.copy_probe",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+")
    parser.add_argument("--problems", type=int, default=100)
    args = parser.parse_args()
    for path in args.models:
        tokenizer = AutoTokenizer.from_pretrained(path)
        model = ModernBertForMaskedLM.from_pretrained(path).eval()
        print(path)
        for kind, tally in probe(model, tokenizer, args.problems).items():
            print(f"  {kind:16} {tally.line(tokenizer)}")
        groups = {"names": list(task.NAMES), "objects": task.OBJECTS,
                  "numbers 0-30": [str(n) for n in range(31)]}
        print("  input embeddings' mean pairwise cosine: " + ", ".join(
            f"{what} {mean_cosine(model, tokenizer, words):.2f}" for what, words in groups.items()))


if __name__ == "__main__":
    main()
