"""Old import path of the decoding settings, kept for scripts: see `hexviz.decode.settings`."""

from hexviz.decode.settings import (BASELINE_RULES, DEFAULT_MAX_GEN_LENGTH, HEX_BLOCK_FRACTIONS,
                                    DecodeConfig, Expert, baseline_experts, divisors,
                                    hex_block_lengths, hex_experts, parse_blocks, resolve_lengths,
                                    scaled_steps)

__all__ = ["BASELINE_RULES", "DEFAULT_MAX_GEN_LENGTH", "HEX_BLOCK_FRACTIONS", "DecodeConfig",
           "Expert", "baseline_experts", "divisors", "hex_block_lengths", "hex_experts",
           "parse_blocks", "resolve_lengths", "scaled_steps"]
