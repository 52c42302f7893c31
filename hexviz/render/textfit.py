"""Text that fits its room, for the charts: titles wrapped to a phone's width, and the browser
script that hides a heatmap cell's text where it is wider than its cell.

Plotly neither wraps a title (a long one is cut at the plot's edge) nor keeps a heatmap's cell
text inside its cell (long tokens in narrow cells smear into each other); its automatic text
size also fails on a one-row heatmap. The app runs `FIT_CELL_TEXT_JS` on every page, and the
downloads' figures page embeds it.
"""

from __future__ import annotations

import re
import textwrap

# A title line may hold TITLE_CHARS characters at TITLE_SIZE px (about 0.55 em each): that fits
# a phone's plot, about 320 px wide. A <sup> line is drawn at 70% of the size.
TITLE_SIZE = 15
TITLE_CHARS = 36
SUBTITLE_CHARS = 52


def wrap_title(title: str, width: int = TITLE_CHARS, sub_width: int = SUBTITLE_CHARS) -> str:
    """``title`` with a line break between words wherever a line would hold more than
    ``width`` characters (``sub_width`` on a line that is all <sup>...</sup>)."""
    lines = []
    for line in title.split("<br>"):
        sup = line.startswith("<sup>") and line.endswith("</sup>")
        text = line.removeprefix("<sup>").removesuffix("</sup>") if sup else line
        parts = textwrap.wrap(text, sub_width if sup else width, break_long_words=False,
                              break_on_hyphens=False) or [text]
        lines += [f"<sup>{part}</sup>" if sup else part for part in parts]
    return "<br>".join(lines)


def plain_title(title: str) -> str:
    """A wrapped title as one line of text, its tags dropped (for reading it back)."""
    return " ".join(re.sub(r"<[^>]+>", " ", title.replace("<br>", " ")).split())


# Hides (visibility, so it can be measured again) each heatmap label wider than the distance to
# its neighbour in the row, and shows it again once it fits (a wider window, a shorter token).
# Run after every redraw: Plotly redraws a scrubber's labels at each animation frame.
FIT_CELL_TEXT_JS = """() => {
  const fit = () => {
    for (const trace of document.querySelectorAll('.js-plotly-plot g.hm')) {
      const labels = [...trace.querySelectorAll('g.heatmap-label text')];
      const rows = new Map();
      for (const t of labels) {
        const y = t.getAttribute('y');
        if (!rows.has(y)) rows.set(y, []);
        rows.get(y).push(parseFloat(t.getAttribute('x')));
      }
      let cell = Infinity;  // the narrowest cell: the least gap between two labels of a row
      for (const xs of rows.values()) {
        xs.sort((a, b) => a - b);
        for (let i = 1; i < xs.length; i++) cell = Math.min(cell, xs[i] - xs[i - 1] || cell);
      }
      for (const t of labels) {
        const width = t.getComputedTextLength();
        if (!width) continue;  // not laid out (a hidden tab): measured once it shows
        const fits = width <= cell - 2;  // the cells' 1 px gap, and a pixel of air
        t.style.visibility = fits ? '' : 'hidden';
        t.dataset.fits = fits ? 'yes' : 'no';
      }
    }
  };
  let pending = false;
  const soon = () => {
    if (!pending) { pending = true; requestAnimationFrame(() => { pending = false; fit(); }); }
  };
  new MutationObserver(soon).observe(document.body, {childList: true, subtree: true});
  addEventListener('resize', soon);
  addEventListener('click', () => setTimeout(soon, 300));  // a tab shown: its plots laid out
  soon();
}"""


def fit_cell_text_script() -> str:
    """`FIT_CELL_TEXT_JS` as a <script> element that runs it once the page has loaded."""
    return f"<script>addEventListener('load', {FIT_CELL_TEXT_JS});</script>"
