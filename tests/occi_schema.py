"""The GFD.225 JSON schema that the OCCI JSON renderings are checked against, with its published
errata read as its authors meant them."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

SCHEMA_PATH = Path(__file__).resolve().parent / "data" / "occi-1.2-json-schema.json"


def _read_as_meant(node: Any) -> Any:
    """The published schema writes several references as "#definitions/x" (no slash after
    '#'): a plain-name fragment that names nothing, not the JSON pointer "#/definitions/x" the
    authors meant. Resolve them as the pointer."""
    if isinstance(node, dict):
        resolved = {key: _read_as_meant(value) for key, value in node.items()}
        reference = resolved.get("$ref")
        if isinstance(reference, str) and reference.startswith("#definitions/"):
            resolved["$ref"] = "#/" + reference[1:]
        return resolved
    if isinstance(node, list):
        return [_read_as_meant(item) for item in node]
    return node


SCHEMA = _read_as_meant(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


@cache
def validator(definition: str | None = None) -> Draft4Validator:
    """A validator of the whole schema, or of one of its definitions (resource, link, model,
    resource_collection, action_invocation, kind, mixin, ...). For a definition the schema's
    top-level anyOf is dropped: it is no check, one of its branches ("attributes") accepting any
    object."""
    schema = copy.deepcopy(SCHEMA)
    if definition is not None:
        schema.pop("anyOf")
        schema["$ref"] = f"#/definitions/{definition}"
    return Draft4Validator(schema)
