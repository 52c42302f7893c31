"""Animation files: the output format from a file name, a file written for the CLI, and the
app's downloads in its pruned export folder."""

from __future__ import annotations

from pathlib import Path

from hexviz import limits
from hexviz.render.animate.gif import gif
from hexviz.render.animate.page import html_page
from hexviz.render.animate.panels import AnimationSettings
from hexviz.runs.record import Run

FORMATS = (".gif", ".html")


def output_format(path: str | Path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(f"the output must end in .gif or .html (got {Path(path).name!r})")
    return suffix


def export(run: Run, suffix: str, settings: AnimationSettings | None = None,
           folder: Path | None = None) -> Path:
    """The animation in the app's export folder, named by the run and settings (a second
    request reuses the file); the folder is pruned like every other download."""
    import hashlib

    from hexviz.runs import record

    settings = settings or AnimationSettings()
    output_format(f"x{suffix}")
    folder = folder or limits.export_folder()
    key = record.dumps(run) + repr(settings)
    path = folder / f"hexviz-animation-{hashlib.sha1(key.encode()).hexdigest()[:12]}{suffix}"
    if not path.exists():  # written whole, then renamed: a reader never sees half a file
        data = gif(run, settings) if suffix == ".gif" else html_page(run, settings).encode()
        part = path.with_name(path.name + ".part")
        part.write_bytes(data)
        part.replace(path)
    limits.prune_exports(folder, keep={path})
    return path


def write(run: Run, out: str | Path, settings: AnimationSettings, other: Run | None = None,
          lim: limits.Limits | None = None) -> Path:
    """Write the animation to ``out``; its suffix (.gif or .html) picks the format."""
    out = Path(out)
    if output_format(out) == ".gif":
        out.write_bytes(gif(run, settings, other, lim))
    else:
        out.write_text(html_page(run, settings, other, lim), encoding="utf-8")
    return out
