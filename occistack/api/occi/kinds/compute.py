"""The compute kind: OCCI input to the compute use cases, and virtual machines to OCCI output."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from occistack.model.occi import Action, Category, Mixin
from occistack.model.occi import infrastructure as infra
from occistack.model.occi.openstack import OPENSTACK_PUBLIC_KEY, OPENSTACK_USER_DATA
from occistack.model.occi.templates import AFFINITY_GROUP, AVAILABILITY_ZONE, BOOT_DEVICE_ATTRIBUTE, os_tpl_mixin
from occistack.model.states import VM_TRANSITIONS, Event, VmState
from occistack.plane.errors import Conflict, InvalidRequest, UnknownTemplate
from occistack.plane.ssh_keys import NAME_PATTERN, looks_like_key
from occistack.plane.tenant.bare_metal import BARE_METAL_ACTIONS
from occistack.plane.tenant.changes import KEEP
from occistack.plane.tenant.compute import ComputeRequest, create_compute
from occistack.plane.tenant.compute_actions import ComputeAction, act_on_compute, delete_compute
from occistack.plane.tenant.compute_changes import (
    ComputeChanges,
    ComputeMixin,
    Contextualization,
    SizeTemplate,
    remove_from_compute,
    update_compute,
)
from occistack.plane.tenant.nics import NicRequest
from occistack.api.occi.renderings.ir import ResourceOut
from occistack.api.occi.interpret import EntityInput, Mode, check_immutables, link_id_from
from occistack.api.occi.kinds.base import KindHandler, Scope, category, state_message, tag_changes, zone_term
from occistack.api.occi.kinds.links import link_request, nic_out, storagelink_out

#: contextualization mixin → (attribute carrying its value, ComputeRequest field)
CONTEXT_MIXINS = {
    infra.USER_DATA.identifier: ("occi.compute.userdata", "user_data"),
    OPENSTACK_USER_DATA.identifier: ("org.openstack.compute.user_data", "user_data"),
    infra.SSH_KEY.identifier: ("occi.credentials.ssh.publickey", "ssh_public_key"),
    OPENSTACK_PUBLIC_KEY.identifier: ("org.openstack.credentials.publickey.data", "ssh_public_key"),
}
#: The OpenStack scheme's name of a key pair (ooi's), beside the key's data.
KEY_NAME_ATTRIBUTE = "org.openstack.credentials.publickey.name"
_ACTION_BY_EVENT = {Event.START: infra.START, Event.STOP: infra.STOP, Event.RESTART: infra.RESTART,
                    Event.SUSPEND: infra.SUSPEND}
_SAVABLE = (VmState.RUNNING, VmState.STOPPED, VmState.SUSPENDED)
DEFAULT_CORES = 1
DEFAULT_MEMORY_GIB = 1.0


@lru_cache(maxsize=None)
def _actions_in(state: str) -> tuple[Action, ...]:
    """The actions a compute offers in ``state`` (rendered as action links on every GET)."""
    available = [_ACTION_BY_EVENT[event] for event in VM_TRANSITIONS.events_allowed(state)]
    if state in _SAVABLE:
        available.append(infra.SAVE)
    return tuple(available)


@lru_cache(maxsize=None)
def _bare_metal_actions_in(state: str) -> tuple[Action, ...]:
    """What a BMC can do to a bare-metal compute's node in ``state``: no suspend, no save."""
    return tuple(action for action in _actions_in(state) if action.term in BARE_METAL_ACTIONS)


