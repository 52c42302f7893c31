"""The model card's targets, per-operation table and examples, on hand-built eval records."""

from __future__ import annotations

import dataclasses

import pytest

from hexviz.eval.records import EvalResults, Record
from hexviz.eval.scoring import summarize
from hexviz.policy.settings import DecodeConfig, Expert
from hexviz.train import card

Q2 = "Zoe has 4 cards. She buys 2 more. She loses 1. How many cards does Zoe have now?"  # 5
Q3 = "Tom has 3 pens. He buys 1 more. He sells 2. He finds 4 more. How many pens does Tom have now?"
WORKED = "Zoe starts with 4 cards. 4 + 2 = 6. 6 - 1 = 5. #### 5"
MISCOPIED = "Lily starts with 4 cards. 4 + 3 = 7. 7 - 1 = 6. #### 6"  # name and one amount wrong


def results(records: list[Record]) -> EvalResults:
    experts = [Expert(4), Expert(8), Expert(16),
               Expert(32, "low_confidence", votes=False), Expert(32, "margin", votes=False),
               Expert(32, "random", votes=False)]
    return EvalResults("m", "d", DecodeConfig(32, 16), experts, "gsm8k", records)


def record(i: int, question: str, gold: str, answers: list, collapsed: list,
           texts: list[str]) -> Record:
    return Record(i, question, gold, answers, collapsed, texts)


@pytest.fixture
def two_problems() -> EvalResults:
    # Problem 0: experts 5, 5, 6 (vote right); baselines collapse (no answer), random right.
    # Problem 1: experts 6, 6, 6 (vote right); baselines 1, 1 (not collapsed), random 6.
    return results([
        record(0, Q2, "5", ["5", "5", "6", None, None, "5"],
               [False, False, False, True, True, False],
               [WORKED, WORKED, MISCOPIED, "", "", WORKED]),
        record(1, Q3, "6", ["6", "6", "6", "1", "1", "6"], [False] * 6,
               ["#### 6", "#### 6", "#### 6", "#### 1", "#### 1", "#### 6"]),
    ])


def test_targets_read_off_the_records(two_problems):
    s = summarize(two_problems)
    found = {t.claim: t for t in card.targets(two_problems, s)}
    collapse = found["whole-answer low_confidence and margin collapse on >= 50%"]
    assert collapse.met and "50.0%" in collapse.measured
    # HEX 100% vs best confidence baseline 0% (problem 0: no answer, problem 1: wrong)
    assert found["HEX >= best whole-answer confidence baseline + 15 points"].met
    assert found["experts with block length <= 4 collapse on <= 5%"].met
    # random 100% vs margin 0%
    assert found["whole-answer random >= whole-answer margin + 10 points"].met
    # experts 100%, 100%, 50%: mean 83.3%, so HEX 100% is >= mean + 5 and >= best
    assert found["HEX >= best single expert"].met
    assert found["mean single expert between 40% and 90%"].met
    # 8 copied items per worked answer (name, start, object; 2 x operator and amount; first
    # operand); the miscopied one has 2 wrong (name, amount 3): 22 of 24
    copy = found["worked answers copy the question's names, objects and amounts right >= 97%"]
    assert not copy.met and copy.measured.startswith("91.7% of 24 copied items (2 wrong)")
    # 3 worked answers with a final number: each ends on its last equation's result
    final = found["a worked answer's `#### N` is the last value its working computed >= 98%"]
    assert final.met and final.measured.startswith("100.0% of 3 worked answers")


def test_final_consistency_counts_answers_that_contradict_their_working(two_problems):
    slipped = two_problems.records[0].texts[:]
    slipped[1] = "Zoe starts with 4 cards. 4 + 2 = 6. 6 - 1 = 5. #### 4"
    records = [dataclasses.replace(two_problems.records[0], texts=slipped),
               two_problems.records[1]]
    assert card.final_consistency(dataclasses.replace(two_problems, records=records)) == (2, 3)


def test_accuracy_by_operations_groups_problems(two_problems):
    rows = card.accuracy_by_operations(two_problems)
    assert [(ops, n) for ops, n, *_ in rows] == [(2, 1), (3, 1)]
    ops2 = rows[0]
    assert ops2[2] == 1.0 and ops2[3] == pytest.approx(2 / 3) and ops2[4] == 1.0  # random right


