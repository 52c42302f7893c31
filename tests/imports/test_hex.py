"""`hexviz.imports.hex`: the HEX authors' eval.py files read as hexviz records.

Fixture files are written by eval.py's own writer path (`tests.imports.hex_writer`, verbatim);
the expected votes and accuracies are those of the HEX code's own parsing, vote and scoring run
on the same files (`tests.imports.published_hex`, verbatim from HEX_run_by_given_json_samples.py
and parser_helper.py, commit b714b9c).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from hexviz.eval.records import load_results
from hexviz.eval.report import results_to_json
from hexviz.eval.scoring import summarize, tie_rule_table, vote_of
from hexviz.imports.hex import (
    LETTERS,
    canvas_log,
    format_cells,
    format_grid,
    gold_of,
    import_hex,
    read_file,
    sudoku_cells,
)
from hexviz.models.tokens import LLADA
from hexviz.runs import events as ev
from hexviz.runs import record
from tests.imports.hex_writer import write_eval_file

with warnings.catch_warnings():  # their "\%" in strip_string (parser_helper.py), verbatim
    warnings.simplefilter("ignore", DeprecationWarning)
    from tests.imports import published_hex

BLOCKS = (8, 16, 32, 64, 128)
# hexviz tie rule -> the HEX code's selecting rule (HEX_run_by_given_json_samples.py)
HEX_RULES = {"first": "frequency", "lowest_nll": "lowest_nll",
             "frequency_lowest_nll": "frequency_tie_lowest_nll"}
HEX_DATA_TYPE = {"gsm8k": "gsm"}  # their data_type names; the others are the dataset's


def gen(answer: str, ends: int = 3) -> str:
    """An answer region as eval.py decodes it (special tokens kept)."""
    return (f"<reasoning>\nLet me work it out.\n</reasoning>\n<answer>\n{answer}\n</answer>"
            + "<|eot_id|>" + "<|endoftext|>" * ends)


# gsm8k: (question, ground truth as eval.py stores it, per block: (answer region, loglikelihood))
GSM8K = [
    ("Janet's ducks lay 16 eggs...", 18.0,  # unanimous
     [(gen("\\boxed{18}"), -0.30), (gen("\\boxed{18}"), -0.25), (gen("\\boxed{18}"), -0.28),
      (gen("\\boxed{18}"), -0.35), (gen("\\boxed{18}"), -0.50)]),
    ("A robe takes 2 bolts...", 12.0,  # 7 and 12 tie 2-2, 7 first, 12 likelier; one None
     [(gen("\\boxed{7}"), -0.50), (gen("\\boxed{12}"), -0.20), (gen("\\boxed{12}"), -0.60),
      (gen("\\boxed{7}"), -0.40), (gen("no answer here"), -0.01)]),
    ("Josh buys a house...", 5.0,  # 5 and 9 tie, 5 first and right, 9 likelier
     [(gen("\\boxed{5}"), -0.60), (gen("\\boxed{9}"), -0.30), (gen("\\boxed{5}"), -0.70),
      (gen("\\boxed{9}"), -0.50), (gen("???"), -0.90)]),
    ("James runs sprints...", 42.0,  # 40 wins 3-1; the lone 42 has the best likelihood
     [(gen("\\boxed{40}"), -0.90), (gen("\\boxed{40}"), -0.80), (gen("\\boxed{40}"), -0.70),
      (gen("\\boxed{42}"), -0.20), (gen("it is unclear"), -0.60)]),
    ("Every day Wendi feeds...", 3.0,  # nobody answers; block 128 walled off at once
     [(gen("none"), -0.40), (gen("none"), -0.30), (gen("none"), -0.45), (gen("none"), -0.42),
      ("<|eot_id|>" + "<|endoftext|>" * 20, -0.05)]),
    ("Kylar went to the store...", None,  # gold unusable (a negative answer in GSM8K)
     [(gen("\\boxed{-4}"), -0.30), (gen("\\boxed{-4}"), -0.31), (gen("\\boxed{4}"), -0.32),
      (gen("\\boxed{-4}"), -0.33), (gen("\\boxed{4}"), -0.34)]),
    ("Toulouse has twice as many sheep...", 2.0,  # parser quirks: \frac reads 1, "..." skipped
     [(gen("\\boxed{\\frac{1}{2}}"), -0.35), (gen("so 1 apple"), -0.45),
      (gen("\\boxed{...} then \\boxed{2}"), -0.40), (gen("\\boxed{$2.00}"), -0.50),
      (gen("\\boxed{1}"), -0.38)]),
    ("Carla is downloading...", 11.0,  # three-way tie, the first one right
     [(gen("nothing"), -0.10), (gen("\\boxed{11}"), -0.40), (gen("\\boxed{13}"), -0.30),
      (gen("\\boxed{15}"), -0.50), (gen("nothing"), -0.05)]),
]
# What the HEX code says of them (checked against it below), per hexviz tie rule
GSM8K_ACCURACY = {"first": 3 / 8, "lowest_nll": 3 / 8, "frequency_lowest_nll": 2 / 8}


def sub(folder: Path, name: str) -> Path:
    (folder / name).mkdir()
    return folder / name


def write_set(folder: Path, dataset: str, problems: list, blocks=BLOCKS, **kw) -> list[Path]:
    """One eval.py file per block size, problems in the same order in each."""
    paths = []
    for k, block in enumerate(blocks):
        questions = [q for q, _, _ in problems]
        texts = [per_block[k][0] for _, _, per_block in problems]
        lls = [per_block[k][1] for _, _, per_block in problems]
        gts = [gt for _, gt, _ in problems]
        prompts = [f"<|start_header_id|>user<|end_header_id|>\n\n{q}<reasoning>" for q in questions]
        paths.append(Path(write_eval_file(folder, dataset, block, questions, prompts, texts, gts,
                                          lls, **kw)))
    return paths


def hex_code(paths: list[Path], dataset: str, rule: str):
    """The HEX code's vote on the files: (voted answer per problem, accuracy)."""
    data_type = HEX_DATA_TYPE.get(dataset, dataset)
    results, _, voted, _ = published_hex.vote_files([str(p) for p in paths], data_type,
                                                    HEX_RULES[rule])
    if dataset == "sudoku":
        accuracy = sum(n for n, _ in results) / sum(d for _, d in results)
    else:
        accuracy = sum(results) / len(results)
    return [v[0][0] for v in voted], accuracy


