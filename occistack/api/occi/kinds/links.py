"""The link kinds: networkinterface (a compute's NIC on a network) and storagelink (a volume
attached to a compute), rendered inline in their compute and on their own."""

from __future__ import annotations

from typing import Any

from occistack.model.occi import Action, Category, Mixin
from occistack.model.occi import infrastructure as infra
from occistack.model.occi.core import RESOURCE
from occistack.model.states import LINK_TRANSITIONS
from occistack.plane.tenant.changes import KEEP
from occistack.plane.tenant.links import (
    NicChanges,
    StorageLinkChanges,
    link_network,
    link_storage,
    remove_tag_from_link,
    unlink_network,
    unlink_storage,
    update_nic,
    update_storage_link,
)
from occistack.plane.tenant.nics import NicRequest
from occistack.plane.tenant.storage import DiskRequest
from occistack.plane.errors import InvalidRequest, NotFound, NotPermitted
from occistack.api.occi.renderings.ir import LinkIR, LinkOut
from occistack.api.occi.interpret import EntityInput, Mode, check_immutables, link_id_from, locate
from occistack.api.occi.kinds.base import KindHandler, Scope, category, state_message, tag_changes, user_tags

COMPUTE_KIND = infra.COMPUTE.identifier


def nic_out(scope: Scope, row, tags) -> LinkOut:
    source, target = infra.COMPUTE.location_of(row.vm_id), infra.NETWORK.location_of(row.network_id)
    attributes: dict[str, Any] = {"occi.core.id": row.id}
    if row.title is not None:
        attributes["occi.core.title"] = row.title
    attributes["occi.core.source"] = source
    attributes["occi.core.target"] = target
    attributes["occi.networkinterface.interface"] = row.interface
    attributes["occi.networkinterface.mac"] = row.mac
    attributes["occi.networkinterface.state"] = LINK_TRANSITIONS.occi_state(row.state)
    if state_message(row) is not None:
        attributes["occi.networkinterface.state.message"] = state_message(row)
    if row.address is not None:
        attributes["occi.networkinterface.address"] = row.address
        if row.gateway is not None:
            attributes["occi.networkinterface.gateway"] = row.gateway
        attributes["occi.networkinterface.allocation"] = row.allocation or "dynamic"
    return LinkOut(location=infra.NETWORKINTERFACE.location_of(row.id), kind=infra.NETWORKINTERFACE,
                   mixins=_link_mixins(scope, row.address is not None, tuple(tags)), attributes=attributes,
                   source=source, source_kind=COMPUTE_KIND, target=target, target_kind=infra.NETWORK.identifier)


def _link_mixins(scope: Scope, addressed: bool, tags: tuple[str, ...]) -> tuple[Category, ...]:
    """A NIC's mixins (ipnetworkinterface when it has an address, its tags), shared by the
    NICs of one request."""
    key = ("networkinterface", addressed, tags)
    found = scope.memo.get(key)
    if found is None:
        mixins = [infra.IPNETWORKINTERFACE] if addressed else []
        mixins.extend(category(scope.registry, tag) for tag in tags)
        found = scope.memo[key] = tuple(mixins)
    return found


def storagelink_out(scope: Scope, row, tags) -> LinkOut:
    source, target = infra.COMPUTE.location_of(row.vm_id), infra.STORAGE.location_of(row.volume_id)
    attributes: dict[str, Any] = {"occi.core.id": row.id}
    if row.title is not None:
        attributes["occi.core.title"] = row.title
    attributes["occi.core.source"] = source
    attributes["occi.core.target"] = target
    attributes["occi.storagelink.deviceid"] = row.device_id
    if row.mountpoint is not None:
        attributes["occi.storagelink.mountpoint"] = row.mountpoint
    attributes["occi.storagelink.state"] = LINK_TRANSITIONS.occi_state(row.state)
    if state_message(row) is not None:
        attributes["occi.storagelink.state.message"] = state_message(row)
    return LinkOut(location=infra.STORAGELINK.location_of(row.id), kind=infra.STORAGELINK,
                   mixins=tuple(category(scope.registry, tag) for tag in tags), attributes=attributes,
                   source=source, source_kind=COMPUTE_KIND, target=target, target_kind=infra.STORAGE.identifier)


def link_request(scope: Scope, link: LinkIR, tags: tuple[str, ...] = ()) -> NicRequest | DiskRequest:
    """An inline or standalone link as a NicRequest or DiskRequest (tagged with ``tags``), after
    checking its kind, target and attributes."""
    found = locate(link.target, scope.script_name)
    if found is None or found[0] not in ("network", "storage"):
        raise InvalidRequest(f"a link must point at a /network/<id> or a /storage/<id>, not {link.target!r}")
    target_kind, target_id = found
    expected = infra.NETWORKINTERFACE if target_kind == "network" else infra.STORAGELINK
    if link.kind is not None and link.kind != expected.identifier:
        known = scope.registry.kind(link.kind)
        if known is None:
            raise NotFound(f"unknown link kind {link.kind}")
        raise InvalidRequest(f"a link to a {target_kind} is a {expected.term}, not a {known.term}")
    target = infra.NETWORK if target_kind == "network" else infra.STORAGE
    if link.rel is not None and link.rel not in (target.identifier, RESOURCE.identifier):
        raise InvalidRequest(f"rel {link.rel} does not match the target {link.target}, a {target_kind}")
    attributes = _link_attributes(scope, link, expected)
    link_id = link_id_from(link, scope.script_name)
    if target_kind == "network":
        return NicRequest(
            network_id=target_id, link_id=link_id, mac=attributes.get("occi.networkinterface.mac"),
            title=attributes.get("occi.core.title"), address=attributes.get("occi.networkinterface.address"),
            tags=tags)
    return DiskRequest(
        volume_id=target_id, link_id=link_id, device_id=attributes.get("occi.storagelink.deviceid"),
        mountpoint=attributes.get("occi.storagelink.mountpoint"), title=attributes.get("occi.core.title"),
        tags=tags)