def test_teaching_examples_put_collapsed_baselines_first(two_problems):
    # both problems: vote right; problem 1's experts all agree, so only problem 0 qualifies
    assert card.teaching_examples(two_problems) == [Q2]


def test_card_command_writes_the_card_and_examples(tmp_path):
    import json
    import shutil

    from hexviz.paths import BUILTIN_DIR, STORED_EVALS

    model_dir = tmp_path / "model"
    model_dir.mkdir()
    shutil.copy(BUILTIN_DIR / "hexviz.json", model_dir / "hexviz.json")
    card.main([str(STORED_EVALS[0]), "--model-dir", str(model_dir),
               "--examples", str(tmp_path / "examples.json")])
    text = (model_dir / "README.md").read_text()
    meta = json.loads((model_dir / "hexviz.json").read_text())
    assert f"| majority-vote accuracy | {meta['card']['hex_accuracy']:.1%} |" in text
    assert 0 <= meta["card"]["whole_collapse"] <= 1  # the checkpoint test holds the wall to it
    assert "learned absolute positions" in text  # the architecture note lives in the card
    assert len(json.loads((tmp_path / "examples.json").read_text())) == card.EXAMPLE_COUNT


def test_the_card_shows_the_measured_sampler_frontier():
    rows = [{"sampler": "fixed", "problems": 200, "hex": 0.70, "mean": 0.58,
             "vote_row_passes": 320.0},
            {"sampler": "threshold:0.9", "problems": 200, "hex": 0.69, "mean": 0.60,
             "vote_row_passes": 120.0},
            {"sampler": "factor:1", "problems": 200, "hex": 0.60, "mean": 0.55,
             "vote_row_passes": 100.0}]
    text = card.samplers_section(rows)
    assert "The first 200 problems" in text
    assert "| `threshold:0.9` | 69.0% | 60.0% | 120.0 | 38% |" in text
    assert "Within 2 points of fixed HEX (70.0%) at <= 40% of its row passes: threshold:0.9 " \
           "(69.0% at 38%)." in text
    rows[1]["hex"] = 0.65
    assert "No threshold or factor sampler is within 2 points" in card.samplers_section(rows)
    assert card.samplers_section([]) == ""
    assert "token editing" not in text
    edited = card.samplers_section([{**r, "edit": 0.9} for r in rows])
    assert "each sampler, each with the model's token editing (threshold 0.9)" in edited
    wide = card.samplers_section([{**r, "edit": 0.9, "edit_scope": "answer"} for r in rows])
    assert "(threshold 0.9, over the answer written so far)" in wide


def test_the_card_shows_what_worked_answers_copy_by_kind(two_problems):
    # the miscopied answer has a wrong name (Lily) and a wrong amount (3) among its 4 numbers
    # (opening, two amounts, first operand); objects all right
    assert card.copy_by_kind(two_problems) == {"name": (2, 3), "object": (3, 3),
                                               "number": (11, 12), "operator": (6, 6)}
    text = card.worked_answers_section(two_problems)
    assert "| names | 66.7% | 1 of 3 |" in text and "| numbers | 91.7% | 1 of 12 |" in text
    assert "| final `#### N` = the working's last result | 100.0% | 0 of 3 |" in text
    # the fixture's worked answers lack the task's "First," lead, so none reads as the task's
    assert "| written in the task's sentences only | 0.0% | 3 of 3 |" in text


def test_the_card_says_where_the_model_trained():
    assert card.trained_on({"precision": "float32"}) == "2 CPU cores"  # before device was kept
    assert card.trained_on({"device": "cpu"}) == "2 CPU cores"
    assert (card.trained_on({"device": "cuda", "precision": "bfloat16"})
            == "one GPU (`--device cuda`, bfloat16)")


def test_the_card_states_the_runs_bare_share_and_suffix_masking(two_problems):
    import json

    from hexviz.paths import BUILTIN_DIR

    meta = json.loads((BUILTIN_DIR / "hexviz.json").read_text())
    meta["training"].update(bare_answer_share=0.4, suffix_mask_share=0.3, curriculum_step=0)
    text = card.card_markdown(two_problems, meta)
    assert "40% of training answers are a bare" in text
    assert "in 30% of the examples instead" in text
    assert card.suffix_recipe({}) == ""  # runs from before the option
    assert card.suffix_recipe({"suffix_mask_share": 0.0}) == ""
    assert "in 30% of the examples instead the answer is masked from" in \
        card.suffix_recipe({"suffix_mask_share": 0.3})


