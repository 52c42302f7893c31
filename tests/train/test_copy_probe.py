"""The copy probe: what it masks and how it counts, with a model that always says one word."""

from __future__ import annotations

import re

import torch

from hexviz.train import copy_probe, task
from hexviz.train.loop import tokenizer_corpus
from hexviz.train.tokenizer import build_tokenizer


class SaysOneWord(torch.nn.Module):
    def __init__(self, vocab: int, word: int) -> None:
        super().__init__()
        self.vocab, self.word = vocab, word

    def forward(self, input_ids):
        logits = torch.zeros(*input_ids.shape, self.vocab)
        logits[..., self.word] = 1.0
        return type("Out", (), {"logits": logits})


def test_the_probe_masks_every_name_and_object_of_the_answers_and_counts_right_guesses():
    tokenizer = build_tokenizer(tokenizer_corpus(2000))
    coins = tokenizer.convert_tokens_to_ids("▁coins")
    tallies = copy_probe.probe(SaysOneWord(len(tokenizer), coins), tokenizer, problems=20)
    pool = task.unique_problems("validation", 400)
    worked = [p for p in pool if not p.answer.startswith("####")][:20]
    words = [w for p in worked for w in re.findall(r"[A-Za-z]+", p.answer)]
    objects = [w for w in words if w in task.OBJECTS]
    assert tallies["answer objects"].total == len(objects)
    assert tallies["answer objects"].right == objects.count("coins")
    assert tallies["answer names"].total == sum(w in task.NAMES for w in words)
    assert tallies["answer names"].right == 0 and tallies["question 'has'"].right == 0
    questions = [re.search(r"How many (\w+) does", p.question).group(1) for p in worked]
    assert tallies["question object"].right == questions.count("coins")
    assert tallies["closing object"].total == 20
    assert tallies["closing object"].guesses == {coins: 20}


def test_mean_cosine_is_one_for_equal_embeddings_and_zero_for_orthogonal_ones():
    tokenizer = build_tokenizer(tokenizer_corpus(200))
    embed = torch.nn.Embedding(len(tokenizer), 3)
    model = type("M", (), {"get_input_embeddings": lambda self: embed})()
    words = ["apples", "pens", "books"]
    ids = [tokenizer.convert_tokens_to_ids("▁" + w) for w in words]
    with torch.no_grad():
        embed.weight[ids] = torch.eye(3)
        assert abs(copy_probe.mean_cosine(model, tokenizer, words)) < 1e-6
        embed.weight[ids] = torch.tensor([1.0, 2.0, 3.0])
        assert abs(copy_probe.mean_cosine(model, tokenizer, words) - 1) < 1e-6
