"""LLaDA's supervised fine-tuning recipe, on the tinygsm task, for the built-in model.

Per example: the prompt is never masked; the answer is followed by end-of-turn and padded with
end-of-text to ``gen_length`` tokens, and that padding is part of the loss (this is what makes
LLaDA sure of its tail, and what causes AfterEoT collapse). A noise level t ~ U(eps, 1) is drawn
per example, each answer token is masked with probability t, and the cross-entropy on masked
tokens is weighted by 1/t (LLaDA, Eq. 5). With ``prompt_mask_share`` a share of the examples
has its prompt masked too (LLaDA's pre-training masks whole sequences).

Every batch and its masks are a pure function of (seed, step), made on the CPU whatever device
trains, so a run resumed from a checkpoint sees what the uninterrupted run would have seen (on
the CPU it ends with the same weights, tested).
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from tqdm import tqdm
from transformers import (
    AutoTokenizer,
    ModernBertConfig,
    ModernBertForMaskedLM,
    PreTrainedTokenizerBase,
)

from hexviz.models import HEXVIZ_META
from hexviz.models.tokens import chat_prompt_ids
from hexviz.train import task
from hexviz.train.tokenizer import END_OF_TEXT, END_OF_TURN, build_tokenizer

PRECISIONS = {"float32": torch.float32, "bfloat16": torch.bfloat16}
TOKENS_PER_STEP = 2  # the decoding default written to the card, as in the HEX paper (256 / 128)
EDIT_THRESHOLD = 0.9  # the editing default written for a model with an editing stage
# ... and the tokens it edits: the whole answer before the block's end, so a block's last
# tokens are read again (experiments.md, "Model v7")
EDIT_SCOPE = "answer"


@dataclass(frozen=True)
class TrainConfig:
    out_dir: str = "assets/tinygsm-dllm"
    seed: int = 0
    gen_length: int = 128  # answer region: answer + end-of-turn + end-of-text padding; longer
    # than almost every answer, so the tail is always padding (the condition for AfterEoT collapse)
    hidden_size: int = 192
    num_layers: int = 4
    num_heads: int = 6
    intermediate_size: int = 512
    max_positions: int = 256
    tie_embeddings: bool = True  # input and output embeddings share one matrix
    embedding_init_std: float = 0.2  # std of the random token embeddings; 0 keeps ModernBERT's
    # 0.02. Larger, tokens that play one role (the task's objects) keep apart while Adam moves
    # them all the same way, so the model can learn to copy them (assets/tinygsm-dllm/experiments.md)
    freeze_input_embeddings: bool = False  # keep the input embeddings at their random start
    # (untied only): tokens that nothing else depends on, like the task's objects, then stay
    # as distinct as they began instead of drifting together
    batch_size: int = 64
    steps: int = 5000
    lr: float = 2e-3
    warmup_steps: int = 150
    min_lr_ratio: float = 0.05  # cosine decays to lr * min_lr_ratio
    weight_decay: float = 0.01
    eps: float = 1e-3  # smallest mask probability, as in LLaDA
    checkpoint_every: int = 200
    threads: int = 0  # torch threads; 0 keeps torch's default
    precision: str = "float32"  # of the forward and backward matmuls; with "bfloat16"
    # (autocast) the weights and the optimizer stay float32
    device: str = "cpu"  # "cpu", or "cuda" for one GPU
    workers: int = 0  # processes making batches ahead (0: the training process itself); a GPU
    # outruns one process's batch-making, the CPU does not
    prompt_mask_share: float = 0.0  # of examples: the prompt is masked too, at the answer's
    # rate, as in LLaDA's pre-training (a masked name or object must then be copied from the
    # rest of the question)
    bare_answer_share: float = 0.4  # of training answers: a bare "#### N";
    # the end-of-text wall is as sure of an early end as this share (the test set keeps the task's)
    suffix_mask_share: float = 0.3  # of examples: the answer masked from a random cut to its
    # end, the context a block expert decodes in (revealed left, masked right)
    curriculum_step: int = 4000  # steps before it train on the task's own mix (its bare share, no
    # suffix masks, no edits), so copying is learnt first; the shares apply from it on
    edit_steps: int = 600  # steps of the editing stage that follows ``steps``: a fresh
    # optimizer, its own warm-up and cosine from ``edit_lr``, the late shares above plus
    # ``edit_share`` (model v7; 300 steps weakened the wall, experiments.md)
    edit_share: float = 0.1  # in the editing stage, of the answer tokens left visible: each
    # replaced by another token (half a neighbour's, the slip of two tokens committed in one
    # step; half any word), and the loss put on every visible answer token, so the model learns
    # to re-predict committed tokens (LLaDA 2.1's token-to-token training; decoding's --edit T)
    edit_end_tokens: bool = True  # end tokens are replaced and replacements too; without,
    # edits are drawn among words only and the end-of-text tail is never replaced
    edit_lr: float = 2e-4  # at 5e-4 the stage cost v6's blocks their endings (experiments.md)
    edit_warmup_steps: int = 20
    init_from: str = ""  # a model directory to start from instead of random weights (a
    # fine-tuning probe); its own config sets the architecture

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, "
                             f"not {self.precision!r}")
        if self.workers < 0:
            raise ValueError(f"workers must be 0 or more, not {self.workers}")
        if self.freeze_input_embeddings and self.tie_embeddings:
            raise ValueError("freeze_input_embeddings needs untied embeddings "
                             "(--no-tie-embeddings): tied, the output would freeze too")
        for name in ("steps", "edit_steps", "edit_warmup_steps"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be 0 or more, not {getattr(self, name)}")
        if self.steps + self.edit_steps == 0:
            raise ValueError("nothing to train: steps and edit_steps are both 0")
        if self.curriculum_step < 0:
            raise ValueError(f"curriculum_step must be 0 or more, not {self.curriculum_step}")
        if self.embedding_init_std < 0:
            raise ValueError(f"embedding_init_std must be 0 or more, not {self.embedding_init_std}")
        for name in ("prompt_mask_share", "bare_answer_share", "suffix_mask_share", "edit_share"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in 0..1, not {getattr(self, name)}")


def training_device(name: str) -> torch.device:
    """The device ``name`` asks for, refused with a clear message when this machine lacks it."""
    try:
        device = torch.device(name)
    except RuntimeError:
        raise ValueError(f"unknown device {name!r}; use cpu or cuda") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError("device cuda asked for, but torch sees no CUDA GPU here")
    if device.type not in ("cpu", "cuda"):
        raise ValueError(f"training runs on cpu or cuda, not {name!r}")
    return device


def model_config(cfg: TrainConfig, vocab_size: int,
                 tokenizer: PreTrainedTokenizerBase) -> ModernBertConfig:
    """A small ModernBERT: pre-norm and rotary positions, which learn to copy names and numbers
    from the prompt quickly (the model card says how a BERT compared). Every layer attends
    globally."""
    pad, eos = tokenizer.pad_token_id, tokenizer.eos_token_id
    return ModernBertConfig(
        vocab_size=vocab_size, hidden_size=cfg.hidden_size, num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads, intermediate_size=cfg.intermediate_size,
        max_position_embeddings=cfg.max_positions, global_attn_every_n_layers=1,
        local_attention=2 * cfg.max_positions, embedding_dropout=0.0, mlp_dropout=0.0,
        attention_dropout=0.0, tie_word_embeddings=cfg.tie_embeddings, pad_token_id=pad,
        mask_token_id=tokenizer.mask_token_id, cls_token_id=pad, sep_token_id=pad,
        bos_token_id=pad, eos_token_id=eos,
    )


def tokenizer_corpus(size: int = 20000) -> list[str]:
    """Texts whose words make the vocabulary; the templates are closed, so a sample covers all."""
    rng = random.Random(f"{task.TASK_NAME}-vocab")
    problems = [task.sample_problem(rng) for _ in range(size)]
    return [p.question + " " + p.answer for p in problems]


def spread_embeddings(model: ModernBertForMaskedLM, std: float, pad_id: int) -> None:
    """Redraw the token embeddings (tied: the output ones too) with standard deviation ``std``;
    the padding row stays zero, as ModernBERT leaves it."""
    weight = model.get_input_embeddings().weight
    with torch.no_grad():
        weight.normal_(0.0, std)
        weight[pad_id].zero_()


def initial_model(cfg: TrainConfig, tokenizer: PreTrainedTokenizerBase) -> ModernBertForMaskedLM:
    """Random weights of ``cfg``'s shape, or the weights of ``cfg.init_from`` (which must share
    the task's vocabulary: the ids are the training data's)."""
    if not cfg.init_from:
        model = ModernBertForMaskedLM(model_config(cfg, len(tokenizer), tokenizer))
        if cfg.embedding_init_std:
            spread_embeddings(model, cfg.embedding_init_std, tokenizer.pad_token_id)
        return model
    source = Path(cfg.init_from)
    if not (source / "config.json").exists():
        raise ValueError(f"--init-from {source}: no model there (config.json missing)")
    try:
        vocab = AutoTokenizer.from_pretrained(source).get_vocab()
    except (OSError, ValueError):
        raise ValueError(f"--init-from {source}: no tokenizer there") from None
    if vocab != tokenizer.get_vocab():
        raise ValueError(f"--init-from {source}: its vocabulary is not the tinygsm task's")
    return ModernBertForMaskedLM.from_pretrained(source)


def prompt_ids(tokenizer: PreTrainedTokenizerBase, question: str) -> list[int]:
    return chat_prompt_ids(tokenizer, question)


def answer_region(tokenizer: PreTrainedTokenizerBase, answer: str, gen_length: int) -> list[int] | None:
    """Answer ids + end-of-turn, padded with end-of-text to ``gen_length``; None if too long."""
    ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
    ids.append(tokenizer.convert_tokens_to_ids(END_OF_TURN))
    if len(ids) > gen_length:
        return None
    return ids + [tokenizer.convert_tokens_to_ids(END_OF_TEXT)] * (gen_length - len(ids))


@dataclass(frozen=True)
class Recipe:
    """What one training step draws: its bare-answer share, suffix-mask share and edit share."""

    bare_answer_share: float
    suffix_mask_share: float
    edit_share: float


def in_editing_stage(step: int, cfg: TrainConfig) -> bool:
    return step >= cfg.steps


def draw_step(step: int, cfg: TrainConfig) -> int:
    """The step whose batch and masks training step ``step`` draws: the editing stage counts
    its own from 0, so after a main run it draws what it draws run alone on that run's model
    (`--init-from MAIN --steps 0 --edit-steps N`)."""
    return step - cfg.steps if in_editing_stage(step, cfg) else step


def recipe_at(step: int, cfg: TrainConfig) -> Recipe:
    """The recipe of training step ``step``: the task's own mix before ``cfg.curriculum_step``,
    the configured shares from it on, and edits too in the editing stage."""
    if in_editing_stage(step, cfg):
        return Recipe(cfg.bare_answer_share, cfg.suffix_mask_share, cfg.edit_share)
    if step < cfg.curriculum_step:
        return Recipe(task.BARE_ANSWER_PROB, 0.0, 0.0)
    return Recipe(cfg.bare_answer_share, cfg.suffix_mask_share, 0.0)


def make_batch(tokenizer: PreTrainedTokenizerBase, cfg: TrainConfig, step: int) -> dict[str, torch.Tensor]:
    """Batch ``step``: right-padded [prompt | answer region] rows and the answer-region mask."""
    rng = random.Random(f"{task.TASK_NAME}-train-{cfg.seed}-{draw_step(step, cfg)}")
    bare_share = recipe_at(step, cfg).bare_answer_share
    rows: list[tuple[list[int], list[int]]] = []
    while len(rows) < cfg.batch_size:
        problem = task.sample_problem(rng, bare_share)
        if task.split_of(problem.question) != "train":
            continue
        answer = answer_region(tokenizer, problem.answer, cfg.gen_length)
        if answer is not None:
            rows.append((prompt_ids(tokenizer, problem.question), answer))
    width = max(len(p) for p, _ in rows) + cfg.gen_length
    input_ids = torch.full((len(rows), width), tokenizer.pad_token_id, dtype=torch.long)
    attention = torch.zeros_like(input_ids)
    is_answer = torch.zeros_like(input_ids, dtype=torch.bool)
    for i, (prompt, answer) in enumerate(rows):
        n = len(prompt) + len(answer)
        input_ids[i, :n] = torch.tensor(prompt + answer)
        attention[i, :n] = 1
        is_answer[i, len(prompt):n] = True
    return {"input_ids": input_ids, "attention_mask": attention, "is_answer": is_answer}


class StepBatches(torch.utils.data.Dataset):
    """Item i: the batch of step ``start + i`` (what `make_batch` gives), for a DataLoader whose
    workers make batches ahead while the device trains; the loader keeps the order."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase, cfg: TrainConfig, start: int) -> None:
        self.tokenizer, self.cfg, self.start = tokenizer, cfg, start

    def __len__(self) -> int:
        return max(0, total_steps(self.cfg) - self.start)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return make_batch(self.tokenizer, self.cfg, self.start + i)


