"""Tasks: how a question is put to the model and how its final answer is read.

Pure Python (no torch, numpy or app); imported by the decode loop, the eval and the app.
"""