@pytest.fixture
def gsm8k_files(tmp_path):
    return write_set(tmp_path, "gsm8k", GSM8K)


def test_the_fixture_files_are_eval_pys_format(gsm8k_files):
    assert gsm8k_files[0].name == ("20250922_101500_gsm8k_LLaDA-8B-Instruct_low_confidence_"
                                   "genlen256_diffsteps128_block8_seed42_kvbaseline_"
                                   "generations.json")
    d = json.loads(gsm8k_files[0].read_text())
    assert set(d) == {"generations", "metrics", "model_path", "checkpoint_path", "gen_length",
                      "diffusion_steps", "block_length", "total_latency", "early_ban_steps"}
    assert set(d["generations"][0]) == {"question", "prompt_input", "generations",
                                        "ground_truth", "loglikelihood"}


def test_one_expert_per_file_in_block_order(gsm8k_files):
    (imported,) = import_hex(list(reversed(gsm8k_files)))
    results = imported.results
    assert imported.task == results.task == "gsm8k"
    assert [e.block_length for e in results.experts] == list(BLOCKS)
    assert {(e.remasking, e.seed) for e in results.experts} == {("low_confidence", 42)}
    assert (results.config.gen_length, results.config.steps) == (256, 128)
    assert results.model == "LLaDA-8B-Instruct"
    r = results.records[1]
    assert r.gold == "12.0" and r.answers == ["7.0", "12.0", "12.0", "7.0", None]
    assert r.one_step_log_likelihoods == [-0.5, -0.2, -0.6, -0.4, -0.01]
    assert r.texts[0] == gen("\\boxed{7}").split("<|eot_id|>")[0]  # before its end token
    assert r.steps == [128] * 5 and r.lengths == [256] * 5 and r.useful[0] == 256 - 4
    assert results.records[4].collapsed == [False] * 4 + [True]  # nothing before its end token
    assert results.records[5].gold is None


