"""Stored runs: trajectory JSON files in ``assets/gallery/``, replayed without a model.

The lesson's chapter runs live here (written by ``python -m hexviz.showcase build``), and so does
any other hexviz run JSON someone drops into the folder, e.g. a GPU run of LLaDA-8B. Reading is
bounded (`MAX_BYTES`) and a bad file becomes a message, never a crash. No torch here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hexviz.paths import GALLERY
from hexviz.runs import record
from hexviz.runs.record import Run, TrajectoryFormatError

GALLERY_DIR = GALLERY
MAX_BYTES = 8 * 1024 * 1024  # a stored run larger than this is refused, not read
MAX_FILES = 200  # the listing stops here, so a crowded folder can't slow the app down


@dataclass(frozen=True)
class Entry:
    """One stored run as the gallery lists it."""

    path: Path
    prompt: str
    model: str
    settings: str  # one line: experts, rule, lengths, temperature
    error: str | None = None  # why the file can't be replayed; None when it can

    @property
    def label(self) -> str:
        if self.error:
            return f"{self.path.name} — cannot replay: {self.error}"
        return f"{self.path.name} — {self.prompt[:70]}"


def read_run(path: str | Path, max_bytes: int = MAX_BYTES) -> Run:
    """The run in ``path``; TrajectoryFormatError for a file too large or not a hexviz run."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as err:
        raise TrajectoryFormatError(f"cannot read {path.name}: {err.strerror}") from None
    if size > max_bytes:
        raise TrajectoryFormatError(f"{path.name} is {size / 1e6:.1f} MB; stored runs may be at "
                                    f"most {max_bytes / 1e6:.1f} MB")
    return record.load(path)


def settings_line(run: Run) -> str:
    """The run's decoding settings in one line, for the listing."""
    voters = [run.trajectories[i].expert for i in run.voters]
    blocks = blocks_of(voters)
    experts = run.trajectories[0].expert
    rule = voters[0].remasking if voters else experts.remasking
    seeds = len({e.seed for e in voters}) or 1
    parts = [f"blocks {','.join(map(str, blocks)) or '-'}", rule,
             f"gen_length {run.config.gen_length}", f"{run.config.steps} steps"]
    if experts.temperature > 0:
        parts.append(f"T={experts.temperature:g}, {seeds} seed{'s' * (seeds > 1)}")
    return " · ".join(parts)


def blocks_of(experts) -> list[int | str]:
    """The experts' blocks as ``--blocks`` lists them: sizes ascending, then schedules and
    AdaBlock (``8+8+16+32+64``, ``ada:0.3``) in order, each once."""
    specs = dict.fromkeys(e.blocks_spec for e in experts)
    return [*sorted(int(s) for s in specs if s.isdigit()), *(s for s in specs if not s.isdigit())]


def model_name(run: Run) -> str:
    return Path(run.model).name or run.model


def entry(path: Path, max_bytes: int = MAX_BYTES) -> Entry:
    try:
        run = read_run(path, max_bytes)
    except TrajectoryFormatError as err:
        return Entry(path, "", "", "", str(err))
    return Entry(path, run.prompt, model_name(run), settings_line(run))


def list_entries(folder: str | Path = GALLERY_DIR, max_bytes: int = MAX_BYTES) -> list[Entry]:
    """Every ``*.json`` in ``folder``, by name; unreadable files are listed with their error."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return [entry(p, max_bytes) for p in sorted(folder.glob("*.json"))[:MAX_FILES]]


def explore_settings(run: Run) -> dict[str, Any]:
    """The settings that decode ``run`` again, by the names of a decode's settings: the
    question, blocks, rule, lengths, temperature, seeds, the end-of-sequence controls, the
    sampler as its NAME[:VALUE] text, the editing threshold and the cache."""
    voters = [run.trajectories[i].expert for i in run.voters]
    first = (voters or [run.trajectories[0].expert])[0]
    return {
        "prompt": run.prompt,
        "blocks": blocks_of(voters),
        "remasking": first.remasking,
        "gen_length": run.config.gen_length,
        "steps": run.config.steps,
        "temperature": first.temperature,
        "seeds": len({e.seed for e in voters}) or 1,
        "forbid_end_of_text": run.config.forbid_end_of_text,
        "end_tokens_last": run.config.end_tokens_last,
        "baselines": any(not t.expert.votes for t in run.trajectories),
        "sampler": run.config.sampler.spec,
        "edit": run.config.edit,
        "edit_scope": run.config.edit_scope,
        "cache": run.config.cache,
    }
