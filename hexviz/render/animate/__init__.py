"""Animations of a run's unmasking for slides and READMEs: an animated GIF and one
self-contained HTML file that plays, pauses and scrubs offline.

Pure (no torch, no gradio). A `Run` becomes `Panel`s (`panels`: one expert's canvas each), the
panels become `Frame`s on one shared clock within the operator's limits (`frames`), and the
frames become bytes (`gif`, `page`); `files` picks the format from a file name and writes it.
Layouts: ``one`` expert large, ``all`` experts side by side with the vote filling in at the
end, ``compare`` one expert of each of two runs.
"""

from hexviz.render.animate.files import FORMATS, export, output_format, write
from hexviz.render.animate.frames import (END_HOLD_MS, START_HOLD_MS, VOTE_MS, Animation, Frame,
                                          build, build_from_panels, frame_budget)
from hexviz.render.animate.gif import Geometry, gif, gif_geometry, render_gif
from hexviz.render.animate.page import html_data, html_page, iframe, page_of, render_html
from hexviz.render.animate.panels import (DEFAULT_WIDTH, LAYOUTS, MAX_FPS, MAX_WIDTH, MIN_WIDTH,
                                          AnimationSettings, Canvas, Edit, Panel, canvas,
                                          middle_voter, panel, panels_for, parse_experts, select)

__all__ = ["DEFAULT_WIDTH", "END_HOLD_MS", "FORMATS", "LAYOUTS", "MAX_FPS", "MAX_WIDTH",
           "MIN_WIDTH", "START_HOLD_MS", "VOTE_MS", "Animation", "AnimationSettings", "Canvas",
           "Edit", "Frame", "Geometry", "Panel", "build", "build_from_panels", "canvas", "export",
           "frame_budget", "gif", "gif_geometry", "html_data", "html_page", "iframe",
           "middle_voter", "output_format", "page_of", "panel", "panels_for", "parse_experts",
           "render_gif", "render_html", "select", "write"]