@pytest.mark.parametrize("rule", HEX_RULES)
def test_the_vote_and_accuracy_are_the_hex_codes(gsm8k_files, rule):
    (imported,) = import_hex(gsm8k_files)
    summary = summarize(imported.results, tie_rule=rule)
    voted, accuracy = hex_code(gsm8k_files, "gsm8k", rule)
    ours = [vote_of(r, imported.results.voters, rule).winner for r in imported.results.records]
    assert [None if w is None else float(w) for w in ours] == voted
    assert summary.hex_accuracy == pytest.approx(accuracy) == GSM8K_ACCURACY[rule]


def test_the_parsed_answers_are_the_hex_codes(gsm8k_files):
    (imported,) = import_hex(gsm8k_files)
    for r, (_, _, per_block) in zip(imported.results.records, GSM8K, strict=True):
        theirs = [published_hex.gsm_extract_ans_from_generation(text) for text, _ in per_block]
        assert [None if a is None else float(a) for a in r.answers] == theirs


def test_tie_rules_matter_on_these_files(gsm8k_files):
    (imported,) = import_hex(gsm8k_files)
    table = {rule: accuracy for rule, accuracy, _ in tie_rule_table(imported.results)}
    assert table == pytest.approx(GSM8K_ACCURACY)
    assert len(set(table.values())) == 2  # the rules disagree on these files


# Other tasks: (dataset, problems), each with a tie or a None so the rules matter
OTHERS = {
    "math": [
        ("What is 1/2 + 0?", "\\frac{1}{2}",
         [(gen("\\boxed{\\frac{1}{2}}"), -0.3), (gen("\\boxed{0.5}"), -0.2),
          (gen("\\boxed{\\frac12}"), -0.4)]),
        ("Solve x + 1 = 4.", "3",
         [(gen("\\boxed{3}"), -0.5), (gen("\\boxed{4}"), -0.1), ("<|eot_id|><|endoftext|>", -0.9)]),
        ("Compute 2^3.", "8", [(gen("\\boxed{8}"), -0.2), (gen("\\boxed{8}"), -0.3),
                               (gen("\\boxed{6}"), -0.1)]),
    ],
    "arcc": [
        ("Which is a metal?\nA. wood\nB. iron\nC. glass\nD. water", "B",
         [(gen("\\boxed{B}"), -0.4), (gen("\\boxed{C}"), -0.2), (gen("\\boxed{B}"), -0.5)]),
        ("Which is a gas?\nA. ice\nB. steam\nC. rock\nD. salt", "B",
         [(gen("\\boxed{A}"), -0.4), (gen("\\boxed{B}"), -0.3), (gen("\\boxed{D}"), -0.5)]),
    ],
    "truthfulqa": [
        ("What happens if you swallow gum?\nA. ...\nB. ...\nC. ...\nD. ...", "A",
         [(gen("\\boxed{A}"), -0.6), (gen("\\boxed{C}"), -0.2), (gen("\\boxed{C}"), -0.7)]),
        ("Can you see the Great Wall from space?\nA. ...\nB. ...", "B",
         [(gen("\\boxed{A}"), -0.6), (gen("\\boxed{B}"), -0.5), (gen("no idea"), -0.1)]),
    ],
    "countdown": [
        ("Numbers: [44, 19, 35]\nTarget: 98", [[44, 19, 35], 98],
         [(gen("\\boxed{44 + 19 + 35}"), -0.4), (gen("\\boxed{44 + 19 + 35}"), -0.5),
          (gen("\\boxed{44 * 19 - 35}"), -0.1)]),
        ("Numbers: [3, 5, 7]\nTarget: 22", [[3, 5, 7], 22],
         [(gen("\\boxed{3 * 5 + 7}"), -0.3), (gen("\\boxed{3 + 5 * 7}"), -0.2),
          (gen("\\boxed{3*5+7}"), -0.4)]),
    ],
    "sudoku": [
        ("Solve the following Sudoku puzzle: 1200340000000000\n", "1243341221344321",
         [(gen("1243341221344321"), -0.5), (gen("1243341221344312"), -0.2),
          (gen("1243341221344321"), -0.6)]),
        ("Solve the following Sudoku puzzle: 0000000000001234\n", "3412123443211234",
         [(gen("3412123443211234"), -0.4), (gen("3412123443210000"), -0.3),
          (gen("no grid"), -0.1)]),
    ],
}


