"""Decoding settings: one `Expert` per decoding strategy, one `DecodeConfig` per run.

Both are frozen dataclasses validated at construction, so a bad setting fails before any model
work with a message that says what was given and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

from hexviz import limits
from hexviz.policy.length import LengthConfig
from hexviz.policy.rules import RULE_NAMES
from hexviz.policy.samplers import Sampler

DEFAULT_MAX_GEN_LENGTH = 1024  # a larger answer region is refused, to bound time and memory
HEX_BLOCK_FRACTIONS = (32, 16, 8, 4, 2)  # the paper's {8,...,128} for a 256-token answer
# Whole-answer baselines beside the experts' own rule: the HEX paper's top-k margin, and an
# order that ignores the model.
BASELINE_RULES = ("margin", "random")
# What each step recomputes (`hexviz.decode.cache`): everything (exact), or with Fast-dLLM's
# block KV cache the current block and what follows it (prefix) or the current block (dual).
CACHE_MODES = ("none", "prefix", "dual")


def check_rule(remasking: str) -> None:
    if remasking not in RULE_NAMES:
        raise ValueError(f"unknown remasking rule {remasking!r}; "
                         f"choose one of {', '.join(RULE_NAMES)}")


def check_temperature(temperature: float) -> None:
    if not 0 <= temperature < float("inf"):
        raise ValueError(f"temperature must be a finite number >= 0 (got {temperature!r})")


def check_seeds(seeds: int, temperature: float, remasking: str) -> None:
    """At least one seed, and several only where they differ (no identical votes, none too
    many: `limits.check_seeds`)."""
    if seeds < 1:
        raise ValueError(f"seeds must be at least 1 (got {seeds})")
    limits.check_seeds(seeds, temperature, remasking)


@dataclass(frozen=True)
class Expert:
    """One decoding strategy: a block size with its remasking rule, seed and temperature."""

    block_length: int
    remasking: str = "low_confidence"
    seed: int = 0
    temperature: float = 0.0  # 0 = argmax; > 0 samples with Gumbel-max noise
    votes: bool = True  # False for baseline rows shown beside the experts

    def __post_init__(self) -> None:
        if not isinstance(self.block_length, int) or self.block_length < 1:
            raise ValueError(f"block_length must be a positive integer (got {self.block_length!r})")
        check_rule(self.remasking)
        check_temperature(self.temperature)

    @classmethod
    def from_json(cls, d: dict) -> Expert:
        """The inverse of ``asdict(expert)``; files written before baselines existed all vote."""
        return cls(d["block_length"], d["remasking"], d["seed"], d["temperature"],
                   d.get("votes", True))

    @property
    def label(self) -> str:
        base = f"B={self.block_length}" if self.votes else f"whole ({self.remasking})"
        extra = f" {self.remasking}" if self.votes else ""
        seed = f" seed {self.seed}" if self.temperature > 0 else ""
        return base + extra + seed


@dataclass(frozen=True)
class DecodeConfig:
    """Settings shared by every expert of a run."""

    gen_length: int = 64  # answer region, all [MASK] at step 0
    steps: int = 64  # the fixed schedule's forward passes (every expert's, in lock step)
    forbid_end_of_text: bool = False  # remove end-of-text padding from the logits
    end_tokens_last: bool = False  # exclude end tokens from confidence: reveal them last
    max_gen_length: int = DEFAULT_MAX_GEN_LENGTH
    sampler: str = "fixed"  # tokens per step, NAME[:VALUE] (`hexviz.policy.samplers`)
    edit: float | None = None  # token editing threshold; None: no editing
    cache: str = "none"  # one of CACHE_MODES; files written before caching: none
    # How the answer canvas changes (`hexviz.policy.length`); gen_length is then its maximum
    length: LengthConfig = LengthConfig()
    # LLaDA2's post-block editing (diffusers' ``max_post_steps``): once a block has no mask
    # left before its steps run out, more steps that only edit it, while the last one changed
    # something, at most this many + 1 (as diffusers counts them); 0: none
    edit_post_steps: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.gen_length, int) or self.gen_length < 1:
            raise ValueError(f"gen_length must be a positive integer (got {self.gen_length!r})")
        if self.gen_length > self.max_gen_length:
            raise ValueError(f"gen_length must be at most {self.max_gen_length} "
                             f"(got {self.gen_length})")
        if not isinstance(self.steps, int) or not 1 <= self.steps <= self.gen_length:
            raise ValueError(f"steps must be an integer from 1 to gen_length={self.gen_length} "
                             f"(got {self.steps!r})")
        check_cache_mode(self.cache)
        sampler = (self.sampler.with_edit(self.edit) if isinstance(self.sampler, Sampler)
                   else Sampler.parse(self.sampler, self.edit))
        object.__setattr__(self, "sampler", sampler)
        object.__setattr__(self, "edit", sampler.edit)
        check_post_steps(self.edit_post_steps, sampler)
        length = LengthConfig.from_json(self.length)
        object.__setattr__(self, "length", length)
        length.check(self.gen_length)
        if length.grows:
            check_growing(self)

    def to_json(self) -> dict:
        """The settings as a run file stores them: the sampler as its ``NAME[:VALUE]`` text."""
        return {"gen_length": self.gen_length, "steps": self.steps,
                "forbid_end_of_text": self.forbid_end_of_text,
                "end_tokens_last": self.end_tokens_last, "max_gen_length": self.max_gen_length,
                "sampler": self.sampler.spec, "edit": self.edit, "cache": self.cache,
                "length": self.length.to_json(), "edit_post_steps": self.edit_post_steps}

    @property
    def variable(self) -> bool:
        """Whether experts take steps of their own (a parallel sampler, a growing canvas)
        rather than the fixed schedule's ``steps``."""
        return self.sampler.variable or self.length.grows

    @property
    def step_cap(self) -> int:
        """The most steps any expert may take (`Sampler.step_cap`, `LengthConfig.step_cap`);
        it bounds the recorded arrays."""
        if self.length.grows:
            return self.length.step_cap(self.gen_length)
        return self.sampler.step_cap(self.steps, self.gen_length) + self.post_step_cap

    @property
    def post_step_cap(self) -> int:
        """The most post-block editing steps of any expert: ``edit_post_steps`` + 1 after each
        block, as many blocks as positions at most (what a stored run is checked against;
        `step_cap_for` is the bound of given experts)."""
        return (self.edit_post_steps + 1) * self.gen_length if self.edit_post_steps else 0

    def step_cap_for(self, experts) -> int:
        """The most steps these experts may take: their post-block editing steps counted by
        their own number of blocks."""
        if not self.edit_post_steps or self.length.grows:
            return self.step_cap
        blocks = max(-(-self.gen_length // e.block_length) for e in experts)
        return (self.sampler.step_cap(self.steps, self.gen_length)
                + (self.edit_post_steps + 1) * blocks)

    def complete(self, steps_done: int, every_row_finished: bool) -> bool:
        """Whether a decode is over: all ``steps`` done with ``fixed``; every row finished
        with the samplers whose blocks end when no mask is left, and with a growing canvas."""
        return every_row_finished if self.variable else steps_done == self.steps

    def check(self, expert: Expert) -> None:
        """Raise ValueError unless ``expert`` can be decoded with these settings."""
        if self.length.grows:
            if expert.block_length > self.gen_length:
                raise ValueError(f"block_length must be at most the maximum length "
                                 f"gen_length={self.gen_length} (got {expert.block_length})")
            if expert.remasking != "low_confidence":
                raise ValueError(f"--length {self.length.mode} commits by confidence, as its "
                                 f"authors' code does; the remasking rule must be "
                                 f"low_confidence (got {expert.remasking})")
            return
        if self.gen_length % expert.block_length:
            raise ValueError(f"block_length must divide gen_length={self.gen_length} "
                             f"(got {expert.block_length}; allowed: {divisors(self.gen_length)})")
        blocks = self.gen_length // expert.block_length
        if self.steps % blocks:
            raise ValueError(f"steps must be a multiple of the number of blocks "
                             f"(gen_length {self.gen_length} / block_length {expert.block_length}"
                             f" = {blocks} blocks; got steps={self.steps})")

    def steps_per_block(self, expert: Expert) -> int:
        return self.steps * expert.block_length // self.gen_length


def check_post_steps(post_steps: int, sampler: Sampler) -> None:
    if isinstance(post_steps, bool) or not isinstance(post_steps, int) or post_steps < 0:
        raise ValueError(f"--edit-post-steps must be an integer >= 0 (got {post_steps!r})")
    if post_steps and (sampler.edit is None or not sampler.variable):
        raise ValueError("--edit-post-steps edits a finished block: it needs --edit and a "
                         "sampler whose blocks end when full (not fixed)")


def check_growing(config: DecodeConfig) -> None:
    """A growing canvas has its own commit rule and decodes exactly: no sampler, editing or
    block cache beside it."""
    mode = config.length.mode
    if config.sampler.spec != "fixed":
        raise ValueError(f"--length {mode} commits with its own threshold "
                         f"(--high-conf-threshold); leave --sampler at fixed "
                         f"(got {config.sampler.spec})")
    if config.edit is not None:
        raise ValueError(f"--length {mode} does not edit tokens; leave --edit off")
    if config.cache != "none":
        raise ValueError(f"--length {mode} decodes without a block cache; leave --cache at none")


def check_cache_mode(mode: str) -> str:
    if mode not in CACHE_MODES:
        raise ValueError(f"unknown cache mode {mode!r}; choose one of {', '.join(CACHE_MODES)}")
    return mode


def cache_refusal(lm, mode: str) -> str | None:
    """Why ``lm`` (a `DiffusionLM`) decodes exactly although ``mode`` asks for a block cache;
    None when it does not."""
    if check_cache_mode(mode) == "none" or lm.cache_refusal is None:
        return None
    return f"{lm.cache_refusal}; cache {mode!r} decodes exactly, as cache 'none'"


def exact_if_uncached(lm, config: DecodeConfig) -> DecodeConfig:
    """``config`` as ``lm`` decodes it: a model without a block KV cache decodes exactly, and its
    runs say ``cache="none"`` (`cache_refusal` says why)."""
    return replace(config, cache="none") if cache_refusal(lm, config.cache) else config


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def hex_block_lengths(gen_length: int) -> list[int]:
    """The HEX expert set scaled to ``gen_length``: gen_length/32 ... gen_length/2."""
    return [gen_length // f for f in HEX_BLOCK_FRACTIONS if gen_length % f == 0]


def parse_blocks(values: str | Iterable[int | str]) -> tuple[int, ...]:
    """Block sizes from "8,16,32" or a list of numbers, ascending; ValueError when empty, not
    integers, or repeated (a repeated size would count one expert twice in the vote)."""
    items = values.split(",") if isinstance(values, str) else list(values)
    try:
        blocks = [int(str(v).strip()) for v in items if str(v).strip()]
    except ValueError:
        raise ValueError(f"block sizes must be integers such as 8,16,32 (got {values!r})") from None
    if not blocks:
        raise ValueError("at least one block size (expert) is needed")
    repeated = sorted({b for b in blocks if blocks.count(b) > 1})
    if repeated:
        raise ValueError(f"each block size may appear once (got {', '.join(map(str, repeated))} "
                         f"more than once); use seeds for several votes per block size")
    return tuple(sorted(blocks))


def hex_experts(gen_length: int, blocks: Iterable[int] | None = None,
                remasking: str = "low_confidence", seeds: int = 1,
                temperature: float = 0.0) -> list[Expert]:
    """Experts in vote order: block sizes ascending, then seeds (ties go to the first)."""
    check_seeds(seeds, temperature, remasking)
    blocks = parse_blocks(blocks) if blocks is not None else hex_block_lengths(gen_length)
    if not blocks:
        raise ValueError(f"no HEX block size divides gen_length={gen_length}; give block sizes")
    return [Expert(b, remasking, seed, temperature) for b in blocks for seed in range(seeds)]


def baseline_experts(gen_length: int, remasking: str = "low_confidence",
                     temperature: float = 0.0) -> list[Expert]:
    """Whole-answer rows (one block): the experts' rule and `BASELINE_RULES`, each once. Shown
    for contrast; they never vote."""
    rules = dict.fromkeys((remasking, *BASELINE_RULES))
    return [Expert(gen_length, rule, 0, temperature, votes=False) for rule in rules]


def resolve_lengths(gen_length: int | None, steps: int | None, default_gen_length: int,
                    default_steps: int, blocks: Iterable[int] | None = None) -> tuple[int, int]:
    """(gen_length, steps) from what the user gave (None or 0: not given) and the model's
    defaults. An answer length of one's own keeps the model's tokens per step unless steps are
    given, raised so that every expert (``blocks``, default the HEX set) gets whole steps."""
    if not gen_length:
        return default_gen_length, steps or default_steps
    return gen_length, steps or scaled_steps(gen_length, default_gen_length, default_steps, blocks)


def scaled_steps(gen_length: int, default_gen_length: int, default_steps: int,
                 blocks: Iterable[int] | None = None) -> int:
    """Steps for ``gen_length`` at the model's default tokens per step, rounded up to a multiple
    of each expert's number of blocks (a multiple of all of them divides gen_length)."""
    steps = max(1, gen_length * default_steps // default_gen_length)
    sizes = parse_blocks(blocks) if blocks is not None else hex_block_lengths(gen_length)
    unit = math.lcm(*[gen_length // b for b in sizes if 0 < b and gen_length % b == 0] or [1])
    return min(gen_length, -(-steps // unit) * unit)
