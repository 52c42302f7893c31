"""Test-time strategies: how a run spends its decodes on one question.

- ``hex``: HEX's experts, one per block size (today's runs), and their vote.
- ``seeds``: one block schedule sampled N times at a temperature, and their vote (the baseline
  HEX's reviewers asked for: the same budget without the block-size experts).
- ``dvoting``: dVoting's rounds (Lu et al. 2026, fscdc/dVoting, ``generate_entropy_adaptive``
  with ``enable_remask_sampling``): each round commits, block by block, every masked position
  whose entropy is below a threshold (`Strategy.entropy_threshold`); the first rounds sample
  afresh, later ones keep the positions on which every earlier round agreed and re-mask the
  rest (`consensus`), the last quarter always; sampling stops early once the answers agree
  (`answers_settled`), and the rounds vote.

Numbers only (numpy), so a stored run's strategy is read without torch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

STRATEGIES = ("hex", "seeds", "dvoting")
# scripts/run_dvoting.sh: ENTROPY_THRESH 0.3, sampling_upper_bound 5, block 16 of 256 tokens,
# temperature 0.6
DVOTING_ENTROPY_THRESHOLD = 0.3
DVOTING_ROUNDS = 5
DVOTING_BLOCK_SHARE = 16  # block = gen_length / 16
DVOTING_TEMPERATURE = 0.6
MAX_ROUNDS = 26  # the authors' seed_list has 26 seeds, one per round
TAIL_SHARE = 4  # func_remask: the last gen_length // 4 positions are always re-masked


def check_strategy(name: str) -> str:
    if name not in STRATEGIES:
        raise ValueError(f"unknown strategy {name!r}; choose one of {', '.join(STRATEGIES)}")
    return name


@dataclass(frozen=True)
class Strategy:
    """A run's strategy and dVoting's settings (unused by the others)."""

    name: str = "hex"
    rounds: int = DVOTING_ROUNDS  # dVoting's sampling_upper_bound
    entropy_threshold: float = DVOTING_ENTROPY_THRESHOLD

    def __post_init__(self) -> None:
        check_strategy(self.name)
        if (isinstance(self.rounds, bool) or not isinstance(self.rounds, int)
                or not 2 <= self.rounds <= MAX_ROUNDS):
            raise ValueError(f"--rounds must be an integer from 2 to {MAX_ROUNDS}: dVoting votes "
                             f"over rounds, one seed each (got {self.rounds!r})")
        value = self.entropy_threshold
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0 \
                or value == float("inf"):
            raise ValueError(f"--entropy-threshold must be a finite number >= 0 (got {value!r})")
        object.__setattr__(self, "entropy_threshold", float(value))

    def to_json(self) -> dict:
        return {"name": self.name, "rounds": self.rounds,
                "entropy_threshold": self.entropy_threshold}

    @classmethod
    def from_json(cls, d: object) -> Strategy:
        if d is None:
            return cls()
        if isinstance(d, Strategy):
            return d
        if not isinstance(d, dict):
            raise ValueError("strategy must be an object of settings")
        return cls(str(d.get("name", "hex")), d.get("rounds", DVOTING_ROUNDS),
                   d.get("entropy_threshold", DVOTING_ENTROPY_THRESHOLD))

    @property
    def rounds_voting(self) -> bool:
        return self.name == "dvoting"

    def fresh_rounds(self) -> int:
        """Rounds (1-based, up to this one) that start from an all-mask canvas:
        ``int(rounds / 2 + 1)``, as ``func_remask`` counts them."""
        return int(self.rounds / 2 + 1)


def consensus(past: np.ndarray, mask_id: int, threshold: float = 1.0) -> np.ndarray:
    """dVoting's re-masking (``func_remask``): for answer rows ``past`` (T, L) of the earlier
    rounds, each position keeps the token most rounds gave it when at least ``threshold`` of
    them gave it (ties: the smallest id, as ``torch.unique`` then ``argmax``) and is masked
    otherwise; the last L // 4 positions are always masked."""
    rounds, length = past.shape
    out = np.full(length, mask_id, dtype=np.int64)
    for position in range(length):
        values, counts = np.unique(past[:, position], return_counts=True)
        top = int(np.argmax(counts))
        if counts[top] / rounds >= threshold:
            out[position] = values[top]
    tail = length // TAIL_SHARE
    if tail:
        out[length - tail:] = mask_id
    return out


def answers_settled(answers: Sequence[str | None], rounds: int) -> bool:
    """dVoting's early stop, checked before each round after the second: the commonest
    answer has more than half the rounds' votes (``top > int(rounds / 2)``), or every answer
    agrees and has half of them; answers that could not be read do not count."""
    counts = [c for _, c in Counter(a for a in answers if a is not None).most_common()]
    if not counts:
        return False
    half = int(rounds / 2)
    return counts[0] > half or (counts[0] == sum(counts) and counts[0] >= half)