def step_batches(tokenizer: PreTrainedTokenizerBase, cfg: TrainConfig, start: int):
    """The batches of steps ``start`` to the last (`total_steps`) in order, made by ``cfg.workers``
    processes (in this one when 0)."""
    batches = StepBatches(tokenizer, cfg, start)
    if not cfg.workers:
        return (batches[i] for i in range(len(batches)))
    return torch.utils.data.DataLoader(batches, batch_size=None, num_workers=cfg.workers,
                                       prefetch_factor=4, persistent_workers=False)


def maskable(batch: dict[str, torch.Tensor], prompt_mask_share: float,
             generator: torch.Generator) -> torch.Tensor:
    """(B, L) positions that may be masked: the answer region, and in a ``prompt_mask_share``
    of the rows the prompt too. With a share of 0 nothing is drawn, so the masks that follow
    are the plain SFT recipe's."""
    is_answer = batch["is_answer"]
    if not prompt_mask_share:
        return is_answer
    whole = torch.rand(is_answer.shape[0], 1, generator=generator) < prompt_mask_share
    return is_answer | (whole & batch["attention_mask"].bool())


def suffix_masks(is_answer: torch.Tensor, share: float,
                 generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(rows (B, 1), masks (B, L)): a ``share`` of the rows, and per row the answer region
    masked from a uniformly drawn cut to its end (at least its last token)."""
    rows = torch.rand(is_answer.shape[0], 1, generator=generator) < share
    offset = is_answer.long().cumsum(1) - 1  # position within the answer region
    length = is_answer.sum(1, keepdim=True)
    cut = (torch.rand(is_answer.shape[0], 1, generator=generator) * length).floor().long()
    return rows, is_answer & (offset >= cut)


def replacements(x0: torch.Tensor, visible: torch.Tensor, share: float, words: torch.Tensor,
                 generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """(replaced (B, L) bool, tokens (B, L)): each ``visible`` position replaced with
    probability ``share``, half of them by the token 1 or 2 positions away (the plausible slip:
    "toys toys", a number one step early) where that is one of ``words``, the rest by any of
    ``words``. A replacement that equals the original is not counted as one."""
    chosen = visible & (torch.rand(x0.shape, generator=generator) < share)
    offsets = torch.randint(1, 3, x0.shape, generator=generator)
    offsets = offsets * (1 - 2 * torch.randint(0, 2, x0.shape, generator=generator))
    source = (torch.arange(x0.shape[1]) + offsets).clamp(0, x0.shape[1] - 1)
    neighbour = x0.gather(1, source)
    anything = words[torch.randint(0, len(words), x0.shape, generator=generator)]
    plausible = (torch.rand(x0.shape, generator=generator) < 0.5) & torch.isin(neighbour, words)
    tokens = torch.where(plausible, neighbour, anything)  # never a marker or padding nearby
    replaced = chosen & (tokens != x0)
    return replaced, torch.where(replaced, tokens, x0)


def sft_loss(model: torch.nn.Module, batch: dict[str, torch.Tensor], mask_id: int, eps: float,
             generator: torch.Generator, prompt_mask_share: float = 0.0,
             suffix_mask_share: float = 0.0, edit_share: float = 0.0,
             words: torch.Tensor | None = None) -> torch.Tensor:
    """LLaDA SFT loss: mask answer tokens with probability t, weight the masked CE by 1/t,
    average over the maskable tokens. In a ``suffix_mask_share`` of the rows the answer is
    masked from a random cut on instead, each token weighted 1. With ``edit_share`` (token
    editing), visible answer tokens are replaced in that share by others (`replacements`, from
    ``words``) and every visible answer token carries the loss too, weight 1: re-predict the
    token that belongs there, whether it was replaced or not. The masks are drawn on the CPU
    (``generator``'s device), then moved to the model's; with zero shares nothing more is
    drawn, so the masks are the plain recipe's."""
    x0 = batch["input_ids"]
    t = torch.rand(x0.shape[0], 1, generator=generator)
    p_mask = (1 - eps) * t + eps  # (B, 1)
    noise = torch.rand(x0.shape, generator=generator)
    eligible = maskable(batch, prompt_mask_share, generator)
    masked = (noise < p_mask) & eligible  # (B, L)
    if suffix_mask_share:
        rows, suffix = suffix_masks(batch["is_answer"], suffix_mask_share, generator)
        masked = torch.where(rows, suffix, masked)
        p_mask = torch.where(rows, torch.ones_like(p_mask), p_mask)  # each masked token once
    shown = x0
    checked = torch.zeros_like(masked)  # visible tokens with a loss: none without editing
    if edit_share:
        if words is None:
            raise ValueError("edit_share needs the words replacements are drawn from")
        checked = batch["is_answer"] & ~masked
        shown = replacements(x0, checked & torch.isin(x0, words), edit_share, words, generator)[1]
    device = next(model.parameters()).device
    x0, shown, eligible, p_mask, masked, checked, attention = (
        v.to(device) for v in (x0, shown, eligible, p_mask, masked, checked,
                               batch["attention_mask"]))
    noisy = torch.where(masked, torch.full_like(x0, mask_id), shown)
    logits = model(input_ids=noisy, attention_mask=attention).logits  # (B, L, V)
    scored = masked | checked
    ce = F.cross_entropy(logits[scored], x0[scored], reduction="none")
    weights = torch.where(masked, 1.0 / p_mask.expand_as(x0), torch.ones_like(p_mask))[scored]
    return (ce * weights).sum() / eligible.sum()


def edit_words(tokenizer: PreTrainedTokenizerBase, end_tokens: bool = True) -> torch.Tensor:
    """Ids a replaced token may be and become: every word of the vocabulary, and with
    ``end_tokens`` the two end tokens (a slip can be an end token too soon); never the mask,
    padding or chat markers."""
    ends = {tokenizer.convert_tokens_to_ids(END_OF_TURN),
            tokenizer.convert_tokens_to_ids(END_OF_TEXT)}
    special = set(tokenizer.all_special_ids) - (ends if end_tokens else set())
    return torch.tensor([i for i in range(len(tokenizer)) if i not in special])


def warmup_cosine(step: int, steps: int, peak: float, warmup: int, min_ratio: float) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to ``peak * min_ratio``."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, steps - warmup)
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return peak * (min_ratio + (1 - min_ratio) * cosine)


def lr_at(step: int, cfg: TrainConfig) -> float:
    """The main stage's schedule, then the editing stage's own."""
    if in_editing_stage(step, cfg):
        return warmup_cosine(step - cfg.steps, cfg.edit_steps, cfg.edit_lr,
                             cfg.edit_warmup_steps, cfg.min_lr_ratio)
    return warmup_cosine(step, cfg.steps, cfg.lr, cfg.warmup_steps, cfg.min_lr_ratio)


def total_steps(cfg: TrainConfig) -> int:
    return cfg.steps + cfg.edit_steps


def new_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.Optimizer:
    return torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                             betas=(0.9, 0.98))


def save_checkpoint(model, optimizer, tokenizer, cfg: TrainConfig, step: int, elapsed: float,
                    path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(path)  # safetensors
    tokenizer.save_pretrained(path)
    # Optimizer state holds only tensors and numbers; it is reloaded with weights_only=True.
    torch.save(optimizer.state_dict(), path / "optimizer.pt")
    state = {"step": step, "elapsed_s": elapsed, "train_config": asdict(cfg)}
    (path / "trainer_state.json").write_text(json.dumps(state, indent=2))


def write_meta(cfg: TrainConfig, path: Path, step: int, elapsed: float, params: int) -> None:
    meta = {
        "task": task.TASK_NAME, "answer": "gsm8k", "gen_length": cfg.gen_length,
        "steps": cfg.gen_length // TOKENS_PER_STEP,
        "training": {**asdict(cfg), "steps_run": step, "minutes": round(elapsed / 60, 1),
                     "parameters": params},
    }
    if cfg.edit_steps:  # trained to edit: decoding edits by default (--edit off turns it off)
        meta["edit"], meta["edit_scope"] = EDIT_THRESHOLD, EDIT_SCOPE
    parent = Path(cfg.init_from) / HEXVIZ_META if cfg.init_from else None
    if parent is not None and parent.is_file():  # the run this one continued, for the card
        meta["training"]["started_from"] = json.loads(parent.read_text()).get("training")
    (path / HEXVIZ_META).write_text(json.dumps(meta, indent=2) + "\n")


def train(cfg: TrainConfig, resume: bool = True) -> Path:
    """Train (or resume) and write the final checkpoint to ``cfg.out_dir``; returns that path."""
    device = training_device(cfg.device)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    out = Path(cfg.out_dir)
    ckpt = out / "checkpoint"
    torch.manual_seed(cfg.seed)
    tokenizer = build_tokenizer(tokenizer_corpus())
    model = initial_model(cfg, tokenizer).to(device)
    optimizer = new_optimizer(model, cfg)
    start, elapsed = 0, 0.0
    if resume and (ckpt / "trainer_state.json").exists():
        state = json.loads((ckpt / "trainer_state.json").read_text())
        model = ModernBertForMaskedLM.from_pretrained(ckpt).to(device)
        optimizer = new_optimizer(model, cfg)
        optimizer.load_state_dict(torch.load(ckpt / "optimizer.pt", map_location=device,
                                             weights_only=True))
        start, elapsed = state["step"], state["elapsed_s"]
    model.get_input_embeddings().weight.requires_grad_(not cfg.freeze_input_embeddings)
    model.train()
    autocast = torch.autocast(device.type, dtype=PRECISIONS[cfg.precision],
                              enabled=cfg.precision != "float32")
    params = sum(p.numel() for p in model.parameters())
    words = edit_words(tokenizer, cfg.edit_end_tokens)
    last = total_steps(cfg)
    bar = tqdm(step_batches(tokenizer, cfg, start), initial=start, total=last, desc="train",
               unit="step")
    tic, running = time.perf_counter(), None
    for step, batch in enumerate(bar, start):
        if step == cfg.steps:  # the editing stage starts with moments of its own
            optimizer = new_optimizer(model, cfg)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, cfg)
        generator = torch.Generator().manual_seed(cfg.seed * 1_000_003 + draw_step(step, cfg))
        recipe = recipe_at(step, cfg)
        with autocast:
            loss = sft_loss(model, batch, tokenizer.mask_token_id, cfg.eps, generator,
                            cfg.prompt_mask_share, recipe.suffix_mask_share, recipe.edit_share,
                            words)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        running = loss.item() if running is None else 0.98 * running + 0.02 * loss.item()
        bar.set_postfix(loss=f"{running:.3f}", lr=f"{lr_at(step, cfg):.1e}")
        done = step + 1
        if done % cfg.checkpoint_every == 0 or done == last:
            now = time.perf_counter()
            elapsed, tic = elapsed + now - tic, now
            save_checkpoint(model, optimizer, tokenizer, cfg, done, elapsed, ckpt)
    model.eval()
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    write_meta(cfg, out, last, elapsed, params)
    return out
