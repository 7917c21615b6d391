"""The host agent: registers, heartbeats, fetches commands, runs them on the drivers, answers.

It imports only ``drivers`` and ``protocol``: a host has no database. How messages reach the
management server is a *transport* (a callable taking a message and returning the reply):
in-process for the embedded default and the tests (``orchestrator.local_agents``), HTTP with
mutual TLS for real hosts. The agent is the same either way.

Commands (their payloads are plain JSON values):

=================  ========================================================================
deploy_guest       ``guest`` (GuestSpec fields), ``networks`` [{name, vlan}]: implement the
                   networks, plug the NICs, define and boot the guest, attach ``volumes``
power_guest        ``name``, ``operation`` (start, stop, poweroff, reboot, reset, suspend)
destroy_guest      ``name``, ``volumes`` [names], ``macs`` [MACs]: detach, unplug, destroy
snapshot_guest     ``name``, ``image``
create_volume      ``name``, ``size_gib``;  resize_volume: the same;  delete_volume: ``name``
attach_volume      ``guest``, ``volume``, ``device``;  detach_volume: ``guest``, ``volume``
plug_nic           ``guest``, ``network``, ``vlan``, ``mac``;  unplug_nic: ``guest``, ``mac``
download_template  ``url``, ``checksum``, ``destination`` (in secondary storage), ``template``
                   (its term, for the log): download, verify; answers ``size_gib``
=================  ========================================================================
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from typing import Any, Callable

from ..drivers.base import DriverError, GuestSpec
from .protocol import (
    PROTOCOL_VERSION,
    Answer,
    Answers,
    Command,
    Commands,
    Fetch,
    Heartbeat,
    HostFacts,
    Register,
    Registered,
)

log = logging.getLogger(__name__)

Transport = Callable[[Any], Any]
#: How many answers the agent remembers to recognise a command delivered again.
_REMEMBERED_ANSWERS = 4096


class CommandRunner:
    """Runs commands on one host's drivers (an object with .compute, .storage, .network)."""

    def __init__(self, drivers):
        self.drivers = drivers

    def run(self, command: Command) -> dict[str, Any]:
        """The command's result; DriverError when the backend refused or failed it."""
        method = getattr(self, "_" + command.name, None)
        if method is None:
            raise DriverError(f"this agent does not know the command {command.name!r}")
        try:
            return method(**command.payload) or {}
        except TypeError as error:
            raise DriverError(f"malformed {command.name} command: {error}") from None

    def _deploy_guest(self, guest: dict, networks: list[dict], volumes: list[dict] = ()) -> dict:
        spec = GuestSpec(**{**guest, "nics": tuple(map(tuple, guest.get("nics", ()))),
                            "disks": tuple(map(tuple, guest.get("disks", ())))})
        if self.drivers.compute.state(spec.name) != "absent":
            # Already defined: a repeated deploy after the agent lost its memory of the first.
            return {"state": self.drivers.compute.state(spec.name)}
        for network in networks:
            self.drivers.network.create_network(network["name"], network.get("vlan"))
        plugged: list[str] = []
        attached: list[str] = []
        try:
            for mac, network_name in spec.nics:
                self.drivers.network.plug(spec.name, network_name, mac)
                plugged.append(mac)
            self.drivers.compute.deploy(spec)
            for volume in volumes:
                self.drivers.storage.attach(spec.name, volume["name"], volume["device"])
                attached.append(volume["name"])
        except DriverError:
            # Leave the host as it was: the management plane will try another one.
            self._undo_deploy(spec.name, plugged, attached)
            raise
        return {"state": self.drivers.compute.state(spec.name)}

    def _undo_deploy(self, name: str, plugged: list[str], attached: list[str]) -> None:
        for undo in ([lambda v=volume: self.drivers.storage.detach(name, v) for volume in attached]
                     + [lambda: self.drivers.compute.destroy(name)]
                     + [lambda m=mac: self.drivers.network.unplug(name, m) for mac in plugged]):
            try:
                undo()
            except DriverError as error:
                log.warning("could not undo part of the failed deploy of %s: %s", name, error)

    def _power_guest(self, name: str, operation: str) -> dict:
        self.drivers.compute.power(name, operation)
        return {"state": self.drivers.compute.state(name)}

    def _destroy_guest(self, name: str, volumes: list[str] = (), macs: list[str] = ()) -> dict:
        for volume in volumes:
            self.drivers.storage.detach(name, volume)
        for mac in macs:
            self.drivers.network.unplug(name, mac)
        self.drivers.compute.destroy(name)
        return {}

    def _snapshot_guest(self, name: str, image: str) -> dict:
        self.drivers.compute.snapshot(name, image)
        return {}

    def _create_volume(self, name: str, size_gib: float) -> dict:
        self.drivers.storage.create_volume(name, size_gib)
        return {}

    def _resize_volume(self, name: str, size_gib: float) -> dict:
        self.drivers.storage.resize_volume(name, size_gib)
        return {}

    def _delete_volume(self, name: str) -> dict:
        self.drivers.storage.delete_volume(name)
        return {}

    def _attach_volume(self, guest: str, volume: str, device: str) -> dict:
        self.drivers.storage.attach(guest, volume, device)
        return {}

    def _detach_volume(self, guest: str, volume: str) -> dict:
        self.drivers.storage.detach(guest, volume)
        return {}

    def _plug_nic(self, guest: str, network: str, vlan: int | None, mac: str) -> dict:
        self.drivers.network.create_network(network, vlan)
        self.drivers.network.plug(guest, network, mac)
        return {}

    def _unplug_nic(self, guest: str, mac: str) -> dict:
        self.drivers.network.unplug(guest, mac)
        return {}

    def _download_template(self, url: str, checksum: str, destination: str, template: str | None = None) -> dict:
        log.info("downloading template %s from %s into %s", template or "?", url, destination)
        return {"size_gib": self.drivers.storage.download_template(url, checksum, destination)}