class ComputeHandler(KindHandler):
    kind = infra.COMPUTE
    term = "compute"

    def present(self, scope: Scope, row, loaded) -> ResourceOut:
        row_tags = loaded.tags.get(row.id, ())
        mixins = self._mixins(scope, row.template_term, row.resource_tpl, row.zone_name,
                              getattr(row, "affinity_group", None), tuple(row_tags))
        attributes: dict[str, Any] = {"occi.core.id": row.id}
        for name, value in (("occi.core.title", row.title), ("occi.core.summary", row.summary),
                            ("occi.compute.architecture", row.architecture), ("occi.compute.cores", row.cores),
                            ("occi.compute.hostname", row.hostname), ("occi.compute.share", row.share),
                            ("occi.compute.memory", row.memory_gib), ("occi.compute.speed", row.speed_ghz)):
            if value is not None:
                attributes[name] = value
        attributes["occi.compute.state"] = VM_TRANSITIONS.occi_state(row.state)
        message = state_message(row)
        if message is not None:
            attributes["occi.compute.state.message"] = message
        if row.boot_device is not None:
            attributes[BOOT_DEVICE_ATTRIBUTE] = row.boot_device
        for tag in row_tags:
            if tag in CONTEXT_MIXINS:
                attribute, field = CONTEXT_MIXINS[tag]
                value = getattr(row, field)
                if value is not None:
                    attributes[attribute] = value
        key_name = getattr(row, "key_name", None)
        if key_name is not None and OPENSTACK_PUBLIC_KEY.identifier in row_tags:
            attributes[KEY_NAME_ATTRIBUTE] = key_name
        links = [nic_out(scope, nic, loaded.tags.get(nic.id, ())) for nic in loaded.nics_by_vm.get(row.id, ())]
        links += [storagelink_out(scope, link, loaded.tags.get(link.id, ()))
                  for link in loaded.storage_links_by_vm.get(row.id, ())]
        return ResourceOut(location=infra.COMPUTE.location_of(row.id), kind=infra.COMPUTE, mixins=mixins,
                           attributes=attributes, links=tuple(links),
                           actions=() if row.delete_requested_at is not None else
                           _bare_metal_actions_in(row.state) if row.bare_metal else self.actions(row.state))

    @staticmethod
    def _mixins(scope: Scope, template_term, resource_tpl, zone_name, affinity_group, tags) -> tuple[Category, ...]:
        """A compute's mixins; the computes of one listing mostly share them, so each
        combination is looked up once per request."""
        key = ("compute", template_term, resource_tpl, zone_name, affinity_group, tags)
        found = scope.memo.get(key)
        if found is None:
            registry, schemes = scope.registry, scope.schemes
            mixins = [category(registry, schemes.os_tpl + template_term)]
            if resource_tpl:
                mixins.append(category(registry, resource_tpl))
            if zone_name:
                mixins.append(category(registry, schemes.availability_zone + zone_name))
            if affinity_group:
                mixins.append(category(registry, schemes.affinity_group + affinity_group))
            mixins.extend(category(registry, tag) for tag in tags)
            found = scope.memo[key] = tuple(mixins)
        return found

    def actions(self, state: str) -> tuple[Action, ...]:
        return _actions_in(state)

    # --- create ---------------------------------------------------------------------------------

    def create(self, scope: Scope, entity: EntityInput, entity_id: str | None) -> str:
        template_term = _template_term(scope, entity)
        sizes = _sizes(entity)
        context = {field: entity.attributes.get(attribute)
                   for identifier, (attribute, field) in CONTEXT_MIXINS.items()
                   if any(mixin.identifier == identifier for mixin in entity.mixins)}
        context.update(_public_key_or_name(entity))
        nics, disks = [], []
        for link in entity.links:
            request = link_request(scope, link)
            (nics if isinstance(request, NicRequest) else disks).append(request)
        request = ComputeRequest(
            template_term=template_term, entity_id=entity_id or entity.given_id,
            title=entity.attributes.get("occi.core.title"), summary=entity.attributes.get("occi.core.summary"),
            hostname=entity.attributes.get("occi.compute.hostname"), share=entity.attributes.get("occi.compute.share"),
            zone_name=zone_term(entity), tags=tuple(m.identifier for m in entity.mixins if _is_tag(m)),
            affinity_group=_affinity_group(entity), nics=tuple(nics), disks=tuple(disks),
            boot_device=entity.attributes.get(BOOT_DEVICE_ATTRIBUTE), **sizes, **context,
        )
        try:
            return create_compute(scope.plane, request).compute_id
        except UnknownTemplate:
            if entity.mixin_depending_on(infra.OS_TPL):
                raise
            raise Conflict(f"the site's default OS template {template_term!r} (occistack.default_os_tpl) "
                                "is not available; name an os_tpl mixin instead (GET /os_tpl/ lists them)") from None

    # --- update ----------------------------------------------------------------------------------

    def update(self, scope: Scope, entity_id: str, entity: EntityInput, mode: Mode) -> None:
        current = self.get(scope, entity_id)
        check_immutables(entity, current.attributes)
        update_compute(scope.plane, entity_id, _changes(scope, entity, mode, current))

    def remove_mixin(self, scope: Scope, entity_id: str, mixin: Mixin) -> None:
        if mixin.user_defined:
            what = ComputeMixin.TAG
        elif mixin.depends_on(infra.RESOURCE_TPL) or mixin == infra.RESOURCE_TPL:
            what = ComputeMixin.RESOURCE_TPL
        elif _is_affinity_group(mixin) or mixin == AFFINITY_GROUP:
            what = ComputeMixin.AFFINITY_GROUP
        else:
            what = ComputeMixin.OTHER
        remove_from_compute(scope.plane, entity_id, what, mixin.identifier)

    # --- actions and deletion ----------------------------------------------------------------------

    def act(self, scope: Scope, entity_id: str, action: Action, attributes: dict[str, Any]) -> Category | None:
        request = ComputeAction(action.term, attributes.get("method"), attributes.get("name"))
        # An action the compute's state does not allow is a wrong_state refusal, whose status
        # each face decides (api/error_statuses.py).
        saved = act_on_compute(scope.plane, entity_id, request)
        if saved is not None:
            return os_tpl_mixin(scope.schemes.os_tpl, saved.term, saved.title)
        return None

    def delete(self, scope: Scope, entity_id: str) -> None:
        delete_compute(scope.plane, entity_id)


