"""Mixins generated from site data: OS templates, resource templates (CRTP and service
offerings), availability zones and (per project) affinity groups.

The functions here turn plain values into mixins; where the values come from (the database, a
profile document) is the caller's business.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from occistack.model.occi.categories import AttributeDef, Kind, Mixin
from occistack.model.occi.infrastructure import COMPUTE, INFRA_SCHEME, NETWORK, OS_TPL, RESOURCE_TPL, STORAGE

#: The parent of every availability-zone mixin (rOCCI-server 2's mapping of zones).
AVAILABILITY_ZONE = Mixin(
    INFRA_SCHEME, "availability_zone", "Availability zone",
    applies=(COMPUTE, STORAGE, NETWORK),
    location="/availability_zone/",
)

#: The parent of every affinity-group mixin: a compute carrying one of them is placed by the
#: group's host rule (CloudStack's "host affinity" and "host anti-affinity" groups).
AFFINITY_GROUP = Mixin(
    INFRA_SCHEME, "affinity_group", "Affinity group",
    applies=(COMPUTE,),
    location="/affinity_group/",
)


@dataclass(frozen=True, slots=True)
class SiteSchemes:
    """The schemes under which this site publishes its own mixins."""

    base: str = "http://occistack.local/occi/"

    @property
    def os_tpl(self) -> str:
        return self.base + "infrastructure/os_tpl#"

    @property
    def resource_tpl(self) -> str:
        return self.base + "infrastructure/resource_tpl#"

    @property
    def availability_zone(self) -> str:
        return self.base + "infrastructure/availability_zone#"

    @property
    def affinity_group(self) -> str:
        return self.base + "infrastructure/affinity_group#"

    @property
    def network(self) -> str:
        return self.base + "infrastructure/network#"

    @property
    def default_network(self) -> str:
        """The identifier of the mixin that marks a project's default network in its zone."""
        return self.network + DEFAULT_NETWORK_TERM

    def user_mixins(self, user_name: str) -> str:
        """The scheme recommended to ``user_name`` for the mixins (tags) they define."""
        return f"{self.base}users/{user_name}/mixins#"


#: The term of the default-network mixin (see default_network_mixin).
DEFAULT_NETWORK_TERM = "default"


def default_network_mixin(schemes: SiteSchemes) -> Mixin:
    """Applied to a network, makes it the caller's project's default network in the network's
    zone: where the project's computes created without a network link go. One per project and
    zone: applying it to another network of the zone moves it there."""
    return Mixin(schemes.network, DEFAULT_NETWORK_TERM,
                 "The project's default network in its zone (for computes created without a network link)",
                 applies=(NETWORK,), location="/default_network/")


def os_tpl_mixin(scheme: str, term: str, title: str | None,
                 extra_attributes: Mapping[str, Any] | None = None) -> Mixin:
    """An OS template: a mixin that depends on os_tpl; extra attributes render as immutable
    defaults (for instance the ``eu.egi.fedcloud.appliance.appdb.*`` ones)."""
    attributes = tuple(
        AttributeDef(name, type=_type_of(value), mutable=False, default=value)
        for name, value in (extra_attributes or {}).items()
    )
    return Mixin(scheme, term, title, attributes=attributes, depends=(OS_TPL,), applies=(COMPUTE,),
                 location=f"/os_tpl/{term}/")


#: What a compute of a bare-metal resource template boots its node from (a site attribute:
#: OCCI has none for it).
BOOT_DEVICE_ATTRIBUTE = "occistack.compute.boot_device"


def resource_tpl_mixin(scheme: str, term: str, title: str | None, *, cores: int, memory_gib: float,
                       disk_gib: float | None = None, speed_ghz: float | None = None,
                       architecture: str | None = None, boot_devices: tuple[str, ...] = (),
                       default_boot_device: str | None = None) -> Mixin:
    """A resource template: the sizes it fixes are immutable attributes with defaults, so a
    compute that carries it takes those sizes and a client cannot set others beside it.

    With ``boot_devices`` it is a bare-metal template: a compute carrying it is a whole node,
    and the client may choose what the node boots from among them (``default_boot_device``
    when it does not say)."""
    attributes = [
        AttributeDef("occi.compute.cores", type="integer", mutable=False, default=cores, minimum=1,
                     description="Number of virtual CPU cores"),
        AttributeDef("occi.compute.memory", type="number", mutable=False, default=float(memory_gib),
                     description="Maximum RAM in gigabytes"),
    ]
    if speed_ghz is not None:
        attributes.append(AttributeDef("occi.compute.speed", type="number", mutable=False,
                                       default=float(speed_ghz), description="CPU clock frequency in gigahertz"))
    if architecture is not None:
        attributes.append(AttributeDef("occi.compute.architecture", mutable=False, default=architecture,
                                       enum=("x86", "x64"), description="CPU architecture"))
    if disk_gib is not None:
        attributes.append(AttributeDef("occi.compute.ephemeral_storage.size", type="number", mutable=False,
                                       default=float(disk_gib), description="Ephemeral disk size in gigabytes"))
    if boot_devices:
        attributes.append(AttributeDef(BOOT_DEVICE_ATTRIBUTE, enum=tuple(boot_devices), default=default_boot_device,
                                       description="What the bare-metal node boots from"))
    return Mixin(scheme, term, title, attributes=tuple(attributes), depends=(RESOURCE_TPL,),
                 applies=(COMPUTE,), location=f"/resource_tpl/{term}/")


def availability_zone_mixin(scheme: str, name: str, title: str | None) -> Mixin:
    applies: tuple[Kind, ...] = (COMPUTE, STORAGE, NETWORK)
    return Mixin(scheme, name, title or f"Availability zone {name}", depends=(AVAILABILITY_ZONE,),
                 applies=applies, location=f"/availability_zone/{name}/")


def affinity_group_mixin(scheme: str, name: str, kind: str) -> Mixin:
    """One project's affinity group; ``kind`` is "host affinity" or "host anti-affinity", and
    the title says which ("Host anti-affinity group web"), since that is all a client sees."""
    return Mixin(scheme, name, f"{kind[0].upper()}{kind[1:]} group {name}", depends=(AFFINITY_GROUP,),
                 applies=(COMPUTE,), location=f"/affinity_group/{name}/")


def _type_of(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"
