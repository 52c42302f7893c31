"""The Gallery tab: the stored runs in the gallery folder, each replayed in Explore (every view,
no model) or downloaded as an animation. A hexviz run JSON dropped into the folder joins the
list on Refresh."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import gradio as gr

from hexviz.app.tabs.explore import OpenInExplore
from hexviz.app.widgets import (AnimationControls, animation_controls, load_stored,
                                wire_animation)
from hexviz.render.gallery import gallery_markdown
from hexviz.runs import gallery

TAB_ID = "gallery"


# --- layout ------------------------------------------------------------------------------------

@dataclass
class GalleryTab:
    """The Gallery tab's components: the listing, the run picked, and what to do with it."""

    listing: gr.Markdown
    pick: gr.Dropdown
    refresh: gr.Button
    open: gr.Button
    animation: AnimationControls | None = None


def build(folder: Path) -> GalleryTab:
    """The stored runs of ``folder``: a picker, replay and refresh, animations, the listing."""
    entries = gallery.list_entries(folder)
    gr.Markdown("Stored runs replay in every Explore view without a model. A hexviz run JSON "
                "from elsewhere (the CLI's `--json`, Explore's download, a GPU run of "
                f"LLaDA-8B) joins the list when dropped into `{folder.name}/` (Refresh).")
    pick = gr.Dropdown([(e.label, str(e.path)) for e in entries], label="Stored run",
                       value=str(entries[0].path) if entries else None, elem_id="gallery-pick")
    with gr.Row():
        open_button = gr.Button("Replay in Explore", variant="primary", elem_id="gallery-open")
        refresh = gr.Button("Refresh list")
    animation = animation_controls("gallery")
    listing = gr.Markdown(gallery_markdown(entries), elem_id="gallery-list")
    return GalleryTab(listing, pick, refresh, open_button, animation)


# --- events ------------------------------------------------------------------------------------

def wire(tab: GalleryTab, folder: Path, open_in_explore: OpenInExplore) -> None:
    """Replay opens the picked run in Explore; Refresh lists the folder again."""
    def on_open(name) -> dict:
        return open_in_explore(load_stored(folder, name))

    def on_refresh() -> tuple:
        entries = gallery.list_entries(folder)
        return (gallery_markdown(entries),
                gr.update(choices=[(e.label, str(e.path)) for e in entries]))

    tab.open.click(on_open, [tab.pick], open_in_explore.outputs, api_visibility="private")
    tab.refresh.click(on_refresh, None, [tab.listing, tab.pick], api_visibility="private")
    if tab.animation is not None:
        wire_animation(tab.animation, [tab.pick], lambda name: load_stored(folder, name))
