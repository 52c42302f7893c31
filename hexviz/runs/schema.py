"""The schema name and version every hexviz JSON file carries, checked in one place."""

from __future__ import annotations

from typing import Any


def check_schema(d: Any, schema: str, version: int | tuple[int, ...], what: str,
                 error: type[ValueError] = ValueError) -> dict[str, Any]:
    """``d`` if it is an object of ``schema`` at ``version`` (or one of several); otherwise
    ``error`` saying which."""
    if not isinstance(d, dict) or d.get("schema") != schema:
        raise error(f"not a {what}: expected an object with \"schema\": \"{schema}\"")
    versions = version if isinstance(version, tuple) else (version,)
    if d.get("schema_version") not in versions:
        shown = " or ".join(map(str, versions))
        raise error(f"{what} schema version {d.get('schema_version')!r} is not supported "
                    f"(this hexviz reads version {shown})")
    return d


def missing_field(err: Exception) -> str:
    """A KeyError/TypeError/ValueError from reading a damaged object, in words."""
    return f"missing field {err}" if isinstance(err, KeyError) else str(err)