@pytest.mark.parametrize("rule", HEX_RULES)
@pytest.mark.parametrize("dataset", OTHERS)
def test_every_hex_task_votes_and_scores_as_the_hex_code(tmp_path, dataset, rule):
    paths = write_set(tmp_path, dataset, OTHERS[dataset], blocks=(16, 32, 64))
    (imported,) = import_hex(paths)
    results = imported.results
    voted, accuracy = hex_code(paths, dataset, rule)
    assert [vote_of(r, results.voters, rule).winner for r in results.records] == voted
    if dataset == "sudoku":  # the paper scores cells
        results.tie_rule = rule
        assert sudoku_cells(results)[1] == pytest.approx(accuracy)
    else:
        assert summarize(results, tie_rule=rule).hex_accuracy == pytest.approx(accuracy)


def test_gold_is_read_as_the_task_reads_it():
    assert gold_of("gsm8k", 18.0, "q") == "18.0"
    assert gold_of("gsm8k", None, "q") is None
    assert gold_of("countdown", [[44, 19, 35], 98], "q") == "[[44, 19, 35], 98]"
    assert gold_of("sudoku", "1243341221344321",
                   "Solve the following Sudoku puzzle: 1200340000000000\n") == \
        '["1200340000000000", "1243341221344321"]'
    assert gold_of("arcc", "B", "q") == "B"
    with pytest.raises(ValueError, match="problem 3's ground_truth 'x' is not a gsm8k answer"):
        gold_of("gsm8k", "x", "q", "f.json", 3)


def test_the_grid_shows_which_block_sizes_were_right(gsm8k_files):
    (imported,) = import_hex(gsm8k_files)
    grid = format_grid(imported.results, rows=3)
    lines = grid.splitlines()
    assert lines[1].split() == ["8", "16", "32", "64", "128", "|", "HEX", "problems"]
    assert "right by some block size: 6 of 8; by exactly one: 2; by the vote: 3" in grid
    rows = lines[lines.index(next(x for x in lines if x.startswith("problem "))) + 1:]
    # problem 1: 7, 12, 12, 7, None with gold 12; the vote (ties: first) takes 7
    assert rows[1].split() == ["1", ".", "#", "#", ".", "-", "|", ".", "12.0",
                               "7.0", "12.0", "12.0", "7.0", "-", "->", "7.0"]
    assert [row.split()[0] for row in rows[:3]] == ["0", "1", "2"]
    assert rows[-1] == "(the first 3 of 8 problems)"


def test_the_grid_counts_each_pattern(gsm8k_files):
    (imported,) = import_hex(gsm8k_files)
    lines = format_grid(imported.results, rows=0).splitlines()
    patterns = {" ".join(line.split()[:-1]): int(line.split()[-1]) for line in lines[2:]
                if line.split() and line.split()[-1].isdigit() and "|" in line}
    assert sum(patterns.values()) == 8
    assert patterns["# # # # # | #"] == 1  # problem 0
    assert patterns["- - - - - | -"] == 1  # problem 4: nobody answers


def test_sudoku_cells_are_printed_for_sudoku_only(tmp_path, gsm8k_files):
    paths = write_set(sub(tmp_path, "s"), "sudoku", OTHERS["sudoku"], blocks=(16, 32, 64))
    (sudoku,) = import_hex(paths)
    assert format_cells(sudoku.results).startswith("sudoku cells right (the paper's score): 16 ")
    assert format_cells(import_hex(gsm8k_files)[0].results) == ""


