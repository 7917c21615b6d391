"""One handler per OCCI kind; the views find them here by kind term."""

from occistack.api.occi.kinds.base import KindHandler, Scope
from occistack.api.occi.kinds.compute import ComputeHandler
from occistack.api.occi.kinds.links import NetworkInterfaceHandler, StorageLinkHandler
from occistack.api.occi.kinds.network import NetworkHandler
from occistack.api.occi.kinds.storage import StorageHandler

HANDLERS: dict[str, KindHandler] = {
    handler.term: handler
    for handler in (ComputeHandler(), StorageHandler(), NetworkHandler(), NetworkInterfaceHandler(),
                    StorageLinkHandler())
}

__all__ = ["HANDLERS", "KindHandler", "Scope"]
