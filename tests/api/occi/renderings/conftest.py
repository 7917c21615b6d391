"""Shared fixtures: sample entities to render, and the GFD.225 schema to validate JSON with."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from occistack.model.occi.crtp import CRTP_TEMPLATES
from occistack.model.occi.infrastructure import (
    COMPUTE, IPNETWORKINTERFACE, NETWORK, NETWORKINTERFACE, START, STOP, STORAGE, STORAGELINK)
from occistack.model.occi.templates import os_tpl_mixin
from occistack.api.occi.renderings import LinkOut, ResourceOut

SCHEMA_PATH = Path(__file__).resolve().parents[3] / "data" / "occi-1.2-json-schema.json"
INFRA = "http://schemas.ogf.org/occi/infrastructure#"


def _fix_errata(schema: Any) -> Any:
    """The published schema writes some references as "#definitions/x" (no slash), which is
    a plain-name fragment, not a JSON pointer; read them as "#/definitions/x"."""
    if isinstance(schema, dict):
        fixed = {key: _fix_errata(value) for key, value in schema.items()}
        reference = fixed.get("$ref")
        if isinstance(reference, str) and reference.startswith("#definitions/"):
            fixed["$ref"] = "#/" + reference[1:]
        return fixed
    if isinstance(schema, list):
        return [_fix_errata(item) for item in schema]
    return schema


_SCHEMA = _fix_errata(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def validate(document: Any, definition: str | None = None) -> None:
    """Validate ``document`` against the whole schema, or against one of its definitions
    (the top-level anyOf has no resource, link or action invocation)."""
    schema = copy.deepcopy(_SCHEMA)
    if definition is not None:
        schema.pop("anyOf")
        schema["$ref"] = f"#/definitions/{definition}"
    Draft4Validator(schema).validate(document)


UBUNTU = os_tpl_mixin("http://occistack.local/occi/infrastructure/os_tpl#", "ubuntu-22.04",
                      "Ubuntu 22.04 LTS", {"eu.egi.fedcloud.appliance.appdb.id": "1017"})
MEDIUM = CRTP_TEMPLATES[1]


@pytest.fixture
def network_interface() -> LinkOut:
    return LinkOut(
        location="/networkinterface/456", kind=NETWORKINTERFACE, mixins=(IPNETWORKINTERFACE,),
        attributes={"occi.core.id": "456", "occi.networkinterface.interface": "eth0",
                    "occi.networkinterface.mac": "00:11:22:33:44:55",
                    "occi.networkinterface.address": "10.0.0.5",
                    "occi.networkinterface.state": "active"},
        source="/compute/123", source_kind=COMPUTE.identifier,
        target="/network/1", target_kind=NETWORK.identifier,
    )


@pytest.fixture
def storage_link() -> LinkOut:
    return LinkOut(
        location="/storagelink/789", kind=STORAGELINK, mixins=(),
        attributes={"occi.core.id": "789", "occi.storagelink.deviceid": "/dev/vdb",
                    "occi.storagelink.state": "active"},
        source="/compute/123", source_kind=COMPUTE.identifier,
        target="/storage/9", target_kind=STORAGE.identifier,
    )


@pytest.fixture
def compute(network_interface: LinkOut, storage_link: LinkOut) -> ResourceOut:
    return ResourceOut(
        location="/compute/123", kind=COMPUTE, mixins=(UBUNTU, MEDIUM),
        attributes={"occi.compute.cores": 2, "occi.core.title": 'My "first" VM, café',
                    "occi.compute.memory": 2.0, "occi.core.id": "123",
                    "occi.compute.state": "active", "occi.compute.hostname": "vm1",
                    "occi.core.summary": "line one\nline two\ttabbed"},
        links=(network_interface, storage_link), actions=(START, STOP),
    )
