"""Shared fixtures: sample entities to render, and the GFD.225 schema to validate JSON with."""

from __future__ import annotations

from typing import Any

import pytest

from occistack.model.occi.crtp import CRTP_TEMPLATES
from occistack.model.occi.infrastructure import (
    COMPUTE, IPNETWORKINTERFACE, NETWORK, NETWORKINTERFACE, START, STOP, STORAGE, STORAGELINK)
from occistack.model.occi.templates import os_tpl_mixin
from occistack.api.occi.renderings import LinkOut, ResourceOut
from tests.occi_schema import validator

INFRA = "http://schemas.ogf.org/occi/infrastructure#"


def validate(document: Any, definition: str | None = None) -> None:
    """Validate ``document`` against the whole schema, or against one of its definitions
    (tests/occi_schema.py)."""
    validator(definition).validate(document)


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
