"""hexviz: explore how masked diffusion LMs decode, and HEX (hidden semi-autoregressive experts)."""

__version__ = "0.1.0"
