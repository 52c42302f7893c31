"""Runs: the record of a decode (`record`), its JSON schema check, order metrics and the vote.

Plain data and numpy: no torch, no app. May import `hexviz.policy.settings` and
`hexviz.policy.rules` (the expert settings a run stores), `hexviz.models.tokens` and
`hexviz.limits`.
"""
