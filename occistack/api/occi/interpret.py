"""From a parsed rendering to a validated request: the OCCI rules of GFD.221/223 in one place.

Status codes follow the 1.1 table the real clients were written against (GFD.185 §3.6.8):
an unknown kind, mixin, action or attribute is 404; a mixin that does not apply, or a change to
an immutable attribute, is 403; anything else malformed is 400. One exception: a create that
names an OS or resource template the site does not offer, or an attribute no kind or mixin of
it defines, is a malformed request (400) -- nothing the client addressed is missing, it asked
for something that cannot be made (issue 12).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import urlsplit

from occistack.model.occi import Action, AttributeSet, Kind, Mixin, Registry
from occistack.model.occi import infrastructure as infra
from occistack.model.occi.openstack import OPENSTACK_MIXINS
from occistack.api.occi.paths import kind_at
from occistack.api.occi.renderings.ir import CategoryIR, LinkIR, RenderingIR
from occistack.plane.errors import InvalidRequest, NotFound, NotPermitted

#: Mixins a client may omit when it sends their attributes (rOCCI-cli adds the mixin itself,
#: hand-written requests often do not): attribute name → mixin.
IMPLIED_BY_ATTRIBUTE = {
    definition.name: mixin
    for mixin in (*OPENSTACK_MIXINS, infra.USER_DATA, infra.SSH_KEY, infra.IPNETWORK, infra.IPNETWORKINTERFACE)
    for definition in mixin.attributes
}

#: Attributes that are immutable for clients but may be given when an entity is created.
SETTABLE_AT_CREATION = frozenset({
    "occi.core.id", "occi.core.source", "occi.core.target", "occi.core.source.kind", "occi.core.target.kind",
})


class Mode(Enum):
    CREATE = "create"
    UPDATE = "update"    # POST: partial update
    REPLACE = "replace"  # PUT on an existing entity


@dataclass(frozen=True, slots=True)
class EntityInput:
    kind: Kind
    mixins: tuple[Mixin, ...]
    #: client-settable attributes, converted to their types.
    attributes: dict[str, Any]
    #: immutable attributes the client sent; at update they must equal the current values.
    immutable: dict[str, Any] = field(default_factory=dict)
    links: tuple[LinkIR, ...] = ()

    def mixin_depending_on(self, parent: Mixin) -> list[Mixin]:
        return [mixin for mixin in self.mixins if mixin.depends_on(parent)]

    @property
    def given_id(self) -> str | None:
        value = self.immutable.get("occi.core.id")
        return None if value is None else str(value)


def entity_input(ir: RenderingIR, registry: Registry, expected: Kind, mode: Mode,
                 current_mixins: tuple[Mixin, ...] = ()) -> EntityInput:
    """Validate one entity rendering. ``current_mixins`` (at update) are the entity's mixins,
    whose attributes a partial update may set without naming the mixin again."""
    kind = _kind(ir, registry, expected, mode)
    mixins = mixins_of(ir.mixins, registry, kind, creating=mode is Mode.CREATE)
    for category in ir.categories:
        if category.cls == "action":
            raise InvalidRequest(f"an entity rendering cannot carry the action {category.identifier}; "
                                 "trigger actions with POST ?action=<term>")
    mixins = _with_implied_mixins(mixins, ir.attributes, kind, current_mixins)
    definitions = AttributeSet.of(kind, (*current_mixins, *mixins))
    attributes: dict[str, Any] = {}
    immutable: dict[str, Any] = {}
    for name, raw in ir.attributes.items():
        definition = definitions.get(name)
        if definition is None:
            unknown = InvalidRequest if mode is Mode.CREATE else NotFound
            raise unknown(f"unknown attribute {name} for a {kind.term}" + _with_mixins(mixins)
                          + "; GET /-/ lists the attributes of every kind and mixin")
        value = definition.coerce(raw)
        if definition.mutable:
            attributes[name] = value
        else:
            immutable[name] = value
    for name, value in immutable.items():
        definition = definitions.get(name)
        if mode is Mode.CREATE and name not in SETTABLE_AT_CREATION and not name.endswith((".state", ".state.message")):
            if definition.default is None or value != definition.default:
                owner = _owner_of(name, kind, mixins)
                raise NotPermitted(f"{name} cannot be set by a client" +
                                   (f": {owner} fixes it at {definition.default!r}" if definition.default is not None
                                    else "; the server manages it"))
    if mode is not Mode.UPDATE:
        for definition in definitions:
            if (definition.required and definition.mutable and definition.default is None
                    and definition.name not in attributes and _client_must_supply(definition.name, kind)):
                raise InvalidRequest(f"{definition.name} is required for a {kind.term}" + _with_mixins(mixins))
    return EntityInput(kind, mixins, attributes, immutable, tuple(link for link in ir.links if not link.is_action))


def check_immutables(entity: EntityInput, current: dict[str, Any]) -> None:
    """At update, immutable attributes may be echoed back (a client PUTs our own rendering) but
    not changed."""
    for name, value in entity.immutable.items():
        if name in current and not _same(current[name], value):
            raise NotPermitted(f"{name} is immutable: it is {current[name]!r} and cannot become {value!r}")
        if name not in current and name not in SETTABLE_AT_CREATION and not name.endswith(
                (".state", ".state.message")):
            raise NotPermitted(f"{name} cannot be set by a client")


def mixins_of(categories: tuple[CategoryIR, ...], registry: Registry, kind: Kind,
              creating: bool = False) -> tuple[Mixin, ...]:
    mixins: list[Mixin] = []
    for category in categories:
        mixin = registry.mixin(category.identifier)
        if mixin is None:
            if registry.get(category.identifier) is not None:
                raise InvalidRequest(f"{category.identifier} is not a mixin")
            template = _template_scheme(category.scheme, registry) if creating else None
            if template is not None:
                raise InvalidRequest(f"unknown {template} {category.identifier}: this site offers no such template; "
                                     f"GET /{template}/ or /-/ lists the templates")
            raise NotFound(f"unknown mixin {category.identifier}; GET /-/ lists the mixins")
        if not mixin.applies_to(kind):
            raise NotPermitted(f"the mixin {mixin.identifier} does not apply to a {kind.term}")
        if mixin not in mixins:
            mixins.append(mixin)
    for parent, what in ((infra.OS_TPL, "os_tpl"), (infra.RESOURCE_TPL, "resource_tpl")):
        chosen = [mixin for mixin in mixins if mixin.depends_on(parent)]
        if len(chosen) > 1:
            raise InvalidRequest(f"at most one {what} mixin may be applied; got "
                                 + ", ".join(mixin.identifier for mixin in chosen))
    return tuple(mixins)


def action_input(ir: RenderingIR, registry: Registry, term: str, allowed: tuple[Action, ...]) -> tuple[Action, dict]:
    """The action named by ``?action=<term>``, checked against the body's action Category (if
    any) and the actions the kind and mixins define; its attributes converted to their types."""
    candidates = [action for action in allowed if action.term == term]
    declared = ir.action
    if declared is not None:
        candidates = [action for action in candidates if action.identifier == declared.identifier]
        if not candidates:
            if registry.action(declared.identifier) is None:
                raise NotFound(f"unknown action {declared.identifier}")
            if declared.term != term:
                raise InvalidRequest(f"the body names the action {declared.identifier} but the query asks for "
                                     f"{term!r}")
            # A known action, but of another kind or mixin (compute#start on a link): unknown here.
            names = ", ".join(action.identifier for action in allowed) or "none"
            raise NotFound(f"the action {declared.identifier} is not defined here; the actions defined "
                           f"are: {names}")
    if not candidates:
        names = ", ".join(action.term for action in allowed) or "none"
        raise NotFound(f"unknown action {term!r} here; the actions defined are: {names}")
    action = candidates[0]
    definitions = {definition.name: definition for definition in action.attributes}
    attributes: dict[str, Any] = {}
    for name, raw in ir.attributes.items():
        definition = definitions.get(name)
        if definition is None:
            raise NotFound(f"the action {action.term} has no attribute {name}; it takes: "
                           + (", ".join(definitions) or "none"))
        attributes[name] = definition.coerce(raw)
    missing = [definition for definition in action.attributes if definition.required and definition.name not in attributes]
    if missing:
        raise InvalidRequest(f"the action {action.term} needs the attribute "
                             + ", ".join(f"{definition.name} ({definition.description})" for definition in missing))
    return action, attributes


# --- locations -----------------------------------------------------------------------------------

#: ``http:/host/…``: an absolute URL whose "//" a client squeezed to "/".
_SQUEEZED_URL = re.compile(r"https?:/(?!/)", re.IGNORECASE)


def locate(reference: str, script_name: str = "") -> tuple[str, str] | None:
    """``/network/123`` or ``http://host/network/123`` → ("network", "123"), or None."""
    reference = reference.strip()
    if _SQUEEZED_URL.match(reference):
        # VMDIRAC squeezes every "//" out of the source URL of its public-IP link, scheme's
        # included ("http:/host/compute/<id>"): put the authority's slashes back.
        reference = reference.replace(":/", "://", 1)
    try:
        path = urlsplit(reference).path if "://" in reference else reference.split("?")[0]
    except ValueError:  # "http://[": an authority no URL has, so no location of ours
        return None
    if script_name and path.startswith(script_name + "/"):
        path = path[len(script_name):]
    found = kind_at(path)
    return (found[0].term, found[1]) if found is not None else None