class Agent:
    def __init__(self, host_name: str, token: str, facts: HostFacts, drivers, transport: Transport):
        self.host_name = host_name
        self.token = token
        self.facts = facts
        self.runner = CommandRunner(drivers)
        self.transport = transport
        self.host_id: int | None = None
        self.heartbeat_seconds = 30.0
        self.poll_seconds = 20.0
        self._answers: OrderedDict[int, Answer] = OrderedDict()

    def register(self) -> Registered:
        reply = self.transport(Register(self.host_name, self.token, PROTOCOL_VERSION, self.facts))
        self.host_id, self.heartbeat_seconds, self.poll_seconds = (
            reply.host_id, reply.heartbeat_seconds, reply.poll_seconds)
        return reply

    def heartbeat(self) -> None:
        self.transport(Heartbeat(self._registered_id()))

    def run_once(self, wait_seconds: float = 0.0) -> int:
        """Fetch this host's pending commands (waiting up to ``wait_seconds`` for some), run
        each and answer it; the number of commands handled."""
        reply: Commands = self.transport(Fetch(self._registered_id(), wait_seconds=wait_seconds))
        if reply.commands:
            self.transport(Answers(self._registered_id(), tuple(self._answer(command) for command in reply.commands)))
        return len(reply.commands)

    def _answer(self, command: Command) -> Answer:
        remembered = self._answers.get(command.id)
        if remembered is not None:
            return remembered  # delivered again: answer as the first time, do not run it twice
        try:
            answer = Answer(self._registered_id(), command.id, True, self.runner.run(command))
        except DriverError as error:
            log.info("command %s %s failed on %s: %s", command.id, command.name, self.host_name, error)
            answer = Answer(self._registered_id(), command.id, False, {}, str(error))
        self._answers[command.id] = answer
        while len(self._answers) > _REMEMBERED_ANSWERS:
            self._answers.popitem(last=False)
        return answer

    def run_forever(self, stop: threading.Event) -> None:
        """Register, then poll and heartbeat until ``stop`` is set; reconnect with backoff
        when the management server cannot be reached."""
        backoff = 0.5
        last_heartbeat = 0.0
        while not stop.is_set():
            try:
                if self.host_id is None:
                    self.register()
                if time.monotonic() - last_heartbeat >= self.heartbeat_seconds:
                    self.heartbeat()
                    last_heartbeat = time.monotonic()
                self.run_once(wait_seconds=min(self.poll_seconds, self.heartbeat_seconds))
                backoff = 0.5
            except Exception:  # noqa: BLE001 - any failure to reach the server: back off, retry
                log.exception("agent %s lost the management server; retrying in %.1f s", self.host_name, backoff)
                self.host_id = None
                stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)

    def _registered_id(self) -> int:
        if self.host_id is None:
            raise RuntimeError("the agent has not registered yet")
        return self.host_id
