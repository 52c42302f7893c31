"""Decoding: settings, the reveal schedule, remasking rules and the batched decode loop.

May import torch, `hexviz.models`, `hexviz.runs` (the record it fills), `hexviz.tasks` (answer
extraction) and `hexviz.limits`; never the app, plotly or gradio. `settings` and `rules` load
without torch, so records and the app can name experts without it.
"""
