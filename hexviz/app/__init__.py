"""The Gradio app: layout, event wiring, teaching views, plots, lesson, gallery and the runner
that serves requests. May import every other layer but `hexviz.train`; nothing below imports it.
"""
