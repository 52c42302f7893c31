"""The tinygsm task and a few real training steps on a tiny config."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import torch
from transformers import ModernBertForMaskedLM

from hexviz import models, paths
from hexviz.tasks.answers import extract_gsm8k
from hexviz.train import loop, task
from hexviz.train.__main__ import parse_args
from hexviz.train.loop import TrainConfig, answer_region, make_batch, train
from hexviz.train.tokenizer import build_tokenizer


def test_problems_are_seeded_and_gsm8k_shaped():
    a = [task.sample_problem(random.Random(7)) for _ in range(3)]
    b = [task.sample_problem(random.Random(7)) for _ in range(3)]
    assert a == b
    for p in [task.sample_problem(random.Random(i)) for i in range(300)]:
        assert extract_gsm8k(p.answer) == str(p.result)
        assert p.answer.rstrip().endswith(f"#### {p.result}")
        assert 0 <= p.result <= task.MAX_VALUE
        assert p.question.endswith("have now?")
        assert len(task.question_operations(p.question)) == p.operations >= 2


def test_answer_length_is_drawn_apart_from_the_question():
    rng = random.Random(0)
    problems = [task.sample_problem(rng) for _ in range(3000)]
    bare = [p for p in problems if p.answer.startswith("####")]
    assert 0.22 < len(bare) / len(problems) < 0.28  # BARE_ANSWER_PROB
    # every worked answer starts with the same word, so a block can lock into working
    assert all(p.answer.startswith(task.WORKED_LEAD + " ") for p in problems if p not in bare)
    for ops in task.OP_COUNT_WEIGHTS:  # every question shape gets bare and worked answers
        assert {p.answer.startswith("####") for p in problems if p.operations == ops} == {True,
                                                                                          False}


def test_worked_answers_copy_the_question_and_the_check_sees_mistakes():
    rng = random.Random(1)
    for p in [task.sample_problem(rng) for _ in range(500)]:
        check = task.check_copies(p.question, p.answer)
        if p.answer.startswith("####"):
            assert check is None
        else:
            # every step names someone (or the object), its operator and its amount
            assert check.copied >= 1 + 3 * p.operations and check.correct == check.copied
            assert sum(copied for copied, _ in check.by_kind.values()) == check.copied
            assert task.final_matches_working(p.answer) is True
    question = "Zoe has 4 cards. She buys 2 more. How many cards does Zoe have now?"
    # wrong name, wrong object, wrong amount: 3 of the 6 copied items
    assert task.check_copies(question, "Lily starts with 4 stickers. 4 + 3 = 7. #### 7") == \
        task.CopyCheck(copied=6, correct=3)
    # without an opening: a stranger's name and the wrong object in the steps count as miscopied
    assert task.check_copies(question, "Ava buys 2, so 4 + 2 = 6. Zoe has 6 pens now. #### 6") \
        == task.CopyCheck(copied=6, correct=4)


def test_final_answer_is_checked_against_the_last_equation():
    assert task.final_matches_working("First, 19 + 5 = 24 coins. #### 24") is True
    assert task.final_matches_working("First, 4 * 2 = 8. 19 + 5 = 24 coins. #### 25") is False
    # the last equation counts, not the first or a restated count
    assert task.final_matches_working("1 + 2 = 3. 3 * 2 = 6. Tom has 3 pens now. #### 3") is False
    assert task.final_matches_working("#### 7") is None  # a bare answer computes nothing
    assert task.final_matches_working("First, 1 + 2 = 3 pens. Tom has") is None  # no final


def test_a_worked_answer_reads_as_the_tasks_sentences_or_not():
    rng = random.Random(2)
    for p in [task.sample_problem(rng) for _ in range(300)]:
        assert task.reads_as_task_sentences(p.answer) is (None if p.answer.startswith("####")
                                                          else True)
    lead = "First, Leo starts with 12 marbles. Leo gives 3 to Ben, so 12 - 3 = 9. "
    assert task.reads_as_task_sentences(lead + "Leo has 9 marbles now. #### 9") is True
    # whatever the names and numbers: a wrong sum still reads as the task's sentence
    assert task.reads_as_task_sentences(lead.replace("= 9", "= 8") + "#### 8") is True
    # two tokens committed at once in the wrong places: the closing sentence is garbled
    assert task.reads_as_task_sentences(lead + "Leo 9 stamps marbles now. #### 9") is False
    assert task.reads_as_task_sentences(lead + "Leo has 9 pens pens now. #### 9") is False
    assert task.reads_as_task_sentences(lead.replace("First,", "First") + "#### 9") is False
    assert task.reads_as_task_sentences("First, #### 9") is False
    assert task.reads_as_task_sentences("#### 9") is None
    assert task.reads_as_task_sentences(lead + "Leo has") is None  # no final number


def test_the_shipped_test_set_is_what_the_generator_writes():
    """The held-out set the card is measured on is the one the training command writes."""
    shipped = [json.loads(line) for line in paths.TEST_SET.read_text().splitlines()[:50]]
    generated = task.unique_problems("test", 50)
    assert [row["question"] for row in shipped] == [p.question for p in generated]
    assert [row["answer"] for row in shipped] == [p.answer for p in generated]


def test_training_flags_set_embedding_tying_and_precision(capsys):
    cfg, _ = parse_args(["--no-tie-embeddings", "--precision", "float32", "--steps", "7"])
    assert (cfg.tie_embeddings, cfg.precision, cfg.steps) == (False, "float32", 7)
    assert parse_args(["--tie-embeddings"])[0].tie_embeddings is True
    with pytest.raises(SystemExit):
        parse_args(["--precision", "fp8"])
    assert "precision must be one of float32, bfloat16" in capsys.readouterr().err
    tokenizer = build_tokenizer(["Nora has 12 marbles."])
    for tied in (True, False):
        config = loop.model_config(TrainConfig(hidden_size=32, num_heads=2, intermediate_size=64,
                                               num_layers=1, tie_embeddings=tied),
                                   len(tokenizer), tokenizer)
        model = ModernBertForMaskedLM(config)
        shared = model.get_input_embeddings().weight is model.get_output_embeddings().weight
        assert shared is tied


def test_training_devices_this_machine_lacks_are_refused(capsys):
    for argv, message in [(["--device", "meta"], "training runs on cpu or cuda, not 'meta'"),
                          (["--device", "gpu0"], "unknown device 'gpu0'; use cpu or cuda"),
                          (["--workers", "-1"], "workers must be 0 or more")]:
        with pytest.raises(SystemExit):
            parse_args(argv)
        assert message in capsys.readouterr().err
    assert parse_args(["--device", "cpu", "--workers", "2"])[0].workers == 2
    if not torch.cuda.is_available():
        with pytest.raises(SystemExit):
            parse_args(["--device", "cuda"])
        assert "torch sees no CUDA GPU here" in capsys.readouterr().err


def test_batches_made_by_worker_processes_are_each_steps_batch_in_order():
    tokenizer = build_tokenizer(loop.tokenizer_corpus(200))
    cfg = TrainConfig(batch_size=3, steps=5, workers=2, edit_steps=0)
    made = list(loop.step_batches(tokenizer, cfg, start=1))
    assert len(made) == 4
    for step, batch in zip(range(1, 5), made):
        expected = make_batch(tokenizer, cfg, step)
        assert all(torch.equal(batch[k], expected[k]) for k in expected)
    inline = list(loop.step_batches(tokenizer, TrainConfig(batch_size=3, steps=5, edit_steps=0),
                                    start=4))
    assert len(inline) == 1 and torch.equal(inline[0]["input_ids"], made[-1]["input_ids"])


def test_splits_are_disjoint_by_construction():
    train = {p.question for p in task.unique_problems("train", 300)}
    test = {p.question for p in task.unique_problems("test", 300)}
    assert not train & test
    assert all(task.split_of(q) == "test" for q in test)


def test_batches_mask_only_the_answer_and_pad_with_end_of_text():
    tokenizer = build_tokenizer([task.sample_problem(random.Random(i)).question + " " +
                                 task.sample_problem(random.Random(i)).answer for i in range(2000)])
    cfg = TrainConfig(batch_size=4, gen_length=64)
    batch = make_batch(tokenizer, cfg, step=3)
    assert (batch["is_answer"].sum(1) == 64).all()
    assert torch.equal(batch["input_ids"], make_batch(tokenizer, cfg, step=3)["input_ids"])
    region = answer_region(tokenizer, "1 + 2 = 3. #### 3", 64)
    eos = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    assert region[-1] == eos and tokenizer.convert_tokens_to_ids("<|eot_id|>") in region


@pytest.mark.parametrize("text,pieces", [
    ("Nora has 12 marbles.", ["▁Nora", "▁has", "▁12", "▁marbles", "."]),
    ("12 - 4 = 8. #### 8", ["▁12", "▁-", "▁4", "▁=", "▁8", ".", "▁####", "▁8"]),
    ("0 and 99", ["▁0", "▁and", "▁99"]),
    ("1007", ["▁10", "07"]),  # longer numbers: pieces of at most two digits
])
def test_numbers_to_99_are_one_token_and_text_round_trips(text, pieces):
    tokenizer = build_tokenizer(["Nora has 12 marbles. 12 - 4 = 8. #### 8 and"])
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.convert_ids_to_tokens(ids) == pieces
    assert tokenizer.decode(ids) == text


@pytest.mark.slow
def test_a_checkpoint_loads_and_a_resumed_run_equals_a_straight_one(tmp_path, monkeypatch):
    """6 steps stopped after 4 (a crash at step 5) and resumed give the weights of 6 straight."""
    cfg = TrainConfig(out_dir=str(tmp_path / "m"), hidden_size=32, num_layers=1, num_heads=2,
                      intermediate_size=64, batch_size=4, steps=6, checkpoint_every=2,
                      warmup_steps=1, edit_steps=0)
    real_batch = loop.make_batch

    def crash_at_step_4(tokenizer, cfg, step):
        if step == 4:
            raise KeyboardInterrupt
        return real_batch(tokenizer, cfg, step)

    monkeypatch.setattr(loop, "make_batch", crash_at_step_4)
    with pytest.raises(KeyboardInterrupt):
        train(cfg)
    out = Path(cfg.out_dir)
    assert json.loads((out / "checkpoint" / "trainer_state.json").read_text())["step"] == 4
    monkeypatch.setattr(loop, "make_batch", real_batch)
    resumed = models.load(str(train(cfg)), device="cpu")
    assert resumed.defaults.gen_length == 128 and resumed.defaults.steps == 64  # 2 per step
    assert resumed.defaults.answer_format == "gsm8k" and resumed.defaults.edit is None  # no stage
    assert json.loads((out / "checkpoint" / "trainer_state.json").read_text())["step"] == 6
    straight = train(TrainConfig(**{**cfg.__dict__, "out_dir": str(tmp_path / "straight")}))
    expected = models.load(str(straight), device="cpu").model.state_dict()
    got = resumed.model.state_dict()
    assert all(torch.equal(got[k], expected[k]) for k in expected)


@pytest.mark.slow
def test_training_is_reproducible(tmp_path):
    cfg = dict(hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64, batch_size=4,
               steps=3, checkpoint_every=3, warmup_steps=1, edit_steps=0)
    a = train(TrainConfig(out_dir=str(tmp_path / "a"), **cfg))
    b = train(TrainConfig(out_dir=str(tmp_path / "b"), **cfg))
    wa = models.load(str(a), device="cpu").model.state_dict()
    wb = models.load(str(b), device="cpu").model.state_dict()
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_prompt_masking_adds_the_prompt_in_its_share_of_rows_and_zero_draws_nothing():
    tokenizer = build_tokenizer(loop.tokenizer_corpus(200))
    batch = make_batch(tokenizer, TrainConfig(batch_size=64, gen_length=64), step=0)
    generator = torch.Generator().manual_seed(1)
    assert loop.maskable(batch, 0.0, generator) is batch["is_answer"]
    assert torch.equal(generator.get_state(), torch.Generator().manual_seed(1).get_state())
    every = loop.maskable(batch, 1.0, generator)
    assert torch.equal(every, batch["attention_mask"].bool())  # prompt + answer, not padding
    half = loop.maskable(batch, 0.5, torch.Generator().manual_seed(2))
    prompt_rows = (half & ~batch["is_answer"]).any(1)
    assert 16 < prompt_rows.sum() < 48
    assert torch.equal(half[prompt_rows], every[prompt_rows])
    assert torch.equal(half[~prompt_rows], batch["is_answer"][~prompt_rows])
    with pytest.raises(SystemExit):
        parse_args(["--prompt-mask-share", "1.5"])


class ConstantLogits(torch.nn.Module):
    """Uniform logits over ``vocab`` ids: every masked token costs log(vocab)."""

    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.vocab, self.bias = vocab, torch.nn.Parameter(torch.zeros(()))

    def forward(self, input_ids, attention_mask):
        logits = torch.zeros(*input_ids.shape, self.vocab) + self.bias
        return type("Out", (), {"logits": logits})


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_the_loss_weights_masked_tokens_by_one_over_t_and_averages_over_maskable_ones(share):
    tokenizer = build_tokenizer(loop.tokenizer_corpus(200))
    batch = make_batch(tokenizer, TrainConfig(batch_size=8, gen_length=32), step=0)
    model, eps = ConstantLogits(len(tokenizer)), 1e-3
    loss = loop.sft_loss(model, batch, tokenizer.mask_token_id, eps,
                         torch.Generator().manual_seed(5), share)
    # the same draws by hand: t per row, then a uniform per token, then (share > 0) the rows
    generator = torch.Generator().manual_seed(5)
    t = (1 - eps) * torch.rand(8, 1, generator=generator) + eps
    noise = torch.rand(batch["input_ids"].shape, generator=generator)
    eligible = batch["attention_mask"].bool() if share else batch["is_answer"]
    masked = (noise < t) & eligible
    expected = (masked / t).sum() * torch.log(torch.tensor(float(len(tokenizer)))) / eligible.sum()
    assert (masked & ~batch["is_answer"]).any() == bool(share)
    assert torch.isclose(loss, expected)


@pytest.mark.slow
def test_init_from_starts_from_a_models_weights_and_refuses_another_vocabulary(tmp_path, capsys):
    tiny = dict(hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64, batch_size=4,
                warmup_steps=1, edit_steps=0)
    first = train(TrainConfig(out_dir=str(tmp_path / "first"), steps=2, **tiny))
    cfg = TrainConfig(out_dir=str(tmp_path / "tuned"), steps=1, lr=0.0, init_from=str(first),
                      **tiny)
    tuned = models.load(str(train(cfg)), device="cpu").model.state_dict()
    start = models.load(str(first), device="cpu").model.state_dict()
    assert all(torch.equal(tuned[k], start[k]) for k in start)  # lr 0: the weights it loaded
    meta = json.loads((tmp_path / "tuned" / "hexviz.json").read_text())
    assert meta["training"]["init_from"] == str(first)
    other = tmp_path / "other"
    build_tokenizer(["Nora has 12 marbles."]).save_pretrained(other)
    (other / "config.json").write_text((first / "config.json").read_text())
    from hexviz.train.__main__ import main
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.json").write_text((first / "config.json").read_text())
    for source, message in [(other, "its vocabulary is not the tinygsm task's"),
                            (tmp_path / "none", "no model there"), (bare, "no tokenizer there")]:
        with pytest.raises(SystemExit) as exit_:
            main(["--out-dir", str(tmp_path / "x"), "--test-set", str(tmp_path / "t.jsonl"),
                  "--init-from", str(source), "--steps", "1"])
        assert message in str(exit_.value)


@pytest.mark.slow
def test_frozen_input_embeddings_stay_at_their_start_and_need_untied_ones(tmp_path, capsys):
    tiny = dict(hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64, batch_size=4,
                warmup_steps=1, steps=2, checkpoint_every=1, tie_embeddings=False, edit_steps=0)
    frozen = TrainConfig(out_dir=str(tmp_path / "frozen"), freeze_input_embeddings=True, **tiny)
    free = TrainConfig(out_dir=str(tmp_path / "free"), **tiny)
    a = models.load(str(train(frozen)), device="cpu").model
    b = models.load(str(train(free)), device="cpu").model
    assert not torch.equal(a.get_input_embeddings().weight, b.get_input_embeddings().weight)
    torch.manual_seed(frozen.seed)  # the random start train() makes
    tokenizer = build_tokenizer(loop.tokenizer_corpus())
    start = loop.initial_model(frozen, tokenizer)
    assert torch.equal(a.get_input_embeddings().weight, start.get_input_embeddings().weight)
    assert not torch.equal(a.get_output_embeddings().weight, start.get_output_embeddings().weight)
    with pytest.raises(SystemExit):
        parse_args(["--freeze-input-embeddings"])
    assert "needs untied embeddings" in capsys.readouterr().err


def test_embedding_init_std_spreads_the_tied_embeddings_and_keeps_padding_zero(capsys):
    tokenizer = build_tokenizer(loop.tokenizer_corpus(200))
    shape = dict(hidden_size=64, num_heads=2, intermediate_size=64, num_layers=1)
    torch.manual_seed(0)
    modernbert = loop.initial_model(TrainConfig(embedding_init_std=0.0, **shape), tokenizer)
    torch.manual_seed(0)
    spread = loop.initial_model(TrainConfig(**shape), tokenizer)  # the default, 0.2
    weight = spread.get_input_embeddings().weight
    assert weight is spread.get_output_embeddings().weight  # tied: the output spreads too
    rows = [i for i in range(len(tokenizer)) if i != tokenizer.pad_token_id]
    assert 0.18 < float(weight.detach()[rows].std()) < 0.22
    modernbert_weight = modernbert.get_input_embeddings().weight.detach()
    assert float(modernbert_weight[rows].std()) < 0.03  # ModernBERT's 0.02
    assert not weight[tokenizer.pad_token_id].any()
    assert parse_args(["--embedding-init-std", "0.2"])[0].embedding_init_std == 0.2
    with pytest.raises(SystemExit):
        parse_args(["--embedding-init-std", "-1"])
    assert "embedding_init_std must be 0 or more" in capsys.readouterr().err


def test_suffix_masks_cover_the_answer_from_a_cut_to_its_end_in_their_share_of_rows():
    tokenizer = build_tokenizer(loop.tokenizer_corpus(200))
    batch = make_batch(tokenizer, TrainConfig(batch_size=64, gen_length=32), step=0)
    is_answer = batch["is_answer"]
    rows, masks = loop.suffix_masks(is_answer, 0.5, torch.Generator().manual_seed(3))
    assert 16 < rows.sum() < 48
    assert not (masks & ~is_answer).any() and masks.any(1).all()  # only the answer, never empty
    for answer, mask in zip(is_answer, masks):
        region = mask[answer]  # the answer region's positions, left to right
        cut = int(region.int().argmax())
        assert region[cut:].all() and not region[:cut].any()
    assert {int(m.sum()) for m in masks} != {32}  # the cut moves


def test_suffix_rows_count_each_masked_token_once_and_zero_share_keeps_the_recipe():
    tokenizer = build_tokenizer(loop.tokenizer_corpus(200))
    batch = make_batch(tokenizer, TrainConfig(batch_size=8, gen_length=32), step=0)
    model, eps, vocab = ConstantLogits(len(tokenizer)), 1e-3, len(tokenizer)
    plain = loop.sft_loss(model, batch, tokenizer.mask_token_id, eps,
                          torch.Generator().manual_seed(5))
    assert torch.equal(plain, loop.sft_loss(model, batch, tokenizer.mask_token_id, eps,
                                            torch.Generator().manual_seed(5), 0.0, 0.0))
    every = loop.sft_loss(model, batch, tokenizer.mask_token_id, eps,
                          torch.Generator().manual_seed(5), 0.0, 1.0)
    generator = torch.Generator().manual_seed(5)
    torch.rand(8, 1, generator=generator)  # t and the per-token noise are drawn first
    torch.rand(batch["input_ids"].shape, generator=generator)
    _, masks = loop.suffix_masks(batch["is_answer"], 1.0, generator)
    expected = masks.sum() * torch.log(torch.tensor(float(vocab))) / batch["is_answer"].sum()
    assert torch.isclose(every, expected)


def test_bare_answer_share_changes_only_the_answers(capsys):
    plain = [task.sample_problem(random.Random(i)) for i in range(200)]
    bare = [task.sample_problem(random.Random(i), 1.0) for i in range(200)]
    never = [task.sample_problem(random.Random(i), 0.0) for i in range(200)]
    assert [p.question for p in plain] == [p.question for p in bare] == [p.question for p in never]
    assert all(p.answer == f"#### {p.result}" for p in bare)
    assert not any(p.answer.startswith("####") for p in never)
    assert 0 < sum(p.answer.startswith("####") for p in plain) < 200
    assert parse_args(["--bare-answer-share", "0.4"])[0].bare_answer_share == 0.4
    with pytest.raises(SystemExit):
        parse_args(["--suffix-mask-share", "2"])
    assert "suffix_mask_share must be in 0..1" in capsys.readouterr().err


def test_the_curriculum_keeps_the_tasks_mix_until_its_step_then_applies_the_shares(capsys):
    tokenizer = build_tokenizer(loop.tokenizer_corpus(200))
    small = dict(batch_size=4, gen_length=32)
    late = TrainConfig(**small, bare_answer_share=1.0, suffix_mask_share=0.3, curriculum_step=10)
    assert loop.recipe_at(9, late) == loop.Recipe(task.BARE_ANSWER_PROB, 0.0, 0.0)
    assert loop.recipe_at(10, late) == loop.Recipe(1.0, 0.3, 0.0)
    defaults = TrainConfig(curriculum_step=0)
    assert loop.recipe_at(0, defaults) == loop.Recipe(0.4, 0.3, 0.0)  # the default shares
    assert loop.recipe_at(3999, TrainConfig()) == loop.Recipe(task.BARE_ANSWER_PROB, 0.0, 0.0)
    plain = TrainConfig(**small, bare_answer_share=task.BARE_ANSWER_PROB, curriculum_step=0)
    bare = TrainConfig(**small, bare_answer_share=1.0, curriculum_step=0)
    for step, like in ((9, plain), (10, bare)):
        made, expected = make_batch(tokenizer, late, step), make_batch(tokenizer, like, step)
        assert all(torch.equal(made[k], expected[k]) for k in expected)
    assert not torch.equal(make_batch(tokenizer, plain, 10)["input_ids"],
                           make_batch(tokenizer, bare, 10)["input_ids"])
    assert parse_args(["--curriculum-step", "4000"])[0].curriculum_step == 4000
    with pytest.raises(SystemExit):
        parse_args(["--curriculum-step", "-1"])
    assert "curriculum_step must be 0 or more" in capsys.readouterr().err


def test_replacements_swap_their_share_of_visible_tokens_for_neighbours_or_words():
    tokenizer = build_tokenizer(loop.tokenizer_corpus(200))
    batch = make_batch(tokenizer, TrainConfig(batch_size=64, gen_length=48), step=0)
    x0, visible = batch["input_ids"], batch["is_answer"].clone()
    visible[:, ::2] = False  # as if every other answer token were masked
    words = loop.edit_words(tokenizer)
    replaced, shown = loop.replacements(x0, visible, 0.3, words, torch.Generator().manual_seed(0))
    assert not (replaced & ~visible).any()  # never a masked, prompt or padding position
    assert torch.equal(shown[~replaced], x0[~replaced]) and (shown[replaced] != x0[replaced]).all()
    assert 0.15 < replaced.sum() / visible.sum() < 0.3  # the share, less replacements that matched
    near = torch.zeros_like(replaced)  # replacements equal to a token 1 or 2 positions away
    for offset in (-2, -1, 1, 2):
        source = (torch.arange(x0.shape[1]) + offset).clamp(0, x0.shape[1] - 1)
        near |= shown == x0[:, source]
    text = replaced & (x0 != tokenizer.convert_tokens_to_ids("<|endoftext|>"))
    # in the text, about half (plus chance hits); in the padding a neighbour is padding too
    assert 0.4 < (near & text).sum() / text.sum() < 0.8
    special = {tokenizer.mask_token_id, tokenizer.pad_token_id}
    assert not special & set(words.tolist()) and not special & set(shown[replaced].tolist())
    assert tokenizer.convert_tokens_to_ids("<|endoftext|>") in words.tolist()
    none, same = loop.replacements(x0, visible, 0.0, words, torch.Generator().manual_seed(0))
    assert not none.any() and torch.equal(same, x0)


def test_the_editing_loss_adds_every_visible_answer_token_weighted_one():
    tokenizer = build_tokenizer(loop.tokenizer_corpus(200))
    batch = make_batch(tokenizer, TrainConfig(batch_size=8, gen_length=32), step=0)
    model, eps, vocab = ConstantLogits(len(tokenizer)), 1e-3, len(tokenizer)
    words = loop.edit_words(tokenizer)
    edited = loop.sft_loss(model, batch, tokenizer.mask_token_id, eps,
                           torch.Generator().manual_seed(5), 0.0, 0.0, 0.2, words)
    generator = torch.Generator().manual_seed(5)
    t = (1 - eps) * torch.rand(8, 1, generator=generator) + eps
    masked = (torch.rand(batch["input_ids"].shape, generator=generator) < t) & batch["is_answer"]
    visible = batch["is_answer"] & ~masked
    expected = ((masked / t).sum() + visible.sum()) * torch.log(torch.tensor(float(vocab)))
    assert torch.isclose(edited, expected / batch["is_answer"].sum())
    with pytest.raises(ValueError, match="needs the words"):
        loop.sft_loss(model, batch, tokenizer.mask_token_id, eps,
                      torch.Generator().manual_seed(5), 0.0, 0.0, 0.2)


def test_the_editing_stage_follows_the_main_one_with_its_own_schedule_and_edits(capsys):
    cfg = TrainConfig(steps=100, warmup_steps=10, curriculum_step=50, edit_steps=40,
                      edit_lr=1e-4, edit_warmup_steps=4, edit_share=0.2)
    assert loop.recipe_at(99, cfg) == loop.Recipe(0.4, 0.3, 0.0)
    assert loop.recipe_at(100, cfg) == loop.Recipe(0.4, 0.3, 0.2)
    assert loop.total_steps(cfg) == 140
    assert loop.lr_at(99, cfg) == pytest.approx(cfg.lr * cfg.min_lr_ratio, rel=1e-2)
    assert loop.lr_at(100, cfg) == pytest.approx(1e-4 / 4)  # its own warm-up from its own lr
    assert loop.lr_at(103, cfg) == pytest.approx(1e-4)
    assert loop.lr_at(139, cfg) == pytest.approx(1e-4 * cfg.min_lr_ratio, rel=0.05)
    only = TrainConfig(steps=0, edit_steps=40, init_from="somewhere")  # a stage of its own
    assert loop.recipe_at(0, only) == loop.Recipe(0.4, 0.3, 0.1)  # the curriculum does not apply
    with pytest.raises(SystemExit):
        parse_args(["--steps", "0", "--edit-steps", "0"])
    assert "nothing to train" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(["--edit-share", "1.5"])
    assert "edit_share must be in 0..1" in capsys.readouterr().err


def test_the_editing_stage_draws_after_a_main_run_what_it_draws_alone():
    tokenizer = build_tokenizer(loop.tokenizer_corpus(200))
    whole = TrainConfig(batch_size=4, gen_length=32, steps=10, edit_steps=3)
    alone = TrainConfig(batch_size=4, gen_length=32, steps=0, edit_steps=3, init_from="main")
    assert [loop.draw_step(s, whole) for s in (9, 10, 12)] == [9, 0, 2]
    for k in range(3):
        after, only = make_batch(tokenizer, whole, 10 + k), make_batch(tokenizer, alone, k)
        assert torch.equal(after["input_ids"], only["input_ids"])
        assert loop.recipe_at(10 + k, whole) == loop.recipe_at(k, alone)
    assert loop.recipe_at(0, whole) != loop.recipe_at(10, whole)  # its step 0: the task's mix


@pytest.mark.slow
def test_the_editing_stage_trains_from_its_own_optimizer_and_resumes_within_it(tmp_path,
                                                                               monkeypatch):
    cfg = TrainConfig(out_dir=str(tmp_path / "m"), hidden_size=32, num_layers=1, num_heads=2,
                      intermediate_size=64, batch_size=4, steps=2, checkpoint_every=1,
                      warmup_steps=1, edit_steps=3, edit_warmup_steps=1)
    fresh = []
    real = loop.new_optimizer
    monkeypatch.setattr(loop, "new_optimizer", lambda *a: fresh.append(1) or real(*a))
    straight = models.load(str(train(cfg)), device="cpu").model.state_dict()
    assert len(fresh) == 2  # one for the run, one when the editing stage starts
    meta = json.loads((tmp_path / "m" / models.HEXVIZ_META).read_text())
    assert meta["edit"] == loop.EDIT_THRESHOLD  # trained to edit: decoding edits by default
    assert meta["edit_scope"] == "answer"
    training = meta["training"]
    assert training["steps_run"] == 5 and training["steps"] == 2 and training["edit_steps"] == 3
    state = tmp_path / "m" / "checkpoint" / "trainer_state.json"
    assert json.loads(state.read_text())["step"] == 5
    real_batch = loop.make_batch

    def crash_at_step_3(tokenizer, cfg, step):
        if step == 3:
            raise KeyboardInterrupt
        return real_batch(tokenizer, cfg, step)

    again = TrainConfig(**{**cfg.__dict__, "out_dir": str(tmp_path / "r")})
    monkeypatch.setattr(loop, "make_batch", crash_at_step_3)
    with pytest.raises(KeyboardInterrupt):
        train(again)
    monkeypatch.setattr(loop, "make_batch", real_batch)
    resumed = models.load(str(train(again)), device="cpu").model.state_dict()
    assert all(torch.equal(resumed[k], straight[k]) for k in straight)
