"""Benchmark (not a test): LLaDA-8B-Instruct's shapes on a GPU, in the HEX paper's setting.

    python bench/gpu_bench.py [--prompt-length 120] [--cases 1,5,7,batch8] [--peak-tflops T]
                              [--caches none,prefix,dual] [--lengths fixed,daedal,rho-eos]

Builds hexviz's native LLaDA module with LLaDA-8B-Instruct's configuration and random weights
(nothing is downloaded) in bf16 on CUDA, and decodes a GSM8K-length prompt (random ids) with
gen_length 256 and 128 steps for:

- ``1``: one expert (B=32);
- ``5``: the HEX set {8, 16, 32, 64, 128};
- ``7``: the HEX set plus the two whole-answer baselines (the app's default request);
- ``batch8``: 8 problems x (HEX set + 3 baselines), the eval's case on a GPU;

each exact and with the prefix and dual block KV cache (rows ``7+dual`` ...), and with
``--lengths`` also with a growing canvas (rows ``5@daedal`` ...: the authors' settings, starting
at 64 masks, at most gen_length; exact, as growing canvases decode). With random weights the
model is never sure, so a growing canvas commits one token per step and grows to its maximum:
its per-step cost is the real model's, its step count is not.

For each it prints seconds per run and per step, peak GPU memory, the model TFLOP/s achieved
(FLOPs from the rows the engine actually computed, `llada_forward_flops`) and its share of the
card's dense bf16 peak. Random weights decode nonsense, but the work per step is that of the real
model: the same shapes, and rows shared only while their canvases are equal.

Without CUDA it says so and exits 0 after a tiny-shape CPU smoke run of the same code path.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, replace

import torch

from hexviz.decode.assemble import decode_many
from hexviz.models.llada import LLaDAConfig, LLaDAModelLM
from hexviz.models.wrapper import DiffusionLM, ModelDefaults
from hexviz.policy.length import LengthConfig
from hexviz.policy.settings import DecodeConfig, baseline_experts, hex_experts
from hexviz.runs.record import SpecialTokens

# Dense bf16 tensor-core peaks from NVIDIA's datasheets (SXM parts where there are two).
PEAK_BF16_TFLOPS = {"H200": 989.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0, "A10G": 70.0,
                    "L4": 121.0}


@dataclass(frozen=True)
class Setting:
    gen_length: int
    steps: int
    hex_blocks: list[int]
    single_block: int
    prompt_length: int
    problems: int  # in the eval batch


PAPER = Setting(gen_length=256, steps=128, hex_blocks=[8, 16, 32, 64, 128], single_block=32,
                prompt_length=120, problems=8)
TINY = Setting(gen_length=64, steps=32, hex_blocks=[2, 4, 8, 16, 32], single_block=8,
               prompt_length=24, problems=2)
TINY_CONFIG = dict(d_model=64, n_heads=4, n_kv_heads=2, n_layers=2, mlp_hidden_size=96,
                   vocab_size=512, embedding_size=512, mask_token_id=500, eos_token_id=501,
                   pad_token_id=501)


class IdTokenizer:
    """Stands in for LLaDA's tokenizer: the engine only decodes ids to text for display."""

    pad_token_id = None
    chat_template = None

    def decode(self, ids, skip_special_tokens: bool = False) -> str:
        return " ".join(map(str, ids))


