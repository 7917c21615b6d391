"""The link kinds: networkinterface (a compute's NIC on a network) and storagelink (a volume
attached to a compute), rendered inline in their compute and on their own."""

from __future__ import annotations

from typing import Any

from occistack.model.occi import Action, Category, Mixin
from occistack.model.occi import infrastructure as infra
from occistack.model.occi.core import RESOURCE
from occistack.model.states import LINK_TRANSITIONS
from occistack.plane.tenant import compute as compute_cases
from occistack.plane.tenant import networks as network_cases
from occistack.plane.tenant import storage as storage_cases
from occistack.plane.tenant import tags
from occistack.api.occi.renderings.ir import LinkIR, LinkOut
from occistack.api.errors import BadRequest, ConflictError, Forbidden, NotFoundError
from occistack.api.occi.interpret import EntityInput, Mode, check_immutables, link_id_from, locate
from occistack.api.occi.kinds.base import KindHandler, Scope, category, state_message
from occistack.api.occi.paths import location_of

COMPUTE_KIND = infra.COMPUTE.identifier


def nic_out(scope: Scope, row, tags) -> LinkOut:
    source, target = location_of(infra.COMPUTE, row.vm_id), location_of(infra.NETWORK, row.network_id)
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
    return LinkOut(location=location_of(infra.NETWORKINTERFACE, row.id), kind=infra.NETWORKINTERFACE,
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
    source, target = location_of(infra.COMPUTE, row.vm_id), location_of(infra.STORAGE, row.volume_id)
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
    return LinkOut(location=location_of(infra.STORAGELINK, row.id), kind=infra.STORAGELINK,
                   mixins=tuple(category(scope.registry, tag) for tag in tags), attributes=attributes,
                   source=source, source_kind=COMPUTE_KIND, target=target, target_kind=infra.STORAGE.identifier)


def link_request(scope: Scope, link: LinkIR):
    """An inline or standalone link as a NicRequest or DiskRequest, after checking its kind,
    target and attributes."""
    found = locate(link.target, scope.script_name)
    if found is None or found[0] not in ("network", "storage"):
        raise BadRequest(f"a link must point at a /network/<id> or a /storage/<id>, not {link.target!r}")
    target_kind, target_id = found
    expected = infra.NETWORKINTERFACE if target_kind == "network" else infra.STORAGELINK
    if link.kind is not None and link.kind != expected.identifier:
        known = scope.registry.kind(link.kind)
        if known is None:
            raise NotFoundError(f"unknown link kind {link.kind}")
        raise BadRequest(f"a link to a {target_kind} is a {expected.term}, not a {known.term}")
    target = infra.NETWORK if target_kind == "network" else infra.STORAGE
    if link.rel is not None and link.rel not in (target.identifier, RESOURCE.identifier):
        raise BadRequest(f"rel {link.rel} does not match the target {link.target}, a {target_kind}")
    attributes = _link_attributes(scope, link, expected)
    link_id = link_id_from(link, scope.script_name)
    if target_kind == "network":
        return network_cases.NicRequest(
            network_id=target_id, link_id=link_id, mac=attributes.get("occi.networkinterface.mac"),
            title=attributes.get("occi.core.title"), address=attributes.get("occi.networkinterface.address"))
    return storage_cases.DiskRequest(
        volume_id=target_id, link_id=link_id, device_id=attributes.get("occi.storagelink.deviceid"),
        mountpoint=attributes.get("occi.storagelink.mountpoint"), title=attributes.get("occi.core.title"))


def _link_attributes(scope: Scope, link: LinkIR, kind) -> dict[str, Any]:
    definitions = {d.name: d for owner in (*kind.lineage(), infra.IPNETWORKINTERFACE) for d in owner.attributes}
    converted: dict[str, Any] = {}
    for name, raw in link.attributes.items():
        definition = definitions.get(name)
        if definition is None:
            # An inline link is always being created: an unknown attribute makes the request
            # malformed (400), as in any create (see interpret.py).
            raise BadRequest(f"unknown attribute {name} for a {kind.term}; GET /-/ lists the attributes of every "
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
            raise BadRequest(f"a {self.term} needs occi.core.source (a /compute/<id>) and occi.core.target")
        found = locate(str(source), scope.script_name)
        if found is None or found[0] != "compute":
            raise BadRequest(f"occi.core.source must be a /compute/<id>, not {source!r}")
        attributes = {**entity.attributes}
        if entity_id is not None:
            attributes["occi.core.id"] = entity_id
        elif entity.given_id is not None:
            attributes["occi.core.id"] = entity.given_id
        link = LinkIR(target=str(target), kind=self.kind.identifier, attributes=attributes)
        request = link_request(scope, link)
        vm = compute_cases.get_compute(scope.session, scope.caller, found[1])
        if self.term == "networkinterface":
            if not isinstance(request, network_cases.NicRequest):
                raise BadRequest("a networkinterface must point at a /network/<id>")
            created = compute_cases.attach_nic(scope.session, scope.caller, vm, request, scope.dispatcher,
                                               scope.limits)
        else:
            if not isinstance(request, storage_cases.DiskRequest):
                raise BadRequest("a storagelink must point at a /storage/<id>")
            created = storage_cases.attach_volume(scope.session, scope.caller, vm, request, scope.dispatcher)
        tags.tag_all(scope.session, scope.caller, self.user_tags(scope, entity), created.id)
        return created.id

    def user_tags(self, scope: Scope, entity: EntityInput) -> list[str]:
        return [mixin.identifier for mixin in entity.mixins if mixin.user_defined]

    def remove_mixin(self, scope: Scope, entity_id: str, mixin: Mixin) -> None:
        if not mixin.user_defined:
            raise Forbidden(f"the mixin {mixin.term} cannot be removed from a {self.term}")
        tags.untag(scope.session, scope.caller, mixin.identifier, [entity_id])

    def act(self, scope: Scope, entity_id: str, action: Action, attributes: dict[str, Any]) -> Category | None:
        raise NotFoundError(f"a {self.term} has no actions")


class NetworkInterfaceHandler(_LinkHandler):
    kind = infra.NETWORKINTERFACE
    term = "networkinterface"

    def present(self, scope: Scope, row, loaded) -> LinkOut:
        return nic_out(scope, row, loaded.tags.get(row.id, []))

    def update(self, scope: Scope, entity_id: str, entity: EntityInput, mode: Mode) -> None:
        nic = network_cases.get_nic(scope.session, scope.caller, entity_id)
        check_immutables(entity, self.get(scope, entity_id).attributes)
        mac = entity.attributes.get("occi.networkinterface.mac")
        if mac is not None and mac.lower() != nic.mac:
            raise ConflictError("the MAC of a plugged interface cannot change; delete the link and create another")
        for name in ("occi.networkinterface.address", "occi.networkinterface.gateway"):
            if name in entity.attributes and entity.attributes[name] != getattr(nic, name.rsplit(".", 1)[1]):
                raise ConflictError(f"{name} cannot change on a plugged interface")
        if "occi.core.title" in entity.attributes or mode is Mode.REPLACE:
            nic.title = entity.attributes.get("occi.core.title")
        _retag(scope, entity_id, self.user_tags(scope, entity), mode)

    def delete(self, scope: Scope, entity_id: str) -> None:
        nic = network_cases.get_nic(scope.session, scope.caller, entity_id)
        network_cases.detach_nic(scope.session, nic, scope.dispatcher, scope.caller)


class StorageLinkHandler(_LinkHandler):
    kind = infra.STORAGELINK
    term = "storagelink"

    def present(self, scope: Scope, row, loaded) -> LinkOut:
        return storagelink_out(scope, row, loaded.tags.get(row.id, []))

    def update(self, scope: Scope, entity_id: str, entity: EntityInput, mode: Mode) -> None:
        link = storage_cases.get_storage_link(scope.session, scope.caller, entity_id)
        check_immutables(entity, self.get(scope, entity_id).attributes)
        changes = {}
        if "occi.storagelink.deviceid" in entity.attributes:
            changes["device_id"] = entity.attributes["occi.storagelink.deviceid"]
        if "occi.storagelink.mountpoint" in entity.attributes or mode is Mode.REPLACE:
            changes["mountpoint"] = entity.attributes.get("occi.storagelink.mountpoint")
        if "occi.core.title" in entity.attributes or mode is Mode.REPLACE:
            changes["title"] = entity.attributes.get("occi.core.title")
        storage_cases.update_storage_link(scope.session, link, changes)
        _retag(scope, entity_id, self.user_tags(scope, entity), mode)

    def delete(self, scope: Scope, entity_id: str) -> None:
        link = storage_cases.get_storage_link(scope.session, scope.caller, entity_id)
        storage_cases.detach_volume(scope.session, link, scope.dispatcher, scope.caller)


def _retag(scope: Scope, entity_id: str, identifiers: list[str], mode: Mode) -> None:
    if mode is Mode.REPLACE:
        tags.set_user_tags(scope.session, scope.caller, entity_id, identifiers)
    elif identifiers:
        tags.tag_all(scope.session, scope.caller, identifiers, entity_id)