def test_the_card_states_when_the_curriculum_switched_recipes():
    run = {"bare_answer_share": 0.4, "suffix_mask_share": 0.3, "curriculum_step": 4000}
    assert card.bare_recipe(run) == "25% of training answers (from step 4,000 on, 40%) are a bare"
    assert card.suffix_recipe(run).startswith("; from step 4,000 on, in 30% of the examples")
    assert card.bare_recipe({**run, "curriculum_step": 0}) == "40% of training answers are a bare"
    assert card.bare_recipe({}) == "25% of training answers are a bare"


def test_the_card_holds_fluency_to_its_goal(two_problems):
    found = {t.claim: t for t in card.targets(two_problems, summarize(two_problems))}
    fluent = found["worked answers written in the task's sentences only >= 98%"]
    assert card.fluency(two_problems) == (0, 3)  # the fixture's answers are not the task's
    assert not fluent.met and fluent.measured.startswith("0.0% of 3 worked answers")


def test_the_card_shows_what_token_editing_repaired_and_broke(two_problems):
    from hexviz.policy.samplers import Sampler

    edited_records = [dataclasses.replace(two_problems.records[0],
                                          answers=["5", "5", "5", None, None, "5"]),
                      dataclasses.replace(two_problems.records[1],
                                          answers=["6", "1", "6", "1", "1", "6"])]
    config = dataclasses.replace(two_problems.config, sampler=Sampler.parse("threshold:0.9", 0.9))
    edited = dataclasses.replace(two_problems, records=edited_records, config=config)
    meta = {"gen_length": 32, "training": {"parameters": 1000, "steps": 10, "minutes": 1.0}}
    wide = dataclasses.replace(edited, config=dataclasses.replace(
        edited.config, sampler=Sampler.parse("fixed"), edit=0.5, edit_scope="answer"))
    unchanged = dataclasses.replace(two_problems, config=wide.config)
    # the card's own eval decoded with the first pair's settings: its default settings
    text = card.card_markdown(edited, meta, editing=[(edited, two_problems),
                                                     (unchanged, two_problems)])
    flags = "`--sampler threshold:0.9 --edit 0.9`"
    assert f"| | {flags} | `--sampler fixed --edit 0.5 --edit-scope answer` |" in text
    assert "| voting experts' answers: wrong -> right | 1 | 0 |" in text
    assert "| voting experts' answers: right -> wrong | 1 | 0 |" in text
    assert ("| answers editing changed: more wrong -> right than right -> wrong, "
            f"{flags} | 1 vs 1 of 6 | **not met** |") in text
    assert f"| HEX with token editing >= HEX without, {flags} | 100.0% vs 100.0% | met |" in text
    # the repair target is the default settings' (rows that say otherwise have their HEX one)
    assert text.count("answers editing changed") == 1
    assert "HEX with token editing >= HEX without, `--sampler fixed" in text
    assert "Token editing" not in card.card_markdown(two_problems, meta)


def test_the_card_tells_a_main_stage_and_an_editing_stage_apart():
    main = {"steps": 5000, "minutes": 75.1, "device": "cpu"}
    stage = {"steps": 0, "edit_steps": 300, "minutes": 9.5, "device": "cpu", "edit_lr": 2e-4,
             "edit_share": 0.1, "edit_end_tokens": False, "started_from": main}
    made = card.runs_made(stage)
    assert "- main stage: 5,000 steps, 75.1 minutes on 2 CPU cores" in made
    assert "- editing stage: 300 steps, 9.5 minutes on 2 CPU cores" in made
    assert "--init-from MAIN --steps 0 --edit-steps 300" in made
    assert card.runs_made(main).startswith("- steps: 5,000, wall time 75.1 minutes")
    words = card.edit_recipe(stage)
    assert "lr 0.0002" in words and "probability 0.1" in words and "never an end token" in words
    assert card.edit_recipe(main) == ""
