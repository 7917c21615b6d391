"""Wires the management plane into the server: the drivers and the dispatcher that runs the
use cases' operations. In this issue operations run at once on the fake drivers."""

from __future__ import annotations

from ..drivers.fake import FakeDrivers
from ..orchestrator import immediate_dispatcher


def includeme(config) -> None:
    settings = config.get_settings()
    kind = settings.get("occistack.drivers", "fake")
    if kind != "fake":
        raise ValueError(f"occistack.drivers = {kind!r} is not available yet; use 'fake'")
    drivers = settings.get("occistack.driver_instances") or FakeDrivers()
    config.registry["occistack.drivers"] = drivers
    config.registry["occistack.dispatcher"] = immediate_dispatcher(drivers)
