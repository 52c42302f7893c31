"""Operator limits: how much work one request may ask for, checked before any work is done.

`operator` reads one frozen `Limits` from ``HEXVIZ_*`` variables; the checks are split by what
they bound: `requests` (the prompt, seeds, a decode's size, the model's context, a live eval),
`files` (uploaded runs and results), `drawing` (the steps a chart draws) and `machine`
(threads, memory, the downloads folder). The Run button, the API, uploads, the Scaling tab, the
CLI and eval all call them through this package's names. Imports nothing else of hexviz; no
torch or numpy at import.
"""

from hexviz.limits.drawing import sample_steps
from hexviz.limits.files import (check_eval_file, check_file_size, check_run_shape, int_array,
                                 prob_array, refuse_constant, top_token_id)
from hexviz.limits.machine import (available_cpus, export_folder, export_root, prune_exports,
                                   release_memory, release_memory_soon, set_torch_threads,
                                   torch_threads)
from hexviz.limits.operator import (MAX_TOKEN_ID, LimitError, Limits, ShapeError, current,
                                    from_env)
from hexviz.limits.requests import (as_float, as_int, check_context, check_decode,
                                    check_eval_problems, check_gen_length, check_prompt,
                                    check_prompt_tokens, check_seeds, gen_length_choices,
                                    growing_step_cap, most_gen_length)

__all__ = ["MAX_TOKEN_ID", "as_float", "as_int", "available_cpus", "check_context", "check_decode",
           "check_eval_file", "check_eval_problems", "check_file_size", "check_gen_length",
           "check_prompt", "check_prompt_tokens", "check_run_shape", "check_seeds", "current",
           "export_folder", "export_root", "from_env", "gen_length_choices", "growing_step_cap", "int_array",
           "LimitError", "Limits", "most_gen_length", "prob_array", "prune_exports",
           "refuse_constant", "release_memory", "release_memory_soon", "sample_steps",
           "set_torch_threads", "ShapeError",
           "top_token_id", "torch_threads"]
