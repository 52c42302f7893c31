"""Old import path of the run record, kept for scripts: see `hexviz.runs.record`."""

from hexviz.runs.record import (Run, Timing, Trajectory, TrajectoryFormatError, dumps, load, loads,
                                run_from_json, run_to_json, save)

__all__ = ["Run", "Timing", "Trajectory", "TrajectoryFormatError", "dumps", "load", "loads",
           "run_from_json", "run_to_json", "save"]
