"""hexviz web app: ``python app.py`` (built-in model, CPU) or a Hugging Face Space.

Binds 127.0.0.1:7860 unless Gradio's GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say otherwise.
HEXVIZ_MODELS (comma-separated ids or paths, e.g. GSAI-ML/LLaDA-8B-Instruct) adds models to the
picker; HEXVIZ_TRUST_REMOTE_CODE=1 is the operator's opt-in for checkpoints that need their code.
"""

from __future__ import annotations

import json
from pathlib import Path

from hexviz.runner import LocalRunner
from hexviz.ui import build_demo

EXAMPLES = Path(__file__).resolve().parent / "assets" / "examples.json"
QUEUE_SIZE = 16  # waiting requests beyond this are refused, so a crowd can't exhaust memory
# Seconds of GPU a ZeroGPU call may hold. An estimate, not a measurement (no GPU was at hand):
# LLaDA-8B with K=5 experts + 2 baselines, gen_length 256, 256 steps and a 120-token prompt is
# about 10 PFLOP (bench/gpu_bench.py's llada_forward_flops), 20-35 s at 300-500 TFLOP/s of bf16;
# 120 s leaves room for a slower card share. 4 seeds or 512 tokens (~32 PFLOP) may need more.
GPU_DURATION_S = 120


def gpu_runner() -> LocalRunner:
    """A LocalRunner whose decoding runs under ``spaces.GPU`` on a ZeroGPU Space."""
    runner = LocalRunner()
    try:
        import spaces
    except ImportError:
        return runner
    decode = runner.run
    runner.run = spaces.GPU(duration=GPU_DURATION_S)(  # a GPU call can't stream
        lambda request: list(decode(request)))
    return runner


def main() -> None:
    examples = json.loads(EXAMPLES.read_text()) if EXAMPLES.exists() else None
    runner = gpu_runner()
    runner.preload()  # the built-in model loads while the UI is already up
    demo = build_demo(runner, examples)
    demo.queue(default_concurrency_limit=1, max_size=QUEUE_SIZE)
    demo.launch()


if __name__ == "__main__":
    main()
