"""Multiple-choice questions as lettered lines (HEX/eval/arcc.py, truthfulqa.py)."""

from hexviz.tasks.choices import lettered_question


def test_lettered_question():
    assert lettered_question(" Which? ", ["A", "B"], [" x ", "y"]) == (
        "Which?\n\nOptions:\nA. x\nB. y\n\nChoose ONE letter.")
    assert lettered_question("Q", [1, 2], ["x", "y"]).splitlines()[3] == "1. x"
