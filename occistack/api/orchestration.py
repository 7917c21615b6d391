"""Wires the management plane into the server: the job dispatcher and placement the views'
use cases get, and -- for the embedded default -- a worker and host agents in this process.

Settings (``[app:main]``):

* ``occistack.worker`` -- ``thread`` (a job worker in a thread of the server; the embedded
  default) or ``none`` (workers are ``occistack worker`` processes; production);
* ``occistack.agents.inprocess`` -- host names whose agents run inside the server, ``*`` for
  every host, empty for none (production hosts run ``occistack-agent``);
* ``occistack.drivers`` -- what in-process agents drive: ``fake`` (in memory) or
  ``libvirt-test`` (libvirt's test driver, one simulated node per host);
  ``occistack.simulated_hosts.directory`` -- where ``libvirt-test`` hosts keep their nodes
  across restarts (one directory per host; unset: a temporary directory, forgotten at exit);
* ``occistack.agents.inprocess_check_seconds`` (1) -- how often in-process agents are
  started for hosts added since (and stopped for deleted ones);
* ``occistack.power`` -- how HA fences hosts through their BMCs: ``ipmi`` (the default),
  ``fake`` (simulated BMCs, for the embedded default and tests) or ``none`` (no HA);
  ``occistack.power.timeout_seconds`` (20) bounds each exchange with a BMC;
* ``occistack.secret_key`` or ``occistack.secret_key_file`` -- the key that seals BMC
  passwords (plane/sealing.py);
* ``occistack.placement.strategy`` (``first_fit`` or ``dispersing``),
  ``occistack.placement.capacity_threshold`` (0.85).
"""

from __future__ import annotations

import atexit

from occistack.drivers.fake import FakeDrivers
from occistack.drivers.simulated_host import SimulatedHosts
from occistack.plane.admin.users import password_min_length_of
from occistack.plane.context import PlaneContext, PlaneServices
from occistack.plane.limits import SiteLimits
from occistack.plane.runtime import ManagementPlane, PlaneSettings, power_driver_from_settings
from occistack.plane.sealing import sealer_from_settings


#: What in-process agents can drive.
IN_PROCESS_DRIVERS = ("fake", "libvirt-test")


#: Where the plane's services are kept in the registry (read them with :func:`plane_services`).
PLANE_SERVICES = "occistack.plane_services"


def plane_services(registry) -> PlaneServices:
    return registry[PLANE_SERVICES]


def plane_context(request) -> PlaneContext:
    """``request.plane``: the context a view hands to the plane's use cases (behind a permission,
    so the caller is known)."""
    return PlaneContext(request.dbsession, request.caller, plane_services(request.registry))


def includeme(config) -> None:
    settings = config.get_settings()
    kind = settings.get("occistack.drivers", "fake")
    if kind not in IN_PROCESS_DRIVERS:
        raise ValueError(f"occistack.drivers = {kind!r}; accepted: {', '.join(IN_PROCESS_DRIVERS)}")
    shared = settings.get("occistack.driver_instances")
    per_host: dict[str, object] = {}
    simulated = SimulatedHosts(state_directory=settings.get("occistack.simulated_hosts.directory") or None) \
        if kind == "libvirt-test" else None

    def drivers_for(host_name: str):
        # Each simulated host has its own hypervisor, unless a test hands one set to all.
        if shared is not None:
            return shared
        if host_name not in per_host:
            per_host[host_name] = simulated.drivers(host_name) if simulated else FakeDrivers()
        return per_host[host_name]

    def forget_drivers(host_name: str) -> None:
        drivers = per_host.pop(host_name, None)
        if simulated is not None:
            simulated.forget(host_name, drivers)

    sealer = sealer_from_settings(settings)
    plane = ManagementPlane(config.registry["occistack.session_factory"], PlaneSettings.from_ini(settings), drivers_for,
                            power=power_driver_from_settings(settings), sealer=sealer,
                            forget_drivers=None if shared is not None else forget_drivers)
    config.registry["occistack.sealer"] = sealer
    config.registry[PLANE_SERVICES] = PlaneServices(
        dispatcher=plane.dispatcher, placement=plane.placement,
        password_min_length=password_min_length_of(settings), sealer=sealer, power=plane.services.power,
        limits=SiteLimits.from_ini(settings))
    config.add_request_method(plane_context, "plane", reify=True)
    config.registry["occistack.plane"] = plane
    config.registry["occistack.dispatcher"] = plane.dispatcher
    config.registry["occistack.placement"] = plane.placement
    config.registry["occistack.drivers"] = shared if shared is not None else per_host
    if simulated is not None:
        config.registry["occistack.simulated_hosts"] = simulated
        atexit.register(simulated.close)  # registered first, so it runs after plane.stop
    plane.start()
    atexit.register(plane.stop)
