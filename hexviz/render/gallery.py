"""The Gallery's listing of stored runs as a markdown table: file, question, model, settings,
and for a file that cannot be replayed, why."""

from __future__ import annotations

from collections.abc import Sequence

from hexviz.render.lesson import BUILD_COMMAND
from hexviz.runs import gallery


def gallery_markdown(entries: Sequence[gallery.Entry]) -> str:
    """One row per stored run (`hexviz.runs.gallery.list_entries`); with none, how to make some."""
    if not entries:
        return (f"No stored runs in `{gallery.GALLERY_DIR.name}/` yet: `{BUILD_COMMAND}` writes "
                "the lesson's, and any hexviz run JSON dropped there is listed.")
    rows = ["| file | question | model | settings |", "|---|---|---|---|"]
    for e in entries:
        if e.error:
            rows.append(f"| {e.path.name} | ⚠ cannot replay: {e.error} | | |")
        else:
            prompt = e.prompt[:90].replace("|", "\\|")
            rows.append(f"| {e.path.name} | {prompt} | {e.model} | {e.settings} |")
    return "\n".join(rows)
