"""Decoding settings: one `Expert` per decoding strategy, one `DecodeConfig` per run.

Both are frozen dataclasses validated at construction, so a bad setting fails before any model
work with a message that says what was given and what is allowed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace

from hexviz import limits
from hexviz.policy.blocks import (
    ADA,
    ada_fallback,
    ada_threshold,
    normal_spec,
    parse_block_specs,
    schedule_sizes,
)
from hexviz.policy.length import LengthConfig
from hexviz.policy.rules import RULE_NAMES
from hexviz.policy.samplers import Sampler, check_edit_scope
from hexviz.policy.strategies import Strategy

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
    """One decoding strategy: its blocks with its remasking rule, seed and temperature.

    The blocks are ``block_length`` tokens each, unless ``schedule`` lists their sizes left to
    right, or ``delimiter_threshold`` makes them AdaBlock's (`hexviz.policy.blocks`): each then
    ends at a delimiter the model is sure of, else after ``block_length`` tokens."""

    block_length: int  # the size (a schedule: its first block; AdaBlock: its fallback)
    remasking: str = "low_confidence"
    seed: int = 0
    temperature: float = 0.0  # 0 = argmax; > 0 samples with Gumbel-max noise
    votes: bool = True  # False for baseline rows shown beside the experts
    schedule: tuple[int, ...] = ()  # block sizes left to right, summing to gen_length
    delimiter_threshold: float | None = None  # AdaBlock's T; None: blocks of fixed sizes
    delimiter_ids: tuple[int, ...] = ()  # AdaBlock's delimiter tokens
    round: int = 0  # dVoting: which round of the run (1 first); 0: not a round

    def __post_init__(self) -> None:
        if not isinstance(self.block_length, int) or self.block_length < 1:
            raise ValueError(f"block_length must be a positive integer (got {self.block_length!r})")
        check_rule(self.remasking)
        check_temperature(self.temperature)
        if isinstance(self.round, bool) or not isinstance(self.round, int) or self.round < 0:
            raise ValueError(f"round must be an integer >= 0 (got {self.round!r})")
        object.__setattr__(self, "schedule", tuple(self.schedule))
        object.__setattr__(self, "delimiter_ids", tuple(self.delimiter_ids))
        if self.schedule:
            if not all(isinstance(b, int) and b >= 1 for b in self.schedule):
                raise ValueError(f"block sizes must be positive integers (got {self.schedule})")
            object.__setattr__(self, "block_length", self.schedule[0])
        if self.delimiter_threshold is not None:
            if self.schedule:
                raise ValueError("an expert has a block schedule or adaptive blocks, not both")
            if not 0 < self.delimiter_threshold:  # inf: never a delimiter (parity tests)
                raise ValueError(f"ada:T takes a delimiter threshold T in (0, 1] "
                                 f"(got {self.delimiter_threshold!r})")
            if not self.delimiter_ids:
                raise ValueError("AdaBlock needs at least one delimiter token id")

    @classmethod
    def from_json(cls, d: dict) -> Expert:
        """The inverse of `to_json`; files written before baselines existed all vote."""
        threshold = d.get("delimiter_threshold")
        return cls(d["block_length"], d["remasking"], d["seed"], d["temperature"],
                   d.get("votes", True), tuple(int(b) for b in d.get("schedule") or ()),
                   None if threshold is None else float(threshold),
                   tuple(int(i) for i in d.get("delimiter_ids") or ()), int(d.get("round", 0)))

    def to_json(self) -> dict:
        """The expert's fields; a schedule or AdaBlock's settings only where it has them."""
        d = {"block_length": self.block_length, "remasking": self.remasking, "seed": self.seed,
             "temperature": self.temperature, "votes": self.votes}
        if self.schedule:
            d["schedule"] = list(self.schedule)
        if self.adaptive:
            d["delimiter_threshold"] = self.delimiter_threshold
            d["delimiter_ids"] = list(self.delimiter_ids)
        if self.round:
            d["round"] = self.round
        return d

    @property
    def adaptive(self) -> bool:
        """Whether its blocks are AdaBlock's, sized while decoding."""
        return self.delimiter_threshold is not None

    @property
    def blocks_spec(self) -> str:
        """Its blocks as ``--blocks`` writes them: 8, 8+8+16+32+64, ada:0.3."""
        if self.schedule:
            return "+".join(map(str, self.schedule))
        if self.adaptive:
            return f"ada:{self.delimiter_threshold:g}"
        return str(self.block_length)

    def sizes(self, gen_length: int) -> tuple[int, ...]:
        """Its block sizes over ``gen_length`` positions, the last cut at the end (AdaBlock:
        the fallback's, as if no delimiter were found)."""
        if self.schedule:
            return self.schedule
        whole, rest = divmod(gen_length, self.block_length)
        return (self.block_length,) * whole + ((rest,) if rest else ())

    @property
    def label(self) -> str:
        if self.round:
            return f"round {self.round} (B={self.blocks_spec}, {self.remasking})"
        if not self.votes:
            base = f"whole ({self.remasking})"
        elif self.adaptive:
            base = f"B={self.blocks_spec}/{self.block_length} {self.remasking}"
        else:
            base = f"B={self.blocks_spec} {self.remasking}"
        seed = f" seed {self.seed}" if self.temperature > 0 else ""
        return base + seed


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
    # left before its steps run out (under ``fixed``: after its steps), more steps that only
    # edit it, while the last one changed something, at most this many + 1 (as diffusers
    # counts them); 0: none
    edit_post_steps: int = 0
    # Which committed tokens editing may replace (`hexviz.policy.samplers.EDIT_SCOPES`)
    edit_scope: str = "block"
    # Set by the engine when an expert has AdaBlock's blocks: under ``fixed`` each of them
    # takes its own share of steps (`block_steps`), so rows finish at different steps
    adaptive_blocks: bool = False
    # How the run spends its decodes (`hexviz.policy.strategies`): HEX, seeds or dVoting
    strategy: Strategy = Strategy()
    # Stop the experts still decoding once the finished ones settle the vote (`runs.vote.
    # settled`); only where experts finish at different steps
    decided_vote: bool = False

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
        check_scope(self.edit_scope, sampler, self.cache)
        length = LengthConfig.from_json(self.length)
        object.__setattr__(self, "length", length)
        length.check(self.gen_length)
        if length.grows:
            check_growing(self)
        object.__setattr__(self, "strategy", Strategy.from_json(self.strategy))
        if self.strategy.rounds_voting:
            check_rounds(self)
        if self.decided_vote:
            check_decided_vote(self)

    def to_json(self) -> dict:
        """The settings as a run file stores them: the sampler as its ``NAME[:VALUE]`` text."""
        return {"gen_length": self.gen_length, "steps": self.steps,
                "forbid_end_of_text": self.forbid_end_of_text,
                "end_tokens_last": self.end_tokens_last, "max_gen_length": self.max_gen_length,
                "sampler": self.sampler.spec, "edit": self.edit, "cache": self.cache,
                "length": self.length.to_json(), "edit_post_steps": self.edit_post_steps,
                **({"edit_scope": self.edit_scope} if self.edit_scope != "block" else {}),
                **({"adaptive_blocks": True} if self.adaptive_blocks else {}),
                **({"strategy": self.strategy.to_json()} if self.strategy.name != "hex" else {}),
                **({"decided_vote": True} if self.decided_vote else {})}

    @classmethod
    def of_model(cls, defaults, **settings) -> DecodeConfig:
        """A model's own decode (its `hexviz.models.meta.ModelDefaults`: lengths, editing
        threshold and scope) with ``settings`` on top, e.g. a sampler."""
        scope = defaults.edit_scope if defaults.edit is not None else "block"
        return cls(defaults.gen_length, defaults.steps,
                   **{"edit": defaults.edit, "edit_scope": scope, **settings})

    def with_cache(self, cache: str) -> DecodeConfig:
        """These settings with KV cache ``cache``; beside a cache, editing stays in the block
        (the cache recomputes only the block)."""
        scope = self.edit_scope if cache == "none" else "block"
        return replace(self, cache=cache, edit_scope=scope)

    def for_experts(self, experts: Iterable[Expert]) -> DecodeConfig:
        """These settings as a decode of ``experts`` records them (`adaptive_blocks`)."""
        adaptive = any(e.adaptive for e in experts)
        return self if adaptive == self.adaptive_blocks else replace(self,
                                                                     adaptive_blocks=adaptive)

    @property
    def variable(self) -> bool:
        """Whether experts take steps of their own (a parallel sampler, a growing canvas)
        rather than the fixed schedule's ``steps``."""
        return (self.sampler.variable or self.length.grows or self.adaptive_blocks
                or self.strategy.rounds_voting or self.edit_post_steps > 0)

    @property
    def step_cap(self) -> int:
        """The most steps any expert may take (`Sampler.step_cap`, `LengthConfig.step_cap`);
        it bounds the recorded arrays."""
        if self.length.grows:
            return self.length.step_cap(self.gen_length)
        if self.strategy.rounds_voting:  # rounds in turn, each at most gen_length steps
            return self.strategy.rounds * self.gen_length
        return self._commit_step_cap + self.post_step_cap

    @property
    def _commit_step_cap(self) -> int:
        # AdaBlock's blocks under ``fixed``: at least one token a step, as parallel samplers
        return self.gen_length if self.adaptive_blocks else self.sampler.step_cap(
            self.steps, self.gen_length)

    @property
    def post_step_cap(self) -> int:
        """The most post-block editing steps of any expert: ``edit_post_steps`` + 1 after each
        block, as many blocks as positions at most (what a stored run is checked against;
        `step_cap_for` is the bound of given experts)."""
        return (self.edit_post_steps + 1) * self.gen_length if self.edit_post_steps else 0

    def step_cap_for(self, experts) -> int:
        """The most steps these experts may take: their post-block editing steps counted by
        their own number of blocks."""
        if not self.edit_post_steps or self.length.grows or self.strategy.rounds_voting:
            return self.for_experts(experts).step_cap
        blocks = max(len(e.sizes(self.gen_length)) if not e.adaptive else self.gen_length
                     for e in experts)
        return self.for_experts(experts)._commit_step_cap + (self.edit_post_steps + 1) * blocks

    def expert_step_cap(self, experts) -> int:
        """The most steps one of these experts may take (what its record holds): a dVoting
        round at most gen_length, as the rounds decode in turn; else `step_cap_for`."""
        return self.gen_length if self.strategy.rounds_voting else self.step_cap_for(experts)

    def complete(self, steps_done: int, every_row_finished: bool) -> bool:
        """Whether a decode is over: all ``steps`` done with ``fixed``; every row finished
        with the samplers whose blocks end when no mask is left, and with a growing canvas."""
        return every_row_finished if self.variable else steps_done == self.steps

    def check(self, expert: Expert) -> None:
        """Raise ValueError unless ``expert`` can be decoded with these settings."""
        if self.length.grows:
            if expert.schedule or expert.adaptive:
                raise ValueError(f"--length {self.length.mode} decodes blocks of one size, as "
                                 f"its authors' code does (got {expert.blocks_spec})")
            if expert.block_length > self.gen_length:
                raise ValueError(f"block_length must be at most the maximum length "
                                 f"gen_length={self.gen_length} (got {expert.block_length})")
            if expert.remasking != "low_confidence":
                raise ValueError(f"--length {self.length.mode} commits by confidence, as its "
                                 f"authors' code does; the remasking rule must be "
                                 f"low_confidence (got {expert.remasking})")
            return
        if self.strategy.rounds_voting and (expert.schedule or expert.adaptive
                                            or self.gen_length % expert.block_length):
            raise ValueError(f"dVoting decodes blocks of one size that divides gen_length="
                             f"{self.gen_length}, as its authors' code does (got "
                             f"{expert.blocks_spec})")
        if expert.schedule:
            self._check_schedule(expert.schedule)
        elif expert.adaptive:
            self._check_adaptive(expert)
        elif self.gen_length % expert.block_length:
            raise ValueError(f"block_length must divide gen_length={self.gen_length} "
                             f"(got {expert.block_length}; allowed: {divisors(self.gen_length)})")
        else:
            blocks = self.gen_length // expert.block_length
            if self.steps % blocks:
                raise ValueError(f"steps must be a multiple of the number of blocks "
                                 f"(gen_length {self.gen_length} / block_length "
                                 f"{expert.block_length} = {blocks} blocks; got steps="
                                 f"{self.steps})")

    def _check_schedule(self, sizes: tuple[int, ...]) -> None:
        spec = "+".join(map(str, sizes))
        if sum(sizes) != self.gen_length:
            raise ValueError(f"block schedule {spec} sums to {sum(sizes)}, not the answer "
                             f"length gen_length={self.gen_length}")
        if self.sampler.variable:
            return
        if len(sizes) > self.steps:
            raise ValueError(f"block schedule {spec} has {len(sizes)} blocks, more than "
                             f"steps={self.steps}: each block needs at least one step")
        uneven = [b for b in sizes if b * self.steps % self.gen_length]
        if uneven:
            per_step = self.gen_length / self.steps
            raise ValueError(f"with the fixed sampler every block of {spec} keeps the run's "
                             f"{per_step:g} tokens per step (gen_length {self.gen_length} / "
                             f"steps {self.steps}), so each size must be a multiple of it (got "
                             f"{', '.join(map(str, uneven))}); or use a parallel sampler")

    def _check_adaptive(self, expert: Expert) -> None:
        if expert.block_length > self.gen_length:
            raise ValueError(f"AdaBlock's fallback block must be at most gen_length="
                             f"{self.gen_length} (got {expert.block_length})")
        if not self.sampler.variable and self.gen_length % self.steps:
            raise ValueError(f"with the fixed sampler AdaBlock's blocks keep the run's tokens "
                             f"per step, so steps must divide gen_length={self.gen_length} "
                             f"(got steps={self.steps})")
        if self.edit_post_steps:
            raise ValueError("--edit-post-steps edits blocks of known sizes; AdaBlock's are "
                             "sized while decoding")

    def steps_per_block(self, expert: Expert) -> int:
        return self.steps * expert.block_length // self.gen_length

    def block_steps(self, size: int) -> int:
        """Steps a block of ``size`` tokens takes under ``fixed``: its share of ``steps``, so
        that every block commits the same tokens per step (rounded up for AdaBlock's blocks,
        whose sizes are not known in advance)."""
        return max(1, -(-size * self.steps // self.gen_length))


def check_post_steps(post_steps: int, sampler: Sampler) -> None:
    if isinstance(post_steps, bool) or not isinstance(post_steps, int) or post_steps < 0:
        raise ValueError(f"--edit-post-steps must be an integer >= 0 (got {post_steps!r})")
    if post_steps and sampler.edit is None:
        raise ValueError("--edit-post-steps edits a finished block: it needs --edit")


def check_scope(scope: str, sampler: Sampler, cache: str) -> None:
    check_edit_scope(scope)
    if scope == "block":
        return
    if sampler.edit is None:
        raise ValueError(f"--edit-scope {scope} says which tokens editing may replace: it "
                         "needs --edit")
    if cache != "none":
        raise ValueError(f"--edit-scope {scope} edits tokens before the block, which the KV "
                         f"cache does not recompute; use --cache none or --edit-scope block")


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


def check_rounds(config: DecodeConfig) -> None:
    """dVoting commits by its own entropy threshold, exactly: no sampler, editing, block cache
    or growing canvas beside it."""
    if config.sampler.spec != "fixed" or config.edit is not None:
        raise ValueError("--strategy dvoting commits every position whose entropy is below "
                         "--entropy-threshold; leave --sampler at fixed and --edit off")
    if config.cache != "none" or config.length.grows:
        raise ValueError("--strategy dvoting decodes a fixed-length canvas without a block "
                         "cache; leave --cache at none and --length at fixed")


def check_decided_vote(config: DecodeConfig) -> None:
    check_decided_vote_for(config.sampler, config.strategy, config.length.grows,
                           config.adaptive_blocks)


def check_decided_vote_for(sampler: Sampler, strategy: Strategy, grows: bool = False,
                           apart: bool = False) -> None:
    """A decided vote stops experts still decoding: HEX's or seeds' on a fixed-length canvas,
    where experts finish at different steps (a parallel sampler; ``apart``: AdaBlock's)."""
    if grows:
        raise ValueError("--decided-vote stops experts of a fixed-length canvas; leave --length "
                         "at fixed")
    if strategy.rounds_voting:
        raise ValueError("--decided-vote is for hex and seeds; dVoting stops its rounds by its "
                         "own rule")
    if not (sampler.variable or apart):
        raise ValueError("--decided-vote stops experts still decoding when the vote is "
                         "settled; under the fixed sampler every expert ends at the same step, "
                         "so use a parallel sampler (e.g. --sampler threshold:0.9)")


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


def parse_blocks(values: str | Iterable[int | str]) -> tuple[int | str, ...]:
    """Experts from "8,16,32" or "8,ada,8+24+96" (`blocks.parse_block_specs`): plain sizes as
    ints, ascending, then schedules, presets and AdaBlock as text; ValueError when empty,
    malformed or repeated."""
    return parse_block_specs(values)


@dataclass(frozen=True)
class AdaOptions:
    """AdaBlock's settings beside its threshold: None takes the default that fits the model
    (`blocks.ada_fallback`, the tokenizer's newline or sentence end)."""

    block_length: int | None = None  # the fallback block size
    delimiter_ids: tuple[int, ...] | None = None

    def __post_init__(self) -> None:
        if self.block_length is not None and (isinstance(self.block_length, bool)
                                              or not isinstance(self.block_length, int)
                                              or self.block_length < 1):
            raise ValueError(f"AdaBlock's fallback block size must be a positive integer "
                             f"(got {self.block_length!r})")
        if self.delimiter_ids is not None:
            ids = tuple(self.delimiter_ids)
            if not ids or not all(isinstance(i, int) and i >= 0 for i in ids):
                raise ValueError(f"AdaBlock's delimiters must be token ids >= 0 (got {ids})")
            object.__setattr__(self, "delimiter_ids", ids)


def expert_of(spec: int | str, gen_length: int, remasking: str, seed: int, temperature: float,
              ada: AdaOptions, delimiter_ids: tuple[int, ...] = ()) -> Expert:
    """The expert a ``--blocks`` item names for ``gen_length``; ``delimiter_ids`` are the
    model's AdaBlock default (``ada.delimiter_ids`` overrides them)."""
    if isinstance(spec, int) or str(spec).isdigit():
        return Expert(int(spec), remasking, seed, temperature)
    if str(spec).startswith(ADA):
        ids = ada.delimiter_ids or tuple(delimiter_ids)
        if not ids:
            raise ValueError("this model's tokenizer has no newline or sentence-end token for "
                             "AdaBlock; give its delimiters (--ada-delimiters)")
        return Expert(ada.block_length or ada_fallback(gen_length), remasking, seed, temperature,
                      delimiter_threshold=ada_threshold(str(spec)), delimiter_ids=ids)
    sizes = schedule_sizes(str(spec), gen_length)
    return Expert(sizes[0], remasking, seed, temperature, schedule=sizes)


def hex_experts(gen_length: int, blocks: Iterable[int | str] | None = None,
                remasking: str = "low_confidence", seeds: int = 1,
                temperature: float = 0.0, ada: AdaOptions = AdaOptions(),
                delimiter_ids: tuple[int, ...] = ()) -> list[Expert]:
    """Experts in vote order: block sizes ascending, then schedules and AdaBlock as given,
    then seeds (ties go to the first)."""
    check_seeds(seeds, temperature, remasking)
    blocks = parse_blocks(blocks) if blocks is not None else hex_block_lengths(gen_length)
    if not blocks:
        raise ValueError(f"no HEX block size divides gen_length={gen_length}; give block sizes")
    return [expert_of(b, gen_length, remasking, seed, temperature, ada, delimiter_ids)
            for b in blocks for seed in range(seeds)]


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
    specs = (hex_block_lengths(gen_length) if blocks is None
             else blocks.split(",") if isinstance(blocks, str) else list(blocks))
    unit = math.lcm(*[gen_length // math.gcd(gen_length, b) for spec in specs
                      for b in spec_sizes(spec, gen_length)] or [1])
    return min(gen_length, -(-steps // unit) * unit)


def spec_sizes(spec: int | str, gen_length: int) -> tuple[int, ...]:
    """The block sizes a ``--blocks`` item gives ``gen_length`` (none for AdaBlock, whose
    blocks are sized while decoding, nor for one that is malformed or does not fit it)."""
    try:
        spec = normal_spec(spec)
        if spec.isdigit():
            return (int(spec),) if gen_length % int(spec) == 0 else ()
        return () if spec.startswith(ADA) else schedule_sizes(spec, gen_length)
    except ValueError:
        return ()
