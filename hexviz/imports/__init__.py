"""Runs made elsewhere, read into hexviz's records: a diffusers dLLM pipeline recorded as it
decodes (`diffusers`), and the HEX authors' generation files (`hex`)."""
