"""Rendering: pure functions from stored runs and eval records to what a person sees (Plotly
figures, animations as GIF and HTML, the lesson's chapters, the answers panel's HTML).

This floor imports neither gradio nor torch, so the app, the CLI and a replay on a machine with
no model can all use it. It may import `hexviz.runs`, `hexviz.policy`, `hexviz.tasks`,
`hexviz.limits`, `hexviz.paths` and `hexviz.eval`'s records and scoring, and numpy, plotly and
Pillow; nothing of `hexviz.app`, `hexviz.decode` or `hexviz.models`.
"""
