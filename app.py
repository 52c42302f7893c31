"""hexviz web app: ``python app.py`` (built-in model, CPU) or a Hugging Face Space.

Binds 127.0.0.1:7860 unless Gradio's GRADIO_SERVER_NAME / GRADIO_SERVER_PORT say otherwise.
HEXVIZ_MODELS (comma-separated ids or paths, e.g. GSAI-ML/LLaDA-8B-Instruct) adds models to the
picker; HEXVIZ_TRUST_REMOTE_CODE=1 is the operator's opt-in for checkpoints that need their code.
The HEXVIZ_MAX_* limits and HEXVIZ_THREADS are read by `hexviz.limits` (docs/app.md, Operator
limits).
"""

from __future__ import annotations

import json

from hexviz import limits
from hexviz.app.runner import LocalRunner
from hexviz.app.serving import QUEUE_SIZE
from hexviz.app.ui import build_demo, examples_shown
from hexviz.app.widgets import log_to_stderr
from hexviz.paths import EXAMPLES


def main() -> None:
    log_to_stderr()  # a refused input as one line, a failure with its traceback
    examples = examples_shown(json.loads(EXAMPLES.read_text()) if EXAMPLES.exists() else None)
    limits.set_torch_threads()  # HEXVIZ_THREADS; default half the CPUs (shared cores stall teams)
    runner = LocalRunner()
    runner.preload()  # the built-in model loads while the UI is already up
    demo = build_demo(runner, examples)
    demo.queue(default_concurrency_limit=1, max_size=QUEUE_SIZE)
    demo.launch(max_file_size=limits.current().max_upload_bytes)  # Gradio refuses bigger uploads


if __name__ == "__main__":
    main()
