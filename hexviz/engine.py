"""Old import path of the decode loop, kept for scripts: see `hexviz.decode.engine`."""

from hexviz.decode.engine import Resume, decode, decode_many, iter_decode, top_candidates

__all__ = ["Resume", "decode", "decode_many", "iter_decode", "top_candidates"]
