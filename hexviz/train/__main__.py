"""``python -m hexviz.train``: build the tinygsm test set and train the built-in model."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from hexviz.train import task
from hexviz.train.loop import TrainConfig, train, training_device

TEST_SET_SIZE = 1000


def parse_args(argv: list[str] | None = None) -> tuple[TrainConfig, argparse.Namespace]:
    parser = argparse.ArgumentParser(prog="python -m hexviz.train", description=__doc__)
    for field in dataclasses.fields(TrainConfig):
        flag, default = f"--{field.name.replace('_', '-')}", field.default
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default)
        else:
            parser.add_argument(flag, type=type(default), default=default,
                                help=f"(default: {default})")
    parser.add_argument("--test-set", type=Path, default=task.TEST_SET,
                        help="where to write the held-out test set in GSM8K format")
    parser.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint")
    args = parser.parse_args(argv)
    names = {f.name for f in dataclasses.fields(TrainConfig)}
    try:
        cfg = TrainConfig(**{k: v for k, v in vars(args).items() if k in names})
        training_device(cfg.device)
    except ValueError as error:
        parser.error(str(error))
    return cfg, args


def main(argv: list[str] | None = None) -> None:
    cfg, args = parse_args(argv)
    task.write_jsonl(task.unique_problems("test", TEST_SET_SIZE), args.test_set)
    try:
        out = train(cfg, resume=not args.fresh)
    except ValueError as error:  # a bad --init-from
        raise SystemExit(f"python -m hexviz.train: error: {error}") from None
    print(f"model written to {out}; test set at {args.test_set}")


if __name__ == "__main__":
    main()
