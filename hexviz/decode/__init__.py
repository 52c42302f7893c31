"""Decoding: the planner, the batched decode loop, the block cache, and reading its output.

`plan` turns what a front door asks for into what the engine runs; `engine` runs every expert of
every prompt in one batch and records what each step did (tokens, reveals, drafts, edits);
`assemble` reads that into `Run`s (texts, answers by the task, walls, likelihoods, the vote).
May import torch, `hexviz.models`, `hexviz.policy`, `hexviz.runs`, `hexviz.tasks` and
`hexviz.limits`; never the app, plotly or gradio. `plan` and `assemble` load without torch.
"""