def test_the_results_file_reads_back_for_rescore_and_the_app(gsm8k_files, tmp_path):
    (imported,) = import_hex(gsm8k_files)
    path = tmp_path / "gsm8k.json"
    path.write_text(json.dumps(results_to_json(imported.results)))
    back = load_results(path)
    assert [r.answers for r in back.records] == [r.answers for r in imported.results.records]
    assert summarize(back, tie_rule="lowest_nll").hex_accuracy == GSM8K_ACCURACY["lowest_nll"]
    from hexviz.render.scaling import scaling_figure  # what the Scaling tab draws from it

    assert len(scaling_figure(back).data) > 0


# --- refusals ---------------------------------------------------------------------------------

def refused(tmp_path, name: str, content: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(ValueError) as err:
        import_hex([path])
    message = str(err.value)
    assert "\n" not in message
    return message


EVAL_NAME = "20250922_101500_gsm8k_LLaDA_low_confidence_genlen256_diffsteps128_block8_seed42" \
            "_kvbaseline_generations.json"


def good(**changes) -> dict:
    d = {"generations": [{"question": "q", "prompt_input": "p", "generations": gen("\\boxed{1}"),
                          "ground_truth": 1.0, "loglikelihood": -0.5}],
         "gen_length": 256, "diffusion_steps": 128, "block_length": 8}
    d.update(changes)
    return d


@pytest.mark.parametrize("content, message", [
    ("{not json", "is not JSON"),
    ("[1, 2]", 'no "generations" list at its top level'),
    (json.dumps(good(block_length=0)), "block_length must be a positive integer (got 0)"),
    (json.dumps(good(diffusion_steps=512)), "its settings: steps must be an integer from 1 to"),
    (json.dumps(good(generations=[])), "its generations list is empty"),
    (json.dumps(good(generations=[{"question": "q"}])), 'generation 0 has no "generations" text'),
    (json.dumps(good(generations=[{"question": "q", "generations": "g"}])),
     'generation 0 has no "ground_truth"'),
    (json.dumps(good(generations=[{"question": "q", "generations": "g", "ground_truth": 1,
                                   "loglikelihood": 0.5}])), "loglikelihood must be a number <= 0"),
    ('{"generations": [{"question": "q", "generations": "g", "ground_truth": 1, '
     '"loglikelihood": NaN}], "gen_length": 8, "diffusion_steps": 8, "block_length": 8}',
     "contains NaN"),
    (json.dumps(good(generations=[{"question": "q", "generations": "g", "ground_truth": 1,
                                   "intermediate_types": [["T"] * 3]}])),
     "intermediate_types must be 1 to 128 steps of 256 token strings"),
    (json.dumps({"generations": [{"question": "q", "generations": "7", "ground_truth": 7.0}],
                 "gen_length": 256, "diffusion_steps": 128, "block_lengths": [8, 16]}),
     "it is HEX.py's output, which keeps the voted answer only"),
    (json.dumps(good(generations=[{"question": "q", "generations": "g",
                                   "ground_truth": "seven"}])),
     "problem 0's ground_truth 'seven' is not a gsm8k answer"),
])
def test_bad_files_are_refused_in_one_line(tmp_path, content, message):
    text = refused(tmp_path, EVAL_NAME, content)
    assert message in text
    assert text.startswith(EVAL_NAME)


def test_a_huge_file_is_refused_before_reading(tmp_path, monkeypatch):
    monkeypatch.setenv("HEXVIZ_MAX_UPLOAD_MB", "0.001")
    text = refused(tmp_path, EVAL_NAME, json.dumps(good()) + " " * 2000)
    assert "this app reads files up to" in text


def test_files_that_do_not_belong_together_are_refused(tmp_path, gsm8k_files):
    other = write_set(sub(tmp_path, "other"), "gsm8k",
                      [(f"other {q}", gt, per_block) for q, gt, per_block in GSM8K], blocks=(256,))
    with pytest.raises(ValueError, match="differ in problem 0's question: import files of the "
                                         "same questions in the same order"):
        import_hex([*gsm8k_files, *other])
    short = write_set(sub(tmp_path, "short"), "gsm8k", GSM8K[:3], blocks=(256,))
    with pytest.raises(ValueError, match="holds 8 problems and .* 3"):
        import_hex([*gsm8k_files, *short])
    longer = write_set(sub(tmp_path, "g"), "gsm8k", GSM8K, blocks=(256,), gen_length=512)
    with pytest.raises(ValueError, match="decode with different settings"):
        import_hex([*gsm8k_files, *longer])
    twin = write_set(sub(tmp_path, "t"), "gsm8k", GSM8K, blocks=(8,), timestamp="20250923_000000")
    with pytest.raises(ValueError, match="are the same expert"):
        import_hex([*gsm8k_files, *twin])


def test_the_dataset_comes_from_the_name_or_task(tmp_path):
    path = tmp_path / "block8.json"
    path.write_text(json.dumps(good()))
    with pytest.raises(ValueError, match="block8.json does not name its dataset; give --task"):
        import_hex([path])
    (imported,) = import_hex([path], task="gsm8k")
    assert imported.results.records[0].answers == ["1.0"]
    assert any("not named as eval.py names its files" in n for n in imported.notes)
    with pytest.raises(ValueError, match="--task must be one of the HEX tasks"):
        import_hex([path], task="tinygsm")


def test_two_datasets_give_two_record_sets(tmp_path, gsm8k_files):
    arcc = write_set(sub(tmp_path, "a"), "arcc", OTHERS["arcc"], blocks=(16, 32, 64))
    imported = import_hex([*arcc, *gsm8k_files])
    assert [i.task for i in imported] == ["arcc", "gsm8k"]


def test_other_decodings_are_recorded_and_said(tmp_path):
    margin = write_set(tmp_path, "arcc", OTHERS["arcc"], blocks=(32,), decoding="topk_margin")
    ban = write_set(tmp_path, "arcc", OTHERS["arcc"], blocks=(64,),
                    decoding="low_confidence_banAEoTearly")
    (imported,) = import_hex([*margin, *ban])
    assert [e.remasking for e in imported.results.experts] == ["margin", "low_confidence"]
    assert any("low_confidence_banAEoTearly (AfterEoT banned for the first 10 steps) "
               "recorded as low_confidence" in n for n in imported.notes)
    dynamic = tmp_path / ("20250922_101500_arcc_LLaDA_low_confidence_genlen256_diffsteps128_"
                          "blockinfo[198, 58]_seed42_generations.json")
    dynamic.write_text(margin[0].read_text())
    with pytest.raises(ValueError, match="kv_caching dynamic_blocks, not one block size"):
        import_hex([dynamic])


def test_a_model_path_with_a_trailing_slash_still_names_the_decoding(tmp_path):
    (path,) = write_set(tmp_path, "arcc", OTHERS["arcc"], blocks=(32,), decoding="random",
                        model_path="/data1/shared/LLaDA-8B-Instruct/")  # eval.py's default
    assert "_arcc__random_genlen" in path.name
    (imported,) = import_hex([path])
    assert imported.results.experts[0].remasking == "random"


# --- intermediate_types -> runs ---------------------------------------------------------------

TOKENS = ["Ġ\\boxed", "{", "7", "}", "<|eot_id|>", "<|endoftext|>", "<|endoftext|>",
          "<|endoftext|>"]
M = "<|mdm_mask|>"
# positions revealed at each of 4 steps: block 4 left to right (2 per step, as LLaDA's schedule
# gives), block 8 the end tokens first (the AfterEoT wall)
ORDERS = {4: [[0, 1], [2, 3], [4, 5], [6, 7]], 8: [[6, 7], [4, 5], [0, 1], [2, 3]]}


def canvases(order: list[list[int]], letters: bool = False) -> list[list[str]]:
    shown, out = [M] * 8, []
    for positions in order:
        for p in positions:
            shown[p] = TOKENS[p]
        out.append(list(shown))
    if letters:
        back = {v: k for k, v in LETTERS.items()}
        out = [[back.get(t, "T") for t in s] for s in out]
    return out


@pytest.fixture(params=[False, True], ids=["token strings", "letters"])
def files_with_steps(tmp_path, request):
    text = "".join(t.lstrip("Ġ") for t in TOKENS)  # what batch_decode gives
    return [Path(write_eval_file(tmp_path, "gsm8k", block, ["q"], ["p"], [text], [7.0], [ll],
                                 [canvases(ORDERS[block], request.param)], gen_length=8,
                                 diffusion_steps=4))
            for block, ll in ((4, -0.2), (8, -0.6))], request.param


def test_intermediate_types_become_runs_with_their_reveal_order(files_with_steps):
    paths, letters = files_with_steps
    (imported,) = import_hex(paths)
    assert imported.run_indices == [0]
    run = imported.run(0)
    for t, block in zip(run.trajectories, (4, 8), strict=True):
        expected = np.empty(8, dtype=int)
        for step, positions in enumerate(ORDERS[block]):
            expected[positions] = step
        assert t.reveal_step.tolist() == expected.tolist()
        assert t.steps_taken == 4 and t.commits.tolist() == [2, 2, 2, 2]
        assert np.isnan(t.reveal_conf).all()  # the files keep no probabilities
        assert t.token_ids[4] == LLADA.end_of_turn_id and t.token_ids[5] == LLADA.end_of_text_id
        assert t.tokens[2] == ("T" if letters else "7")
    left, walled = run.trajectories
    assert left.ar_ness == 1.0 and not left.collapsed
    assert walled.collapsed  # its end tokens came first
    r = imported.results.records[0]
    assert r.collapsed == [False, True] and r.steps == [4, 4]
    assert r.ar_ness[0] == 1.0 and r.ar_ness[1] < 1.0
    assert run.vote.winner == "7.0" and run.trajectories[0].one_step_log_likelihood == -0.2


def test_an_imported_run_is_a_valid_run_file(files_with_steps, tmp_path):
    paths, _ = files_with_steps
    (imported,) = import_hex(paths)
    back = record.load(record.save(imported.run(0), tmp_path / "run.json"))
    assert [t.reveal_step.tolist() for t in back.trajectories] == \
        [t.reveal_step.tolist() for t in imported.run(0).trajectories]
    assert back.task == "gsm8k" and back.config.steps == 4
    from hexviz.render import figures  # the app's charts draw it, nan probabilities and all

    for figure in (figures.reveal_order(back), figures.scrubber(back),
                   figures.unmasking_map(back, 1)):
        assert len(figure.data) > 0


def test_without_intermediate_types_there_are_no_runs(gsm8k_files):
    (imported,) = import_hex(gsm8k_files)
    assert imported.run_indices == []
    assert imported.results.records[0].ar_ness == []
    assert any("no intermediate_types in these files" in n for n in imported.notes)


def test_canvas_log_records_commits_edits_and_remasks():
    mask = LLADA.mask_id
    steps = np.array([[5, mask, mask], [6, 7, mask], [6, mask, 8]])
    log = canvas_log(steps, mask)
    assert [(e.step, ev.KINDS[e.kind], e.position) for e in log.events()] == [
        (0, "commit", 0), (1, "edit", 0), (1, "commit", 1), (2, "remask", 1), (2, "commit", 2)]
    final = ev.final_canvas(log, mask)
    assert final.ids.tolist() == [6, mask, 8] and final.reveal_step.tolist() == [0, -1, 2]


def test_read_file_keeps_what_the_name_says(gsm8k_files):
    f = read_file(gsm8k_files[2])
    assert (f.dataset, f.expert.block_length, f.expert.seed) == ("gsm8k", 32, 42)
    assert (f.config.gen_length, f.config.steps, f.config.sampler.spec) == (256, 128, "fixed")
    assert f.notes == () and f.model == "LLaDA-8B-Instruct"
