"""The compute kind: OCCI input to the compute use cases, and virtual machines to OCCI output."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from occistack.model.occi import Action, Category, Mixin
from occistack.model.occi import infrastructure as infra
from occistack.model.occi.openstack import OPENSTACK_PUBLIC_KEY, OPENSTACK_USER_DATA
from occistack.model.occi.templates import AFFINITY_GROUP, AVAILABILITY_ZONE, BOOT_DEVICE_ATTRIBUTE, os_tpl_mixin
from occistack.model.states import VM_TRANSITIONS, Event, IllegalTransition, VmState
from occistack.plane.tenant import affinity
from occistack.plane.tenant import bare_metal as bare_metal_cases
from occistack.plane.tenant import compute as cases
from occistack.plane.tenant import networks as network_cases
from occistack.plane.tenant import storage as storage_cases
from occistack.plane.tenant import tags
from occistack.plane.errors import UnknownTemplate
from occistack.api.occi.renderings.ir import ResourceOut
from occistack.api.errors import BadRequest, ConflictError, Forbidden
from occistack.api.occi.interpret import EntityInput, Mode, check_immutables, link_id_from
from occistack.api.occi.kinds.base import KindHandler, Scope, category, state_message, zone_term
from occistack.api.occi.kinds.links import link_request, nic_out, storagelink_out
from occistack.api.occi.paths import location_of

#: contextualization mixin → (attribute carrying its value, ComputeRequest field)
CONTEXT_MIXINS = {
    infra.USER_DATA.identifier: ("occi.compute.userdata", "user_data"),
    OPENSTACK_USER_DATA.identifier: ("org.openstack.compute.user_data", "user_data"),
    infra.SSH_KEY.identifier: ("occi.credentials.ssh.publickey", "ssh_public_key"),
    OPENSTACK_PUBLIC_KEY.identifier: ("org.openstack.credentials.publickey.data", "ssh_public_key"),
}
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
    return tuple(action for action in _actions_in(state) if action.term in bare_metal_cases.BARE_METAL_ACTIONS)


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
        links = [nic_out(scope, nic, loaded.tags.get(nic.id, ())) for nic in loaded.nics_by_vm.get(row.id, ())]
        links += [storagelink_out(scope, link, loaded.tags.get(link.id, ()))
                  for link in loaded.storage_links_by_vm.get(row.id, ())]
        return ResourceOut(location=location_of(infra.COMPUTE, row.id), kind=infra.COMPUTE, mixins=mixins,
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

    # --- create ----------------------------------------------------------------------------------

    def create(self, scope: Scope, entity: EntityInput, entity_id: str | None) -> str:
        template_term = _template_term(scope, entity)
        sizes = _sizes(entity, None)
        context = {field: entity.attributes.get(attribute)
                   for identifier, (attribute, field) in CONTEXT_MIXINS.items()
                   if any(mixin.identifier == identifier for mixin in entity.mixins)}
        nics, disks = [], []
        for link in entity.links:
            request = link_request(scope, link)
            (nics if isinstance(request, network_cases.NicRequest) else disks).append(request)
        request = cases.ComputeRequest(
            template_term=template_term, entity_id=entity_id or entity.given_id,
            title=entity.attributes.get("occi.core.title"), summary=entity.attributes.get("occi.core.summary"),
            hostname=entity.attributes.get("occi.compute.hostname"), share=entity.attributes.get("occi.compute.share"),
            zone_name=zone_term(entity), tags=tuple(m.identifier for m in entity.mixins if _is_tag(m)),
            affinity_group_id=_affinity_group_id(scope, entity), nics=tuple(nics), disks=tuple(disks),
            boot_device=entity.attributes.get(BOOT_DEVICE_ATTRIBUTE), **sizes, **context,
        )
        try:
            vm = cases.deploy_compute(scope.session, scope.caller, request, scope.dispatcher, scope.placement,
                                      scope.limits)
        except UnknownTemplate:
            if entity.mixin_depending_on(infra.OS_TPL):
                raise
            raise ConflictError(f"the site's default OS template {template_term!r} (occistack.default_os_tpl) "
                                "is not available; name an os_tpl mixin instead (GET /os_tpl/ lists them)") from None
        return vm.id

    # --- update ----------------------------------------------------------------------------------

    def update(self, scope: Scope, entity_id: str, entity: EntityInput, mode: Mode) -> None:
        vm = cases.get_compute(scope.session, scope.caller, entity_id)
        current = self.get(scope, entity_id)
        check_immutables(entity, current.attributes)
        current_ids = {mixin.identifier for mixin in current.mixins}
        for mixin in entity.mixins:
            if mixin.identifier in current_ids:
                continue
            if mixin.depends_on(infra.OS_TPL):
                raise Forbidden("the os_tpl of an existing compute cannot be changed; create a new compute")
            if mixin.depends_on(AVAILABILITY_ZONE):
                raise Forbidden("a compute cannot move to another availability zone")
            if _is_affinity_group(mixin):
                raise Forbidden("a compute joins an affinity group when it is created, not later: its host was "
                                "chosen by the group's rule")
            if mixin.identifier in CONTEXT_MIXINS:
                raise Forbidden(f"contextualization ({mixin.term}) is given when a compute is created, not later")
            if not _is_tag(mixin) and not mixin.depends_on(infra.RESOURCE_TPL):
                raise Forbidden(f"the mixin {mixin.identifier} cannot be added to an existing compute")
        for attribute, _field in CONTEXT_MIXINS.values():
            if attribute in entity.attributes and entity.attributes[attribute] != current.attributes.get(attribute):
                raise Forbidden(f"{attribute} is given when a compute is created and cannot change")
        changes = {name: entity.attributes[name] for name in
                   ("occi.core.title", "occi.core.summary", "occi.compute.hostname", "occi.compute.architecture",
                    "occi.compute.share", "occi.compute.speed") if name in entity.attributes}
        if mode is Mode.REPLACE:
            for name in ("occi.core.title", "occi.core.summary"):
                changes.setdefault(name, None)
        vm.title = changes.get("occi.core.title", vm.title)
        vm.summary = changes.get("occi.core.summary", vm.summary)
        vm.hostname = changes.get("occi.compute.hostname", vm.hostname)
        vm.share = changes.get("occi.compute.share", vm.share)
        vm.speed_ghz = changes.get("occi.compute.speed", vm.speed_ghz)
        if "occi.compute.architecture" in changes and changes["occi.compute.architecture"] != vm.architecture:
            if vm.state != VmState.STOPPED:
                raise ConflictError("the architecture can only change while the compute is stopped")
            vm.architecture = changes["occi.compute.architecture"]
        sizes = _sizes(entity, vm)
        cases.resize_compute(scope.session, vm, sizes["cores"], sizes["memory_gib"], sizes["resource_tpl"],
                             scope.placement)
        if BOOT_DEVICE_ATTRIBUTE in entity.attributes:
            bare_metal_cases.change_boot_device(vm, entity.attributes[BOOT_DEVICE_ATTRIBUTE])
        user_tags = [m.identifier for m in entity.mixins if m.user_defined]
        if mode is Mode.REPLACE:
            tags.set_user_tags(scope.session, scope.caller, vm.id, user_tags)
        else:
            tags.tag_all(scope.session, scope.caller, user_tags, vm.id)
        existing_links = {link.location.rsplit("/", 1)[1] for link in current.links}
        for link in entity.links:
            if link_id_from(link, scope.script_name) in existing_links:
                continue  # the client echoed one of the compute's links back: it stays as it is
            request = link_request(scope, link)
            if isinstance(request, network_cases.NicRequest):
                cases.attach_nic(scope.session, scope.caller, vm, request, scope.dispatcher, scope.limits)
            else:
                storage_cases.attach_volume(scope.session, scope.caller, vm, request, scope.dispatcher)

    def remove_mixin(self, scope: Scope, entity_id: str, mixin: Mixin) -> None:
        vm = cases.get_compute(scope.session, scope.caller, entity_id)
        if mixin.user_defined:
            tags.untag(scope.session, scope.caller, mixin.identifier, [entity_id])
        elif mixin.depends_on(infra.RESOURCE_TPL) or mixin == infra.RESOURCE_TPL:
            vm.resource_tpl = None  # the sizes stay; they are just no longer a template's
        elif _is_affinity_group(mixin) or mixin == AFFINITY_GROUP:
            raise Forbidden("a compute stays in the affinity group it was created in: its host was chosen by "
                            "the group's rule")
        else:
            raise Forbidden(f"the mixin {mixin.term} cannot be removed from a compute")

    # --- actions and deletion ----------------------------------------------------------------------

    def act(self, scope: Scope, entity_id: str, action: Action, attributes: dict[str, Any]) -> Category | None:
        vm = cases.get_compute(scope.session, scope.caller, entity_id)
        if action == infra.SAVE:
            template = cases.save_compute(scope.session, scope.caller, vm, attributes.get("name"),
                                          attributes.get("method", "hot"), scope.dispatcher)
            return os_tpl_mixin(scope.schemes.os_tpl, template.term, template.title)
        try:
            cases.compute_action(scope.session, vm, action.term, attributes.get("method"), scope.dispatcher)
        except IllegalTransition as refused:
            # GFD.185: an action that is not available in the current state is a 400.
            raise BadRequest(str(refused)) from None
        return None

    def delete(self, scope: Scope, entity_id: str) -> None:
        vm = cases.get_compute(scope.session, scope.caller, entity_id)
        cases.destroy_compute(scope.session, vm, scope.dispatcher, scope.caller)


def _template_term(scope: Scope, entity: EntityInput) -> str:
    """The term of the OS template the compute boots: its os_tpl mixin's, else the site's
    default (``occistack.default_os_tpl``, for clients that send the kind alone)."""
    chosen = entity.mixin_depending_on(infra.OS_TPL)
    if not chosen and scope.default_os_tpl:
        return scope.default_os_tpl
    if not chosen:
        examples = [m.term for m in scope.registry.mixins() if m.depends_on(infra.OS_TPL)][:5]
        raise BadRequest("a compute needs an os_tpl mixin naming its OS template"
                         + (f", e.g. {', '.join(examples)}" if examples else "") + "; GET /os_tpl/ lists them")
    return chosen[0].term


def _sizes(entity: EntityInput, vm) -> dict[str, Any]:
    """Cores, memory, speed and architecture: a resource_tpl's values, else the client's, else
    what the compute has (update) or the defaults (create)."""
    templates = entity.mixin_depending_on(infra.RESOURCE_TPL)
    if templates:
        template = templates[0]
        fixed = {d.name: d.default for d in template.attributes}
        sizes = {"cores": fixed["occi.compute.cores"], "memory_gib": fixed["occi.compute.memory"],
                 "resource_tpl": template.identifier}
        if vm is None:
            sizes["speed_ghz"] = fixed.get("occi.compute.speed", entity.attributes.get("occi.compute.speed"))
            sizes["architecture"] = fixed.get("occi.compute.architecture",
                                              entity.attributes.get("occi.compute.architecture"))
        return sizes
    cores = entity.attributes.get("occi.compute.cores")
    memory = entity.attributes.get("occi.compute.memory")
    if vm is None:
        return {"cores": cores or DEFAULT_CORES, "memory_gib": memory or DEFAULT_MEMORY_GIB, "resource_tpl": None,
                "speed_ghz": entity.attributes.get("occi.compute.speed"),
                "architecture": entity.attributes.get("occi.compute.architecture")}
    unchanged = cores in (None, vm.cores) and memory in (None, vm.memory_gib)
    return {"cores": cores or vm.cores, "memory_gib": memory or vm.memory_gib,
            "resource_tpl": vm.resource_tpl if unchanged else None}



def _affinity_group_id(scope: Scope, entity: EntityInput) -> int | None:
    """The id of the affinity group the compute asks to join. The registry holds only the
    caller's project's groups, so another project's group was already an unknown mixin."""
    groups = [mixin for mixin in entity.mixins if _is_affinity_group(mixin)]
    if len(groups) > 1:
        raise BadRequest("a compute belongs to at most one affinity group; got "
                         + ", ".join(group.term for group in groups))
    if not groups:
        return None
    return affinity.affinity_group_id_for(scope.session, scope.caller.project_id, groups[0].term)


def _is_affinity_group(mixin: Mixin) -> bool:
    # A user's own mixin may name affinity_group as its parent; that makes it a tag, not a rule.
    return not mixin.user_defined and mixin.depends_on(AFFINITY_GROUP)


def _is_tag(mixin: Mixin) -> bool:
    return mixin.user_defined or mixin.identifier in CONTEXT_MIXINS