def link_id_from(link: LinkIR, script_name: str = "") -> str | None:
    """The id a client chose for an inline link: occi.core.id, else the last part of ``self``."""
    if "occi.core.id" in link.attributes:
        return str(link.attributes["occi.core.id"])
    if link.self_location:
        found = locate(link.self_location, script_name)
        if found:
            return found[1]
    return None


# --- helpers -------------------------------------------------------------------------------------

def _kind(ir: RenderingIR, registry: Registry, expected: Kind, mode: Mode) -> Kind:
    kinds = ir.kinds
    if len(kinds) > 1:
        raise InvalidRequest("an entity has exactly one kind; got " + ", ".join(k.identifier for k in kinds))
    if not kinds:
        return expected  # the collection or entity path names the kind already
    kind = registry.kind(kinds[0].identifier)
    if kind is None:
        if registry.get(kinds[0].identifier) is not None:
            raise InvalidRequest(f"{kinds[0].identifier} is not a kind")
        raise NotFound(f"unknown kind {kinds[0].identifier}; GET /-/ lists the kinds")
    if kind != expected:
        if mode is Mode.CREATE:
            where = f"; create a {kind.term} at {kind.location}" if kind.location else ""
            raise InvalidRequest(f"this location holds {expected.term} entities, not {kind.term}{where}")
        raise InvalidRequest(f"the kind of an entity cannot change (it is {expected.identifier})")
    return kind


