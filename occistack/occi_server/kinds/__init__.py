"""One handler per OCCI kind; the views find them here by kind term."""

from .base import KindHandler, Scope
from .compute import ComputeHandler
from .links import NetworkInterfaceHandler, StorageLinkHandler
from .network import NetworkHandler
from .storage import StorageHandler

HANDLERS: dict[str, KindHandler] = {
    handler.term: handler
    for handler in (ComputeHandler(), StorageHandler(), NetworkHandler(), NetworkInterfaceHandler(),
                    StorageLinkHandler())
}

__all__ = ["HANDLERS", "KindHandler", "Scope"]