def _changes(scope: Scope, entity: EntityInput, mode: Mode, current: ResourceOut) -> ComputeChanges:
    """The OCCI update as the plane's request: each mixin by what it means to a compute, the
    attributes given (a replace clears the title and summary it was not sent), the new links."""
    attributes = entity.attributes
    template_terms, zones, groups, context, other = [], [], [], [], []
    resource_tpl = None
    for mixin in entity.mixins:
        if mixin.user_defined:
            continue  # a tag (tag_changes)
        if mixin.depends_on(infra.OS_TPL):
            template_terms.append(mixin.term)
        elif mixin.depends_on(AVAILABILITY_ZONE):
            zones.append(mixin.term)
        elif _is_affinity_group(mixin):
            groups.append(mixin.term)
        elif mixin.identifier in CONTEXT_MIXINS:
            attribute, field = CONTEXT_MIXINS[mixin.identifier]
            context.append(Contextualization(mixin.identifier, field, attribute))
        elif mixin.depends_on(infra.RESOURCE_TPL):
            resource_tpl = resource_tpl or _size_template(mixin)
        else:
            other.append(mixin.identifier)
    for identifier, (attribute, field) in CONTEXT_MIXINS.items():
        if attribute in attributes:
            context.append(Contextualization(identifier, field, attribute, attributes[attribute]))
    cleared = None if mode is Mode.REPLACE else KEEP
    existing_links = {link.location.rsplit("/", 1)[1] for link in current.links}
    nics, disks = [], []
    for link in entity.links:
        if link_id_from(link, scope.script_name) in existing_links:
            continue  # the client echoed one of the compute's links back: it stays as it is
        request = link_request(scope, link)
        (nics if isinstance(request, NicRequest) else disks).append(request)
    return ComputeChanges(
        title=attributes.get("occi.core.title", cleared), summary=attributes.get("occi.core.summary", cleared),
        hostname=attributes.get("occi.compute.hostname", KEEP),
        architecture=attributes.get("occi.compute.architecture", KEEP),
        share=attributes.get("occi.compute.share", KEEP), speed_ghz=attributes.get("occi.compute.speed", KEEP),
        cores=attributes.get("occi.compute.cores"), memory_gib=attributes.get("occi.compute.memory"),
        resource_tpl=resource_tpl, boot_device=attributes.get(BOOT_DEVICE_ATTRIBUTE, KEEP),
        template_terms=tuple(template_terms), zone_names=tuple(zones), affinity_groups=tuple(groups),
        contextualization=tuple(context), other_mixins=tuple(other),
        tags=tag_changes(entity, mode), nics=tuple(nics), disks=tuple(disks))


