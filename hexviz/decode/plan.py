"""The planner: one place that turns what a front door asks for into what the engine runs.

The CLI (`run`, `eval`), the app's Explore and Scaling tabs and its ZeroGPU path describe a
decode as `Settings` (the user's terms: None means the model's or the task's default) and call
`plan`, so a setting means the same everywhere: the task's prompt and the HEX paper's lengths
fitted to the model's context, the model's own lengths otherwise, the HEX experts and
baselines, the operator's limits, the model's context, the cache a model lacks, and how answers
are read. Settings are checked when they are made, before any model loads; `plan` needs the
loaded model (its tokenizer, context and defaults) but no torch of its own. (The showcase
builder decodes its curated runs with settings of its own, as the stored files record them.)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from hexviz import limits
from hexviz.decode.assemble import Reader
from hexviz.models.tokens import delimiter_ids, resolve_delimiters
from hexviz.policy.length import LengthConfig, fitted_to
from hexviz.policy.samplers import EDIT_OFF, Sampler, check_edit_scope
from hexviz.policy.settings import (
    AdaOptions,
    DecodeConfig,
    Expert,
    baseline_experts,
    cache_refusal,
    check_cache_mode,
    check_decided_vote_for,
    check_rule,
    check_seeds,
    check_temperature,
    exact_if_uncached,
    hex_experts,
    parse_blocks,
    resolve_lengths,
)
from hexviz.policy.strategies import (
    DVOTING_BLOCK_SHARE,
    DVOTING_ENTROPY_THRESHOLD,
    DVOTING_ROUNDS,
    DVOTING_TEMPERATURE,
    Strategy,
    check_strategy,
)
from hexviz.runs.vote import NEEDS_LIKELIHOOD, check_tie_rule
from hexviz.tasks import get_task
from hexviz.tasks.answers import get_extractor
from hexviz.tasks.base import Problem, Task

SEEDS_BLOCK_SHARE = 8  # seeds' default schedule: blocks of gen_length / 8 (the card's best)
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
    temperature: float | None = None  # None: 0 (argmax), dVoting's 0.6 for its rounds
    seeds: int = 1  # votes per block size
    baselines: bool = True  # whole-answer rows beside the experts (never voting)
    # Tokens per step: a `Sampler` or its NAME[:VALUE] text, parsed here once (with ``edit``)
    sampler: Sampler | str = "fixed"
    edit: float | None = None  # token editing threshold; None: the model's default (none unless
    # its hexviz.json names one, as for a model trained to edit); EDIT_OFF: none
    edit_post_steps: int = 0  # LLaDA2's editing of a filled block (`DecodeConfig`)
    edit_scope: str | None = None  # which tokens editing may replace; None: the model's
    cache: str = "none"  # none (exact), prefix or dual: Fast-dLLM's block KV cache
    forbid_end_of_text: bool = False
    end_tokens_last: bool = False
    answer_format: str | None = None  # overrides the task's parser (the CLI's --answer)
    tie_rule: str = "first"  # how the vote breaks ties (the CLI's --tie)
    length: str = "fixed"  # fixed, daedal or rho-eos (`hexviz.policy.length`)
    # The growing canvas's settings the user gave (`LengthConfig` fields); the others are the
    # authors' defaults, fitted to the model's gen_length
    length_options: Mapping[str, object] = field(default_factory=dict)
    # AdaBlock experts (``ada`` in blocks): the fallback block size, and the delimiters as token
    # ids or texts; None: gen_length / 16, and the tokenizer's newline or sentence end
    ada_block_length: int | None = None
    ada_delimiters: tuple[int | str, ...] | None = None
    # How the decodes are spent (`hexviz.policy.strategies`): hex, seeds (one block schedule,
    # ``seeds`` samples) or dvoting (its rounds and entropy threshold)
    strategy: str = "hex"
    rounds: int = DVOTING_ROUNDS
    entropy_threshold: float = DVOTING_ENTROPY_THRESHOLD
    decided_vote: bool = False  # stop the experts still decoding once the vote is settled

    def __post_init__(self) -> None:
        off = self.edit == EDIT_OFF and self.edit is not None
        edit = None if off else self.edit
        sampler = (self.sampler.with_edit(edit) if isinstance(self.sampler, Sampler)
                   else Sampler.parse(self.sampler, edit))
        if off:
            sampler = Sampler(sampler.name, sampler.value)
        object.__setattr__(self, "sampler", sampler)
        object.__setattr__(self, "edit", EDIT_OFF if off else sampler.edit)
        check_cache_mode(self.cache)
        if self.edit_scope is not None:
            check_edit_scope(self.edit_scope)
        if self.task is not None:
            get_task(self.task)  # an unknown task is refused with the known ones listed
        if self.blocks is not None:
            object.__setattr__(self, "blocks", parse_blocks(self.blocks))
        AdaOptions(self.ada_block_length)
        if ((self.ada_block_length is not None or self.ada_delimiters is not None)
                and not any(str(b).startswith("ada") for b in self.blocks or ())):
            raise ValueError("--ada-block-length and --ada-delimiters set AdaBlock's experts; "
                             "add ada or ada:T to --blocks")
        if self.ada_delimiters is not None:
            object.__setattr__(self, "ada_delimiters", tuple(self.ada_delimiters))
            if not self.ada_delimiters:
                raise ValueError("--ada-delimiters needs at least one token (an id or a text)")
        check_rule(self.remasking)
        for name in ("gen_length", "steps"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ValueError(f"{name} must be a positive integer (got {value})")
        strategy = self.strategy_of()  # a bad strategy setting fails first
        if self.temperature is None:
            object.__setattr__(self, "temperature", DVOTING_TEMPERATURE
                               if strategy.rounds_voting else 0.0)
        check_temperature(self.temperature)
        check_seeds(self.seeds, self.temperature, self.remasking)
        check_strategy_settings(self)
        if self.answer_format is not None:
            get_extractor(self.answer_format)
        check_tie_rule(self.tie_rule)
        self.length_config()  # a bad length setting fails before any model loads
        if self.length != "fixed" and self.tie_rule in NEEDS_LIKELIHOOD:
            raise ValueError(f"--tie {self.tie_rule} needs HEX's one-step likelihood, which "
                             f"a growing canvas (--length {self.length}) does not have; use "
                             f"--tie first")

    def strategy_of(self) -> Strategy:
        return Strategy(check_strategy(self.strategy), self.rounds, self.entropy_threshold)

    def length_config(self) -> LengthConfig:
        """The growing canvas as given, the authors' defaults elsewhere (not yet fitted)."""
        if self.length == "fixed" and self.length_options:
            raise ValueError(f"{', '.join('--' + k.replace('_', '-') for k in self.length_options)}"
                             f" set a growing canvas; add --length daedal or --length rho-eos")
        return LengthConfig.from_json({"mode": self.length, **self.length_options})


