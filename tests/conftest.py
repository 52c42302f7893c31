"""Shared fixtures and helpers: small randomly initialised masked LMs saved in the standard
format, a hand-made run and eval results with known answers, a fake runner, a free port."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import torch
from transformers import BertConfig, BertForMaskedLM

from hexviz import models
from hexviz.app.serving import QUEUE_SIZE
from hexviz.app.ui import build_demo
from hexviz.train.loop import tokenizer_corpus
from hexviz.train.tokenizer import build_tokenizer

if os.environ.get("PYTEST_XDIST_WORKER"):
    # One pytest worker a core (`-n auto`, pytest.ini): one torch thread each, since a spinning
    # OpenMP team stalls whenever the other worker holds its second core
    torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
QUESTION = "Tom has 5 apples. He buys 3 more. How many apples does Tom have now?"


def save_random_bert(path: Path, end_of_text_bias: float = 0.0) -> Path:
    """A 2-layer BERT with peaked random logits (few near-ties) and the tinygsm tokenizer."""
    tokenizer = build_tokenizer(tokenizer_corpus(300))
    torch.manual_seed(0)
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2,
                        num_attention_heads=2, intermediate_size=64, max_position_embeddings=256,
                        initializer_range=0.5, pad_token_id=tokenizer.pad_token_id)
    model = BertForMaskedLM(config)
    with torch.no_grad():
        model.cls.predictions.bias[tokenizer.eos_token_id] += end_of_text_bias
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope="session", autouse=True)
def gradio_cache(tmp_path_factory):
    """Gradio's cache, and with it the app's export folder, in one temporary folder that is
    removed after the session (as in production, exports live inside Gradio's cache)."""
    import os
    import shutil

    folder = tmp_path_factory.mktemp("gradio")
    saved = {k: os.environ.pop(k, None) for k in ("GRADIO_TEMP_DIR", "HEXVIZ_EXPORT_DIR")}
    os.environ["GRADIO_TEMP_DIR"] = str(folder)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
    for key, value in saved.items():
        os.environ.pop(key, None)
        if value is not None:
            os.environ[key] = value


@pytest.fixture(scope="module")
def builtin():
    """The shipped built-in model on CPU, loaded once per test module."""
    return models.load(device="cpu")


@pytest.fixture(scope="session")
def random_model_dir(tmp_path_factory) -> Path:
    return save_random_bert(tmp_path_factory.mktemp("random-bert"))


@pytest.fixture(scope="session")
def random_lm(random_model_dir):
    return models.load(str(random_model_dir), device="cpu")


@pytest.fixture(scope="session")
def end_heavy_lm(tmp_path_factory):
    """A random model pulled towards end-of-text, as a trained dLLM is on its tail."""
    return models.load(str(save_random_bert(tmp_path_factory.mktemp("eos-bert"), 6.0)),
                       device="cpu")


@pytest.fixture(scope="session")
def prompt_ids(random_lm) -> list[int]:
    return random_lm.format_prompt(QUESTION)


def known_run():
    """A hand-made two-expert run (no model): gen_length 4, steps 4, mask 0, eot 1, eos 2.

    Expert B=2 reveals left to right and answers "7"; the baseline (one block) reveals the
    end-of-text tail first and collapses.
    """
    import numpy as np

    from hexviz.models.tokens import SpecialTokens
    from hexviz.policy.settings import DecodeConfig, Expert
    from hexviz.runs.record import Run, Timing, Trajectory

    nan = np.nan

    def traj(expert, ids, tokens, reveal, drafts, text, answer, collapsed, end_fraction):
        reveal = np.array(reveal, dtype=np.int32)
        draft_ids = np.array(drafts, dtype=np.int64)
        draft_prob = np.where(draft_ids >= 0, 0.5, nan).astype(np.float32)
        return Trajectory(expert, np.array(ids), tokens, reveal,
                          np.full(4, 0.9, dtype=np.float32), draft_ids, draft_prob,
                          text, answer, collapsed, end_fraction)

    good = traj(Expert(2), [5, 7, 1, 2], ["####", " 7", "<eot>", "<eos>"], [0, 1, 2, 3],
                [[5, 7, 2, 2], [-1, 7, 2, 2], [-1, -1, 1, 2], [-1, -1, -1, 2]],
                "#### 7", "7", False, 0.5)
    collapsed = traj(Expert(4, "margin", votes=False), [1, 2, 2, 2],
                     ["<eot>", "<eos>", "<eos>", "<eos>"], [3, 2, 1, 0],
                     [[5, 2, 2, 2], [5, 2, 2, -1], [1, 2, -1, -1], [1, -1, -1, -1]],
                     "", None, True, 1.0)
    return Run("hand-made", "Q", [9, 9], DecodeConfig(4, 4), SpecialTokens(0, 2, 1), "gsm8k",
               [good, collapsed], Timing(0.1), 4)


def hand_made_results():
    """Three voting experts and one baseline on four problems, answers chosen by hand."""
    from hexviz.eval.records import EvalResults, Record
    from hexviz.policy.settings import DecodeConfig, Expert

    experts = [Expert(2), Expert(4), Expert(8), Expert(16, "margin", votes=False)]
    records = [
        Record(0, "a", "5", ["5", "5", "6", None], [False, False, False, True]),
        Record(1, "b", "7", ["1", "7", "7", "7"], [False] * 4),
        Record(2, "c", "3", [None, "4", "3", None], [True, False, False, True]),
        Record(3, "d", "9", ["2", "2", "2", "9"], [False] * 4),
    ]
    return EvalResults("m", "d.jsonl", DecodeConfig(16, 16), experts, "gsm8k", records)


class FakeRunner:
    """A `hexviz.app.runner.Runner` with no model: replays the known run, records requests, and
    raises ``fail`` (if given) from ``run``, as a broken model would."""

    def __init__(self, fail: Exception | None = None) -> None:
        self.requests: list = []
        self.fail = fail

    def model_labels(self) -> list[str]:
        return ["fake model"]

    def run(self, request) -> Iterator:
        self.requests.append(request)
        if self.fail is not None:
            raise self.fail
        partial = known_run()
        partial.steps_done = 2
        yield partial
        yield known_run()

    def evaluate(self, model: str, problems: int, seeds: int, temperature: float,
                 on_progress: Callable[[int, int], None] | None = None):
        if on_progress:
            on_progress(problems, problems)
        return hand_made_results()


class RunnerWithDefaults(FakeRunner):
    """A fake runner whose model has its own lengths, as the built-in one does."""

    def defaults(self, label):
        from hexviz.models.meta import ModelDefaults

        return ModelDefaults(gen_length=128, steps=64)


CHROMIUM = os.environ.get("HEXVIZ_CHROMIUM", "/usr/bin/chromium")  # Debian's, never downloaded
# Flags that keep Chromium from reaching for the network on a closed machine.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serving(demo) -> Iterator[str]:
    """``demo`` queued and launched on 127.0.0.1 at a free port; yields its URL, then closes."""
    demo.queue(default_concurrency_limit=1, max_size=QUEUE_SIZE)  # as app.py
    demo.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True,
                quiet=True)
    try:
        yield demo.local_url
    finally:
        demo.close()


@pytest.fixture
def launched():
    """Launch a demo on 127.0.0.1; yield a function runner -> url; close them afterwards."""
    with ExitStack() as stack:
        yield lambda runner: stack.enter_context(serving(build_demo(runner)))
