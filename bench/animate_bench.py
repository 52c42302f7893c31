"""Animation size and time: a stored 128-token, 64-step run with 8 experts as a GIF and as
HTML in each layout, and a synthetic 256-token, 256-step run (sampled in time by the limits).

    python bench/animate_bench.py [--run assets/gallery/lesson-1-one-expert.json] [--repeats 3]

Targets (issue 25): the 8-expert run -> GIF <= 5 MB and HTML <= 2 MB, each in <= 5 s on 2
cores. Prints the first call's time and the best of ``--repeats`` (the machine is shared).
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

import numpy as np

from hexviz.paths import GALLERY
from hexviz.render import animate
from hexviz.runs import record


def timed(fn, repeats: int) -> tuple[float, float, object]:
    """(first call, best of ``repeats``, result): the first includes loading the font."""
    times, out = [], None
    for _ in range(repeats):
        tic = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - tic)
    return times[0], min(times), out


def stretched(run, gen_length: int, steps: int):
    """The run's experts tiled to ``gen_length`` positions and ``steps`` steps (same tokens,
    reveal steps scaled): a stand-in for a long LLaDA run, to exercise time sampling."""
    reps = gen_length // run.config.gen_length
    trajectories = []
    for t in run.trajectories:
        reveal = np.tile(t.reveal_step, reps) * (steps // run.config.steps)
        trajectories.append(replace(t, token_ids=np.tile(t.token_ids, reps),
                                    tokens=t.tokens * reps, reveal_step=reveal.astype(np.int32),
                                    text=(t.text + " ") * reps))
    config = replace(run.config, gen_length=gen_length, steps=steps)
    return replace(run, config=config, trajectories=trajectories, steps_done=steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", default=str(GALLERY / "lesson-1-one-expert.json"))
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    run = record.load(args.run)
    cases = [("stored", run, layout) for layout in ("all", "one", "compare")]
    cases.append(("256 tokens x 256 steps", stretched(run, 256, 256), "all"))
    print(f"run: {args.run}: {len(run.trajectories)} experts, gen_length "
          f"{run.config.gen_length}, {run.steps_done} steps")
    print(f"{'run':<24}{'layout':<9}{'frames':>7}{'GIF px':>11}{'GIF MB':>8}"
          f"{'GIF s first/best':>18}{'HTML MB':>9}{'HTML s':>8}")
    for name, r, layout in cases:
        settings = animate.AnimationSettings(layout=layout)
        gif_first, gif_s, gif = timed(lambda r=r, settings=settings: animate.gif(r, settings), args.repeats)
        _, html_s, page = timed(lambda r=r, settings=settings: animate.html_page(r, settings), args.repeats)
        geo = animate.gif_geometry(r, settings)
        frames = len(animate.build(r, settings, frame_pixels=geo.width * geo.height).frames)
        print(f"{name:<24}{layout:<9}{frames:>7}{f'{geo.width}x{geo.height}':>11}"
              f"{len(gif) / 2**20:>8.2f}{f'{gif_first:.2f} / {gif_s:.2f}':>18}"
              f"{len(page.encode()) / 2**20:>9.3f}"
              f"{html_s:>8.2f}")


if __name__ == "__main__":
    main()