def check_strategy_settings(settings: Settings) -> None:
    """What each strategy needs of the other settings: seeds one block schedule, dVoting
    blocks of one size and its rounds for samples, a decided vote experts that finish apart."""
    blocks = settings.blocks or ()
    if settings.decided_vote:  # the config's own check, before any model loads
        check_decided_vote_for(settings.sampler, settings.strategy_of(),
                               settings.length != "fixed")
    if settings.strategy == "seeds" and len(blocks) > 1:
        raise ValueError(f"--strategy seeds samples one block schedule (got --blocks "
                         f"{','.join(map(str, blocks))})")
    if settings.strategy == "dvoting":
        if len(blocks) > 1 or (blocks and not isinstance(blocks[0], int)):
            raise ValueError(f"--strategy dvoting decodes blocks of one size (got --blocks "
                             f"{','.join(map(str, blocks))})")
        if settings.seeds != 1:
            raise ValueError("--strategy dvoting samples its rounds (--rounds), one seed each; "
                             "leave --seeds at 1")
        if settings.length != "fixed":
            raise ValueError("--strategy dvoting decodes a fixed-length canvas; leave --length "
                             "at fixed")


def strategy_notes(settings: Settings, experts: list[Expert]) -> list[str]:
    """What a strategy chose for the user: dVoting's and seeds' block where none was given."""
    if settings.strategy == "dvoting" and not settings.blocks:
        return [f"note: dVoting's rounds decode blocks of {experts[0].block_length} (its authors' "
                f"16 of 256 tokens, as the same share of gen_length), at temperature "
                f"{settings.temperature:g}"]
    if settings.strategy == "seeds" and not settings.blocks:
        return [f"note: --strategy seeds samples blocks of {experts[0].block_length} "
                f"(gen_length / {SEEDS_BLOCK_SHARE}); --blocks picks another schedule"]
    return []


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
    # The task whose prompt the questions were put in; its parser reads the answers unless an
    # answer format was asked for (`reader.task` is then None)
    task: Task | None = None
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