def llada_forward_flops(config: LLaDAConfig, rows: int, length: int, keep: int) -> int:
    """Matrix-multiply FLOPs of one forward pass (2 per multiply-add): the linear layers and
    attention's two products at every position, the output layer at the ``keep`` last ones."""
    d, f = config.d_model, config.mlp_hidden_size
    kv = config.n_kv_heads * (d // config.n_heads)
    linear = 2 * (2 * d * d + 2 * d * kv + 3 * d * f)  # q, out; k, v; gate, up, down
    attention = 2 * 2 * length * d  # QK^T and AV, per query position
    return rows * (config.n_layers * length * (linear + attention) + 2 * keep * d
                   * config.embedding_size)


def build_lm(config: LLaDAConfig, device: torch.device, dtype: torch.dtype) -> DiffusionLM:
    """Random weights, created directly on ``device`` in ``dtype`` (8B parameters: no float32
    copy on the host)."""
    default = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        with torch.device(device):
            model = LLaDAModelLM(config).eval()
    finally:
        torch.set_default_dtype(default)
    special = SpecialTokens(config.mask_token_id, config.eos_token_id, None)
    return DiffusionLM(model, IdTokenizer(), "random LLaDA", special,
                       defaults=ModelDefaults(answer_format="last_number"))


def llada_window_flops(config: LLaDAConfig, tokens: int, length: int, logits: int) -> int:
    """FLOPs of a cached forward (`forward_window`): the linear layers at the ``tokens``
    computed positions, their attention over all ``length`` keys, the output layer at
    ``logits`` positions. Like `llada_forward_flops` it counts every layer at every computed
    position; the last layer's output is computed only where logits are read, so for whole
    rows (a block's first step) it is an upper bound."""
    d, f = config.d_model, config.mlp_hidden_size
    kv = config.n_kv_heads * (d // config.n_heads)
    linear = 2 * (2 * d * d + 2 * d * kv + 3 * d * f)
    attention = 2 * 2 * length * d
    return config.n_layers * tokens * (linear + attention) + 2 * logits * d * config.embedding_size


class ForwardLog:
    """Rows, positions and FLOPs of every forward pass, by wrapping ``lm.logits`` and the
    cached ``lm.forward_window``."""

    def __init__(self, lm: DiffusionLM) -> None:
        self.flops = 0
        self.passes = 0
        forward, window_forward, config = lm.logits, lm.forward_window, lm.model.config

        def logged_window(input_ids, attention_mask, window, cache, keep):
            out = window_forward(input_ids, attention_mask, window, cache, keep)
            self.flops += llada_window_flops(config, int(window.width.sum()),
                                             input_ids.shape[1], len(out.rows))
            self.passes += 1
            return out

        def logged(input_ids, attention_mask=None, keep=None):
            self.flops += llada_forward_flops(config, input_ids.shape[0], input_ids.shape[1],
                                              keep or input_ids.shape[1])
            self.passes += 1
            return forward(input_ids, attention_mask, keep)

        lm.logits = logged  # instance attributes shadow the methods
        lm.forward_window = logged_window


def cases(setting: Setting) -> dict[str, tuple[int, list]]:
    """Case name -> (problems, experts)."""
    g = setting.gen_length
    hex_set = hex_experts(g, setting.hex_blocks)
    baselines = baseline_experts(g)  # low_confidence, margin, random: the eval's rows
    confident = [e for e in baselines if e.remasking != "random"]  # the paper's two baselines
    return {"1": (1, hex_experts(g, [setting.single_block])),
            "5": (1, hex_set),
            "7": (1, hex_set + confident),
            f"batch{setting.problems}": (setting.problems, hex_set + baselines)}


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def run_case(lm: DiffusionLM, log: ForwardLog, prompts: list[list[int]], experts,
             config: DecodeConfig) -> dict[str, float]:
    device = lm.device
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    log.flops = log.passes = 0
    synchronize(device)
    tic = time.perf_counter()
    runs = decode_many(lm, prompts, experts, config)
    synchronize(device)
    seconds = time.perf_counter() - tic
    peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else float("nan")
    return {"seconds": seconds, "flops": log.flops, "peak": peak, "steps": runs[0].steps_done}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompt-length", type=int, default=None,
                        help="prompt tokens (default 120, a GSM8K question in LLaDA's template)")
    parser.add_argument("--cases", default=None, help="comma-separated: 1,5,7,batch8 (default all)")
    parser.add_argument("--caches", default="none,prefix,dual",
                        help="cache modes per case (comma-separated; default all three)")
    parser.add_argument("--lengths", default="fixed",
                        help="canvas modes per case (comma-separated: fixed,daedal,rho-eos; "
                             "growing ones decode exactly)")
    parser.add_argument("--peak-tflops", type=float, default=None,
                        help="the card's dense bf16 peak, when its name is not in the table")
    args = parser.parse_args(argv)
    if torch.cuda.is_available():
        device, dtype, setting, config = torch.device("cuda"), torch.bfloat16, PAPER, LLaDAConfig()
        name = torch.cuda.get_device_name(device)
        peak = args.peak_tflops or next(
            (v for k, v in PEAK_BF16_TFLOPS.items() if k in name.upper()), None)
        print(f"{name}, bf16, LLaDA-8B-Instruct shapes, random weights")
    else:
        device, dtype, setting = torch.device("cpu"), torch.float32, TINY
        config, name, peak = LLaDAConfig(**TINY_CONFIG), "cpu", None
        print("CUDA is not available: tiny-shape CPU smoke run of the same code (no GPU figures)")
    if args.prompt_length:
        setting = Setting(**{**setting.__dict__, "prompt_length": args.prompt_length})
    lm = build_lm(config, device, dtype)
    log = ForwardLog(lm)
    params = sum(p.numel() for p in lm.model.parameters())
    print(f"{params / 1e9:.2f}B parameters, {params * lm.model.dtype.itemsize / 2**30:.1f} GiB "
          f"of weights; gen_length {setting.gen_length}, steps {setting.steps}, "
          f"prompt {setting.prompt_length} tokens")
    decode_config = DecodeConfig(setting.gen_length, setting.steps)
    generator = torch.Generator().manual_seed(0)
    below_special = min(config.mask_token_id, config.eos_token_id)  # ordinary tokens only
    prompts = torch.randint(0, below_special, (setting.problems, setting.prompt_length),
                            generator=generator).tolist()
    chosen = cases(setting)
    if args.cases:
        chosen = {k: chosen[k] for k in args.cases.split(",")}
    warm_up = DecodeConfig(setting.gen_length, setting.gen_length // setting.single_block)
    decode_many(lm, prompts[:1], hex_experts(setting.gen_length, [setting.gen_length]), warm_up)
    runs = [(f"{label}" if cache == "none" else f"{label}+{cache}", problems, experts,
             replace(decode_config, cache=cache))
            for label, (problems, experts) in chosen.items() for cache in args.caches.split(",")
            if "fixed" in args.lengths.split(",")]
    initial = min(64, setting.gen_length // 4)
    runs += [(f"{label}@{mode}", problems, [e for e in experts if e.remasking == "low_confidence"],
              replace(decode_config, length=LengthConfig(mode, initial_length=initial)))
             for label, (problems, experts) in chosen.items()
             for mode in args.lengths.split(",") if mode != "fixed"]
    for label, problems, experts, case_config in runs:
        r = run_case(lm, log, prompts[:problems], experts, case_config)
        tflops = r["flops"] / r["seconds"] / 1e12
        share = f", {tflops / peak:.0%} of the {peak:.0f} TFLOP/s bf16 peak" if peak else ""
        achieved = f"{tflops:.2f} TFLOP/s" if device.type == "cuda" else f"{tflops * 1e3:.2f} GFLOP/s"
        memory = f", peak memory {r['peak'] / 2**30:.1f} GiB" if device.type == "cuda" else ""
        rows = problems * len(experts)
        print(f"  {label:>13}: {rows:>3} rows, {r['seconds']:7.2f} s per run, {r['steps']:>4} "
              f"steps, {r['seconds'] / r['steps'] * 1e3:7.1f} ms per step{memory}, "
              f"{achieved}{share}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
