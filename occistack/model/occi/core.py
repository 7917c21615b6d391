"""OCCI Core (GFD.221): the entity, resource and link kinds."""

from __future__ import annotations

from occistack.model.occi.categories import AttributeDef, Kind

CORE_SCHEME = "http://schemas.ogf.org/occi/core#"

#: The base of every kind. It is not instantiable, so it has no location (GFD.223 §3.1).
ENTITY = Kind(
    CORE_SCHEME, "entity", "Entity",
    attributes=(
        AttributeDef("occi.core.id", mutable=False, description="The unique identifier of the entity"),
        AttributeDef("occi.core.title", max_length=255, description="The display name of the entity"),
    ),
)

RESOURCE = Kind(
    CORE_SCHEME, "resource", "Resource", parent=ENTITY,
    attributes=(
        AttributeDef("occi.core.summary", description="A summarising description of the resource"),
    ),
)

LINK = Kind(
    CORE_SCHEME, "link", "Link", parent=ENTITY,
    attributes=(
        AttributeDef("occi.core.source", mutable=False, required=True,
                     description="The location of the resource the link goes out from"),
        AttributeDef("occi.core.target", mutable=False, required=True,
                     description="The location of the resource the link points at"),
        AttributeDef("occi.core.source.kind", mutable=False, description="The kind of the source resource"),
        AttributeDef("occi.core.target.kind", mutable=False, description="The kind of the target resource"),
    ),
)

CORE_KINDS = (ENTITY, RESOURCE, LINK)