def _public_key_or_name(entity: EntityInput) -> dict[str, Any]:
    """The compute's key: its data, or the name of one of the caller's key pairs. The OCCI
    ``ssh_key`` mixin's one attribute carries either (a key line starts with its type, a name
    does not); the OpenStack ``public_key`` mixin has an attribute for each, and its data, when
    both are given, is the key (as before key pairs existed: the name was a label)."""
    chosen: dict[str, Any] = {}
    identifiers = {mixin.identifier for mixin in entity.mixins}
    if infra.SSH_KEY.identifier in identifiers:
        chosen = _key_or_name(entity.attributes.get("occi.credentials.ssh.publickey"))
    if OPENSTACK_PUBLIC_KEY.identifier in identifiers:
        data, name = entity.attributes.get(CONTEXT_MIXINS[OPENSTACK_PUBLIC_KEY.identifier][0]), \
            entity.attributes.get(KEY_NAME_ATTRIBUTE)
        if data is None and name is None:
            raise InvalidRequest("the public_key mixin needs org.openstack.credentials.publickey.data (a public key) "
                                 "or org.openstack.credentials.publickey.name (the name of one of your key pairs, "
                                 "GET /user/keypairs lists them)")
        chosen = _key_or_name(data) if data is not None else {"ssh_public_key": None, "key_name": name}
    return chosen


def _key_or_name(value: str | None) -> dict[str, Any]:
    if value is not None and not looks_like_key(value) and NAME_PATTERN.fullmatch(value):
        return {"ssh_public_key": None, "key_name": value}
    return {"ssh_public_key": value, "key_name": None}


def _size_template(mixin: Mixin) -> SizeTemplate:
    fixed = {d.name: d.default for d in mixin.attributes}
    return SizeTemplate(mixin.identifier, fixed["occi.compute.cores"], fixed["occi.compute.memory"])


def _template_term(scope: Scope, entity: EntityInput) -> str:
    """The term of the OS template the compute boots: its os_tpl mixin's, else the site's
    default (``occistack.default_os_tpl``, for clients that send the kind alone)."""
    chosen = entity.mixin_depending_on(infra.OS_TPL)
    if not chosen and scope.default_os_tpl:
        return scope.default_os_tpl
    if not chosen:
        examples = [m.term for m in scope.registry.mixins() if m.depends_on(infra.OS_TPL)][:5]
        raise InvalidRequest("a compute needs an os_tpl mixin naming its OS template"
                             + (f", e.g. {', '.join(examples)}" if examples else "") + "; GET /os_tpl/ lists them")
    return chosen[0].term


def _sizes(entity: EntityInput) -> dict[str, Any]:
    """A new compute's cores, memory, speed and architecture: its resource_tpl's values, else
    the client's, else the defaults."""
    templates = entity.mixin_depending_on(infra.RESOURCE_TPL)
    if templates:
        template = templates[0]
        fixed = {d.name: d.default for d in template.attributes}
        return {"cores": fixed["occi.compute.cores"], "memory_gib": fixed["occi.compute.memory"],
                "resource_tpl": template.identifier,
                "speed_ghz": fixed.get("occi.compute.speed", entity.attributes.get("occi.compute.speed")),
                "architecture": fixed.get("occi.compute.architecture",
                                          entity.attributes.get("occi.compute.architecture"))}
    return {"cores": entity.attributes.get("occi.compute.cores") or DEFAULT_CORES,
            "memory_gib": entity.attributes.get("occi.compute.memory") or DEFAULT_MEMORY_GIB, "resource_tpl": None,
            "speed_ghz": entity.attributes.get("occi.compute.speed"),
            "architecture": entity.attributes.get("occi.compute.architecture")}


def _affinity_group(entity: EntityInput) -> str | None:
    """The name of the affinity group the compute asks to join. The registry holds only the
    caller's project's groups, so another project's group was already an unknown mixin."""
    groups = [mixin for mixin in entity.mixins if _is_affinity_group(mixin)]
    if len(groups) > 1:
        raise InvalidRequest("a compute belongs to at most one affinity group; got "
                             + ", ".join(group.term for group in groups))
    if not groups:
        return None
    return groups[0].term


def _is_affinity_group(mixin: Mixin) -> bool:
    # A user's own mixin may name affinity_group as its parent; that makes it a tag, not a rule.
    return not mixin.user_defined and mixin.depends_on(AFFINITY_GROUP)


def _is_tag(mixin: Mixin) -> bool:
    return mixin.user_defined or mixin.identifier in CONTEXT_MIXINS
