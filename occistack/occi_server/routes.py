"""Every route of the server, in one place.

OCCI paths (SPEC-NOTES §1.1, §7): the query interface at /-/ and its RFC 5785 twin; one
collection and one entity route per kind, with the /link/… aliases that rOCCI 1.x, VMDIRAC and
IM hard-code; and, last, every other path ending in "/" is looked up as a mixin's location.
"""

from __future__ import annotations

from .contexts import occi_context

#: kind term → the collection paths that serve it (the first is the kind's own location).
KIND_PATHS = {
    "compute": ("/compute/",),
    "storage": ("/storage/",),
    "network": ("/network/",),
    "networkinterface": ("/networkinterface/", "/link/networkinterface/"),
    "storagelink": ("/storagelink/", "/link/storagelink/"),
}


def kind_of(route_name: str) -> str:
    """``collection_networkinterface_alias1_bare`` → ``networkinterface``."""
    return route_name.split("_")[1]


def includeme(config) -> None:
    add = config.add_route
    add("query_interface", "/-/", factory=occi_context)
    add("query_interface_well_known", "/.well-known/org/ogf/occi/-/", factory=occi_context)
    add("root", "/", factory=occi_context)
    for kind, paths in KIND_PATHS.items():
        for number, path in enumerate(paths):
            suffix = "" if number == 0 else f"_alias{number}"
            # Also without the trailing slash: clients are not consistent about it.
            add(f"collection_{kind}{suffix}", path, factory=occi_context)
            add(f"collection_{kind}{suffix}_bare", path.rstrip("/"), factory=occi_context)
            add(f"entity_{kind}{suffix}", path + "{entity_id}", factory=occi_context)
    add("mixin_collection", "/*location", factory=occi_context)
