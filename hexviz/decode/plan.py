"""The planner: one place that turns what a front door asks for into what the engine runs.

The CLI (`run`, `eval`), the app's Explore and Scaling tabs, the ZeroGPU path and the showcase
builder all describe a decode as `Settings` (the user's terms: None means the model's or the
task's default) and call `plan`, so a flag means the same everywhere: the task's prompt and the
HEX paper's lengths fitted to the model's context, the model's own lengths otherwise, the HEX
experts and baselines, the operator's limits, the cache a model lacks, and how answers are read.
Settings are checked when they are made, before any model loads; `plan` needs the loaded model
(its tokenizer, context and defaults) but no torch of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from hexviz import limits
from hexviz.decode.assemble import Reader
from hexviz.policy.rules import RULE_NAMES
from hexviz.policy.samplers import Sampler
from hexviz.policy.settings import (
    DecodeConfig,
    Expert,
    as_run_by,
    baseline_experts,
    cache_refusal,
    check_cache_mode,
    hex_experts,
    parse_blocks,
    resolve_lengths,
)
from hexviz.runs.vote import check_tie_rule
from hexviz.tasks import get_task
from hexviz.tasks.answers import get_extractor
from hexviz.tasks.base import Problem, Task

PAPER_TOKENS_PER_STEP = 2  # HEX/eval/HEX.py evaluate(): steps = gen_length // 2
SMALLEST_PAPER_LENGTH = 32  # halving stops here: blocks gen_length/32 ... gen_length/2 stay whole


@dataclass(frozen=True, kw_only=True)
class Settings:
    """A decode as a user asks for it. None: the task's paper setting, else the model's."""

    task: str | None = None  # None: the model's own prompt format and answers
    blocks: tuple[int, ...] | None = None  # None: the HEX set for gen_length
    remasking: str = "low_confidence"
    gen_length: int | None = None
    steps: int | None = None  # None: the model's; with gen_length alone, its tokens per step
    temperature: float = 0.0
    seeds: int = 1  # votes per block size
    baselines: bool = True  # whole-answer rows beside the experts (never voting)
    # Tokens per step: a `Sampler` or its NAME[:VALUE] text, parsed here once (with ``edit``)
    sampler: Sampler | str = "fixed"
    edit: float | None = None  # token editing threshold; None: no editing
    cache: str = "none"  # none (exact), prefix or dual: Fast-dLLM's block KV cache
    forbid_end_of_text: bool = False
    end_tokens_last: bool = False
    answer: str | None = None  # an answer format that overrides the task's parser
    tie: str = "first"  # the vote's tie rule
    max_gen_length: int | None = None  # the CLI's --max-gen-length; None: the operator's

    def __post_init__(self) -> None:
        sampler = (self.sampler if isinstance(self.sampler, Sampler)
                   else Sampler.parse(self.sampler, self.edit))
        object.__setattr__(self, "sampler", Sampler(sampler.name, sampler.value,
                                                    sampler.edit if self.edit is None
                                                    else self.edit))
        object.__setattr__(self, "edit", self.sampler.edit)
        check_cache_mode(self.cache)
        if self.task is not None:
            get_task(self.task)  # an unknown task is refused with the known ones listed
        if self.blocks is not None:
            object.__setattr__(self, "blocks", parse_blocks(self.blocks))
        if self.remasking not in RULE_NAMES:
            raise ValueError(f"unknown remasking rule {self.remasking!r}; "
                             f"choose one of {', '.join(RULE_NAMES)}")
        for name in ("gen_length", "steps"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be a positive integer (got {value})")
        if self.seeds < 1:
            raise ValueError(f"seeds must be at least 1 (got {self.seeds})")
        if not 0 <= self.temperature < float("inf"):
            raise ValueError(f"temperature must be a finite number >= 0 "
                             f"(got {self.temperature!r})")
        if self.answer is not None:
            get_extractor(self.answer)
        check_tie_rule(self.tie)


@dataclass(frozen=True)
class Plan:
    """What the engine runs and how its answers are read: one prompt per question, the
    experts in vote order (baselines last), the run's settings; ``notes`` for the user (the
    paper's lengths fitted to the model, a cache the model lacks)."""

    prompts: list[list[int]]
    questions: list[str]  # as typed: what a run records as its prompt
    experts: list[Expert]
    config: DecodeConfig
    reader: Reader
    task: Task | None = None  # whose prompt the questions were put in
    notes: tuple[str, ...] = ()