def _link_attributes(scope: Scope, link: LinkIR, kind) -> dict[str, Any]:
    definitions = {d.name: d for owner in (*kind.lineage(), infra.IPNETWORKINTERFACE) for d in owner.attributes}
    converted: dict[str, Any] = {}
    for name, raw in link.attributes.items():
        definition = definitions.get(name)
        if definition is None:
            # An inline link is always being created: an unknown attribute makes the request
            # malformed (400), as in any create (see interpret.py).
            raise InvalidRequest(f"unknown attribute {name} for a {kind.term}; GET /-/ lists the attributes of every "
                                 "kind and mixin")
        converted[name] = definition.coerce(raw)
    return converted


class _LinkHandler(KindHandler):
    """Standalone links: created by POST to the link kind's collection (rOCCI ``link``, VMDIRAC's
    public IP), deleted to detach."""

    def create(self, scope: Scope, entity: EntityInput, entity_id: str | None) -> str:
        source = entity.immutable.get("occi.core.source")
        target = entity.immutable.get("occi.core.target")
        if not source or not target:
            raise InvalidRequest(f"a {self.term} needs occi.core.source (a /compute/<id>) and occi.core.target")
        found = locate(str(source), scope.script_name)
        if found is None or found[0] != "compute":
            raise InvalidRequest(f"occi.core.source must be a /compute/<id>, not {source!r}")
        attributes = {**entity.attributes}
        if entity_id is not None:
            attributes["occi.core.id"] = entity_id
        elif entity.given_id is not None:
            attributes["occi.core.id"] = entity.given_id
        link = LinkIR(target=str(target), kind=self.kind.identifier, attributes=attributes)
        request = link_request(scope, link, user_tags(entity))
        if self.term == "networkinterface":
            if not isinstance(request, NicRequest):
                raise InvalidRequest("a networkinterface must point at a /network/<id>")
            return link_network(scope.plane, found[1], request)
        if not isinstance(request, DiskRequest):
            raise InvalidRequest("a storagelink must point at a /storage/<id>")
        return link_storage(scope.plane, found[1], request)

    def remove_mixin(self, scope: Scope, entity_id: str, mixin: Mixin) -> None:
        if not mixin.user_defined:
            raise NotPermitted(f"the mixin {mixin.term} cannot be removed from a {self.term}")
        remove_tag_from_link(scope.plane, entity_id, mixin.identifier)

    def act(self, scope: Scope, entity_id: str, action: Action, attributes: dict[str, Any]) -> Category | None:
        raise NotFound(f"a {self.term} has no actions")


class NetworkInterfaceHandler(_LinkHandler):
    kind = infra.NETWORKINTERFACE
    term = "networkinterface"

    def present(self, scope: Scope, row, loaded) -> LinkOut:
        return nic_out(scope, row, loaded.tags.get(row.id, []))

    def update(self, scope: Scope, entity_id: str, entity: EntityInput, mode: Mode) -> None:
        check_immutables(entity, self.get(scope, entity_id).attributes)
        attributes = entity.attributes
        update_nic(scope.plane, entity_id, NicChanges(
            title=attributes.get("occi.core.title", None if mode is Mode.REPLACE else KEEP),
            mac=attributes.get("occi.networkinterface.mac", KEEP),
            address=attributes.get("occi.networkinterface.address", KEEP),
            gateway=attributes.get("occi.networkinterface.gateway", KEEP), tags=tag_changes(entity, mode)))

    def delete(self, scope: Scope, entity_id: str) -> None:
        unlink_network(scope.plane, entity_id)


class StorageLinkHandler(_LinkHandler):
    kind = infra.STORAGELINK
    term = "storagelink"

    def present(self, scope: Scope, row, loaded) -> LinkOut:
        return storagelink_out(scope, row, loaded.tags.get(row.id, []))

    def update(self, scope: Scope, entity_id: str, entity: EntityInput, mode: Mode) -> None:
        check_immutables(entity, self.get(scope, entity_id).attributes)
        attributes, cleared = entity.attributes, None if mode is Mode.REPLACE else KEEP
        update_storage_link(scope.plane, entity_id, StorageLinkChanges(
            title=attributes.get("occi.core.title", cleared),
            device_id=attributes.get("occi.storagelink.deviceid", KEEP),
            mountpoint=attributes.get("occi.storagelink.mountpoint", cleared), tags=tag_changes(entity, mode)))

    def delete(self, scope: Scope, entity_id: str) -> None:
        unlink_storage(scope.plane, entity_id)