def experts_of(settings: Settings, gen_length: int, tokenizer=None) -> list[Expert]:
    """The strategy's experts in vote order (HEX's block sizes; seeds' samples of one
    schedule; dVoting's rounds), then the whole-answer baselines if asked for; AdaBlock's
    delimiters are read off ``tokenizer`` (`ada_options`)."""
    if settings.strategy == "dvoting":
        block = settings.blocks[0] if settings.blocks else max(1, gen_length // DVOTING_BLOCK_SHARE)
        return [Expert(int(block), "entropy", r - 1, settings.temperature, round=r)
                for r in range(1, settings.rounds + 1)]
    blocks = settings.blocks
    if settings.strategy == "seeds" and blocks is None:
        blocks = (max(1, gen_length // SEEDS_BLOCK_SHARE),)
    ada, defaults = ada_options(settings, tokenizer)
    experts = hex_experts(gen_length, blocks, settings.remasking, settings.seeds,
                          settings.temperature, ada, defaults)
    if settings.baselines:
        experts += baseline_experts(gen_length, settings.remasking, settings.temperature)
    return experts


def ada_options(settings: Settings, tokenizer) -> tuple[AdaOptions, tuple[int, ...]]:
    """(AdaBlock's options as given, the tokenizer's default delimiters)."""
    if tokenizer is None:
        return AdaOptions(settings.ada_block_length), ()
    given = (resolve_delimiters(tokenizer, settings.ada_delimiters)
             if settings.ada_delimiters is not None else None)
    return AdaOptions(settings.ada_block_length, given), delimiter_ids(tokenizer)


def edit_scope_of(settings: Settings, edit: float | None, model_scope: str
                  ) -> tuple[str, str | None]:
    """The edit scope a decode uses, and a note when the model's default gives way: the one
    asked for, else the model's, except beside a KV cache (which recomputes only the block)."""
    if settings.edit_scope is not None:
        return settings.edit_scope, None
    if edit is None or model_scope == "block":
        return "block", None
    if settings.cache != "none":
        return "block", (f"note: editing stays inside the block with --cache {settings.cache} "
                         f"(the model's default scope, {model_scope}, needs tokens the cache "
                         f"does not recompute)")
    return model_scope, None


def plan(lm, questions: Sequence[str | Problem], settings: Settings,
         bounds: limits.Limits | None = None) -> Plan:
    """What ``lm`` decodes for ``questions`` under ``settings`` and the operator's ``bounds``
    (default: `limits.current`); refusals (limits, settings that do not fit each other or the
    model) raise ValueError before any decoding."""
    bounds = bounds or limits.current()
    task = get_task(settings.task) if settings.task else None
    problems = [q if isinstance(q, Problem) else Problem(q, None) for q in questions]
    if not problems:
        raise ValueError("nothing to decode: no question was given")
    prompts = [prompt_ids(lm, task, p) for p in problems]
    longest = max(map(len, prompts))
    defaults, notes = lm.defaults, []
    fitted = paper_lengths(task, lm.max_length, longest) if task else None
    if fitted is not None:
        gen_length, steps, note = fitted
        defaults = replace(defaults, gen_length=gen_length, steps=steps)
        if note and settings.gen_length is None:
            notes.append(note)
    gen_length, steps = resolve_lengths(settings.gen_length, settings.steps,
                                        defaults.gen_length, defaults.steps, settings.blocks)
    # The most that fits the operator's limit and this model after this prompt, said before
    # any check of the steps or blocks that follow from gen_length.
    limits.check_gen_length(gen_length, bounds, lm.max_length, longest)
    length, length_notes = fitted_to(settings.length_config(), gen_length,
                                     set(settings.length_options))
    notes += [f"note: {n}" for n in length_notes]
    # The model's editing default is for fixed lengths; one asked for is refused by the config.
    edit = (settings.edit if settings.edit is not None or length.grows
            or settings.strategy == "dvoting" else lm.defaults.edit)
    edit = None if edit == EDIT_OFF else edit
    scope, scope_note = edit_scope_of(settings, edit, lm.defaults.edit_scope)
    notes += [scope_note] if scope_note else []
    config = DecodeConfig(gen_length, steps, settings.forbid_end_of_text,
                          settings.end_tokens_last, bounds.max_gen_length, settings.sampler,
                          edit, settings.cache, length, settings.edit_post_steps,
                          edit_scope=scope, strategy=settings.strategy_of(),
                          decided_vote=settings.decided_vote)
    if settings.strategy == "dvoting" and settings.baselines:
        settings = replace(settings, baselines=False)
        notes.append("note: no whole-answer baselines with --strategy dvoting (its rounds are "
                     "its experts)")
    if length.grows and settings.baselines:
        settings = replace(settings, baselines=False)
        notes.append(f"note: no whole-answer baselines with --length {length.mode} (they "
                     f"decode a fixed length)")
    experts = experts_of(settings, gen_length, lm.tokenizer)
    notes += strategy_notes(settings, experts)
    if settings.decided_vote and sum(e.votes for e in experts) < 2:
        raise ValueError("--decided-vote stops experts once the others settle the vote; it "
                         "needs at least two voting experts")
    limits.check_decode(gen_length, steps, len(experts), bounds, config.expert_step_cap(experts),
                        steps_given=settings.steps is not None)
    for expert in experts:
        config.check(expert)
    refusal = cache_refusal(lm, config.cache)
    if refusal is not None:
        notes.append(f"note: {refusal}")
    # A task parses its answers from the whole generation, unless a format is asked for.
    reader = Reader(settings.answer_format or lm.defaults.answer_format,
                    task if settings.answer_format is None else None, settings.tie_rule)
    return Plan(prompts, [p.question for p in problems], experts,
                exact_if_uncached(lm, config), reader, task, tuple(notes))