def prompt_ids(lm, task: Task | None, problem: Problem) -> list[int]:
    """The problem's prompt: the task's protocol, else the model's chat template."""
    return task.prompt_ids(lm.tokenizer, problem) if task else lm.format_prompt(problem.question)


def paper_lengths(task: Task, max_length: int | None, longest_prompt: int,
                  ) -> tuple[int, int, str | None] | None:
    """(gen_length, steps, note) of the paper's protocol for ``task`` on a model whose context
    is ``max_length`` tokens: HEX.py's 256 tokens and 128 steps, halved (as HEX.py scales them,
    steps = gen_length / 2, blocks gen_length/32 ... gen_length/2) until the longest prompt
    fits, with a note saying so; None for a task that keeps the model's own settings."""
    if task.paper_gen_length is None:
        return None
    gen_length = task.paper_gen_length
    while (max_length and longest_prompt + gen_length > max_length
           and gen_length > SMALLEST_PAPER_LENGTH):
        gen_length //= 2
    note = None
    if gen_length != task.paper_gen_length:
        note = (f"note: the paper's gen_length {task.paper_gen_length} plus a {longest_prompt}-"
                f"token prompt exceeds this model's {max_length}-token context; using gen_length "
                f"{gen_length}, steps {gen_length // PAPER_TOKENS_PER_STEP} (the paper's ratios)")
    return gen_length, gen_length // PAPER_TOKENS_PER_STEP, note


def experts_of(settings: Settings, gen_length: int) -> list[Expert]:
    """The HEX experts in vote order, then the whole-answer baselines if asked for."""
    experts = hex_experts(gen_length, settings.blocks, settings.remasking, settings.seeds,
                          settings.temperature)
    if settings.baselines:
        experts += baseline_experts(gen_length, settings.remasking, settings.temperature)
    return experts


def check_decode(config: DecodeConfig, rows: int, bounds: limits.Limits | None = None) -> None:
    """The operator's limits on one decode of ``rows`` experts, the sampler's step cap
    included (a parallel sampler may take up to gen_length steps)."""
    limits.check_decode(config.gen_length, config.steps, rows, bounds,
                        config.step_cap if config.step_cap > config.steps else None)


def operator_limits(settings: Settings) -> limits.Limits:
    """The operator's limits, with the CLI's --max-gen-length taking precedence."""
    current = limits.current()
    if settings.max_gen_length is None:
        return current
    return replace(current, max_gen_length=settings.max_gen_length)


def plan(lm, questions: Sequence[str | Problem], settings: Settings) -> Plan:
    """What ``lm`` decodes for ``questions`` under ``settings``; refusals (limits, settings
    that do not fit each other or the model) raise ValueError before any decoding."""
    task = get_task(settings.task) if settings.task else None
    problems = [q if isinstance(q, Problem) else Problem(q, None) for q in questions]
    if not problems:
        raise ValueError("nothing to decode: no question was given")
    prompts = [prompt_ids(lm, task, p) for p in problems]
    bounds = operator_limits(settings)
    limits.check_prompt_tokens(max(map(len, prompts)), bounds)
    defaults, notes = lm.defaults, []
    fitted = paper_lengths(task, lm.max_length, max(map(len, prompts))) if task else None
    if fitted is not None:
        gen_length, steps, note = fitted
        defaults = replace(defaults, gen_length=gen_length, steps=steps)
        if note and settings.gen_length is None:
            notes.append(note)
    gen_length, steps = resolve_lengths(settings.gen_length, settings.steps,
                                        defaults.gen_length, defaults.steps, settings.blocks)
    config = DecodeConfig(gen_length, steps, settings.forbid_end_of_text,
                          settings.end_tokens_last, bounds.max_gen_length, settings.sampler,
                          settings.edit, settings.cache)
    experts = experts_of(settings, gen_length)
    check_decode(config, len(experts), bounds)
    for expert in experts:
        config.check(expert)
    refusal = cache_refusal(lm, config.cache)
    if refusal is not None:
        notes.append(f"note: {refusal}")
    config = as_run_by(lm, config)  # the settings its runs will record
    # A task parses its answers from the whole generation, unless a format is asked for.
    reader = Reader(settings.answer or lm.defaults.answer_format,
                    task if settings.answer is None else None, settings.tie)
    return Plan(prompts, [p.question for p in problems], experts, config, reader, task,
                tuple(notes))
