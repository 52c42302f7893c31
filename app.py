"""hexviz web app: ``python app.py`` (built-in model, CPU) or a Hugging Face Space.

Binds 127.0.0.1:7860 unless Gradio's GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say otherwise.
HEXVIZ_MODELS (comma-separated ids or paths, e.g. GSAI-ML/LLaDA-8B-Instruct) adds models to the
picker; HEXVIZ_TRUST_REMOTE_CODE=1 is the operator's opt-in for checkpoints that need their code.
The HEXVIZ_MAX_* limits and HEXVIZ_THREADS are read by `hexviz.limits` (README, Operating).
"""

from __future__ import annotations

import json
from pathlib import Path

from hexviz import limits
from hexviz.runner import LocalRunner
from hexviz.ui import build_demo

EXAMPLES = Path(__file__).resolve().parent / "assets" / "examples.json"
QUEUE_SIZE = 16  # waiting requests beyond this are refused, so a crowd can't exhaust memory


def gpu_runner() -> LocalRunner:
    """A LocalRunner whose decoding runs under ``spaces.GPU`` on a ZeroGPU Space."""
    runner = LocalRunner()
    try:
        import spaces
    except ImportError:
        return runner
    decode = runner.run
    runner.run = spaces.GPU(lambda request: list(decode(request)))  # a GPU call can't stream
    return runner


def main() -> None:
    examples = json.loads(EXAMPLES.read_text()) if EXAMPLES.exists() else None
    limits.set_torch_threads()  # HEXVIZ_THREADS; default half the CPUs (shared cores stall teams)
    demo = build_demo(gpu_runner(), examples)
    demo.queue(default_concurrency_limit=1, max_size=QUEUE_SIZE)
    demo.launch(max_file_size=limits.current().max_upload_bytes)  # Gradio refuses bigger uploads


if __name__ == "__main__":
    main()
