"""Decoding policy: what each step decides, as plain validated data and small pure functions.

`settings` (an `Expert` per decoding strategy, the run's `DecodeConfig`), `rules` (which masked
positions first), `samplers` (how many per step, and token editing) and `schedule` (LLaDA's
block-by-block reveal counts). No torch at import (rules and samplers call tensor methods only),
so records, the planner and the app name experts without it. May import `hexviz.limits`.
"""
