"""The OCCI type system: categories, the standard definitions and the registry.

Pure values only: nothing here does I/O, and ``renderings`` depends on nothing else of ours.
"""

from occistack.model.occi.categories import (
    Action,
    AttributeDef,
    AttributeSet,
    AttributeValueError,
    Category,
    Kind,
    Mixin,
    is_valid_term,
    split_identifier,
)
from occistack.model.occi.registry import CategoryConflict, Registry, standard_registry

__all__ = [
    "Action",
    "AttributeDef",
    "AttributeSet",
    "AttributeValueError",
    "Category",
    "CategoryConflict",
    "Kind",
    "Mixin",
    "Registry",
    "is_valid_term",
    "split_identifier",
    "standard_registry",
]
