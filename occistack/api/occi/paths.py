"""Where the OCCI face serves each kind, derived from the kinds themselves.

A kind's location (``Kind.location`` in model/occi/infrastructure.py) is the one source of its
paths: its collection is the location, its entities the location followed by an id. The only
other paths are the aliases that deployed clients hard-code for the link kinds -- rOCCI 1.x,
VMDIRAC and IM post and address links under ``/link/…`` (SPEC-NOTES §1.1) -- declared once,
below. Routes (api/routes.py), the views that serve them, the resolution of a link's source or
target, and the paths a user mixin may not take are all built from :data:`KIND_ROUTES` and
:data:`SERVED_PATHS`; a route's kind is looked up by the route's name, never parsed out of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from occistack.model.occi import Kind
from occistack.model.occi import infrastructure as infra

#: The kinds this face serves, each at its location.
SERVED_KINDS: tuple[Kind, ...] = infra.INFRASTRUCTURE_KINDS

#: Paths deployed clients hard-code for the link kinds, served beside the kinds' own locations.
CLIENT_ALIASES: dict[Kind, tuple[str, ...]] = {
    infra.NETWORKINTERFACE: ("/link/networkinterface/",),
    infra.STORAGELINK: ("/link/storagelink/",),
}

#: The prefix the aliases share: no user mixin may take a location under it.
ALIAS_ROOT = "/link/"


def paths_of(kind: Kind) -> tuple[str, ...]:
    """The collection paths serving ``kind``: its location, then the aliases clients use."""
    return (kind.location, *CLIENT_ALIASES.get(kind, ()))


class Shape(Enum):
    COLLECTION = "collection"
    ENTITY = "entity"


@dataclass(frozen=True, slots=True)
class KindRoute:
    """One route of a kind: its name (unique, for Pyramid), its pattern, and what it serves."""

    name: str
    pattern: str
    kind: Kind
    shape: Shape


def _kind_routes(kind: Kind) -> list[KindRoute]:
    routes = []
    for number, path in enumerate(paths_of(kind)):
        name = kind.term if number == 0 else f"{kind.term}_alias{number}"
        routes += [
            KindRoute(f"collection_{name}", path, kind, Shape.COLLECTION),
            # Also without the trailing slash: clients are not consistent about it.
            KindRoute(f"collection_{name}_bare", path.rstrip("/"), kind, Shape.COLLECTION),
            KindRoute(f"entity_{name}", path + "{entity_id}", kind, Shape.ENTITY),
        ]
    return routes


#: route name → the route, for every path of every served kind.
KIND_ROUTES: dict[str, KindRoute] = {route.name: route for kind in SERVED_KINDS for route in _kind_routes(kind)}
COLLECTION_ROUTES = tuple(name for name, route in KIND_ROUTES.items() if route.shape is Shape.COLLECTION)
ENTITY_ROUTES = tuple(name for name, route in KIND_ROUTES.items() if route.shape is Shape.ENTITY)

#: collection path → its kind, every location and alias.
SERVED_PATHS: dict[str, Kind] = {path: kind for kind in SERVED_KINDS for path in paths_of(kind)}


def kind_of_route(request) -> Kind:
    """The kind the route a request matched serves."""
    return KIND_ROUTES[request.matched_route.name].kind


def kind_at(path: str) -> tuple[Kind, str] | None:
    """``/network/123`` (or an alias's path) → (the network kind, "123"); None for a path that
    is no entity's."""
    for prefix, kind in SERVED_PATHS.items():
        if path.startswith(prefix):
            entity_id = path[len(prefix):]
            if entity_id and "/" not in entity_id:
                return kind, entity_id
    return None