def _template_scheme(scheme: str, registry: Registry) -> str | None:
    """"os_tpl" or "resource_tpl" when ``scheme`` is the scheme of the site's OS or resource
    templates (those of the mixins that depend on os_tpl or resource_tpl)."""
    for parent, name in ((infra.OS_TPL, "os_tpl"), (infra.RESOURCE_TPL, "resource_tpl")):
        if scheme.endswith(f"/{name}#") or any(mixin.scheme == scheme and mixin.depends_on(parent)
                                               for mixin in registry.mixins()):
            return name
    return None


def _with_implied_mixins(mixins: tuple[Mixin, ...], attributes: dict, kind: Kind,
                         current: tuple[Mixin, ...]) -> tuple[Mixin, ...]:
    extra = []
    for name in attributes:
        mixin = IMPLIED_BY_ATTRIBUTE.get(name)
        if mixin is not None and mixin not in mixins and mixin not in current and mixin.applies_to(kind):
            extra.append(mixin)
    return mixins + tuple(dict.fromkeys(extra))


def _client_must_supply(name: str, kind: Kind) -> bool:
    # The server fills these itself: a NIC's MAC and a disk's device are allocated.
    return name not in ("occi.networkinterface.mac", "occi.storagelink.deviceid")


def _owner_of(name: str, kind: Kind, mixins: tuple[Mixin, ...]) -> str:
    for mixin in reversed(mixins):
        if any(definition.name == name for definition in mixin.attributes):
            return f"the mixin {mixin.term}"
    return f"the kind {kind.term}"


def _with_mixins(mixins: tuple[Mixin, ...]) -> str:
    return (" with " + ", ".join(mixin.term for mixin in mixins)) if mixins else ""


def _same(current: Any, given: Any) -> bool:
    if isinstance(current, float) or isinstance(given, float):
        try:
            return abs(float(current) - float(given)) < 1e-9
        except (TypeError, ValueError):
            return False
    return current == given or str(current) == str(given)
