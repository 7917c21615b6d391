"""Wires the management plane into the server: the job dispatcher and placement the views'
use cases get, and -- for the embedded default -- a worker and host agents in this process.

Settings (``[app:main]``):

* ``occistack.worker`` -- ``thread`` (a job worker in a thread of the server; the embedded
  default) or ``none`` (workers are ``occistack worker`` processes; production);
* ``occistack.agents.inprocess`` -- host names whose agents run inside the server, ``*`` for
  every host, empty for none (production hosts run ``occistack-agent``);
* ``occistack.drivers`` -- what in-process agents drive: ``fake``;
* ``occistack.placement.strategy`` (``first_fit`` or ``dispersing``),
  ``occistack.placement.capacity_threshold`` (0.85).
"""

from __future__ import annotations

import atexit

from ..drivers.fake import FakeDrivers
from ..orchestrator.plane import ManagementPlane, PlaneSettings


def includeme(config) -> None:
    settings = config.get_settings()
    kind = settings.get("occistack.drivers", "fake")
    if kind != "fake":
        raise ValueError(f"occistack.drivers = {kind!r} is not available yet; use 'fake'")
    shared = settings.get("occistack.driver_instances")
    per_host: dict[str, FakeDrivers] = {}

    def drivers_for(host_name: str):
        # Each simulated host has its own hypervisor, unless a test hands one set to all.
        return shared if shared is not None else per_host.setdefault(host_name, FakeDrivers())

    plane = ManagementPlane(config.registry["occistack.session_factory"], PlaneSettings.from_ini(settings), drivers_for)
    config.registry["occistack.plane"] = plane
    config.registry["occistack.dispatcher"] = plane.dispatcher
    config.registry["occistack.placement"] = plane.placement
    config.registry["occistack.drivers"] = shared if shared is not None else per_host
    plane.start()
    atexit.register(plane.stop)
