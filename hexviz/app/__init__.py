"""The Gradio app: `ui` puts the tabs side by side (`tabs/`, one module each with its layout and
events), `views` is the registry of charts, `widgets` what several tabs share and `api` the
``/run`` endpoint; `runner`, `loading` and `zerogpu` serve the decodes. May import every other
layer but `hexviz.train`; nothing below imports it.
"""
