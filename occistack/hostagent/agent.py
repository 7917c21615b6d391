"""The host agent: registers, heartbeats, fetches commands, runs them on the drivers, answers.

It imports only ``drivers`` and ``protocol``: a host has no database. How messages reach the
management server is a *transport* (a callable taking a message and returning the reply):
in-process for the embedded default and the tests (``orchestrator.local_agents``), HTTP with
mutual TLS for real hosts. The agent is the same either way.

Commands (their payloads are plain JSON values):

=====================  ========================================================================
deploy_guest           ``guest`` (GuestSpec fields), ``networks`` [{name, vlan, and for DHCP cidr,
                       dhcp_server, gateway}], ``addresses`` {mac: ip}, ``root_disk`` {template,
                       source, checksum, size_gib}: implement the networks, make the root disk from
                       the template, plug the NICs, define and boot the guest, attach ``volumes``
power_guest            ``name``, ``operation`` (start, stop, poweroff, reboot, reset, suspend)
destroy_guest          ``name``, ``volumes`` [names], ``macs`` [MACs], ``networks`` [names]: detach,
                       unplug, destroy; networks no other guest uses are taken down
snapshot_guest         ``name``, ``image`` (``template_id``: the server's, returned untouched); with
                       ``destination`` (nfs://…), the image is copied to secondary storage too,
                       and the answer carries its ``checksum`` and ``size_gib``
create_volume          ``name``, ``size_gib``;  resize_volume: the same;  delete_volume: ``name``
attach_volume          ``guest``, ``volume``, ``device``;  detach_volume: ``guest``, ``volume``
plug_nic               ``guest``, ``network``, ``vlan``, ``mac`` (``address``, ``cidr``, ``dhcp_server``,
                       ``gateway``);  unplug_nic: ``guest``, ``mac``
download_template      ``url``, ``checksum``, ``destination`` (in secondary storage), ``template``
                       (its term, for the log): download, verify; answers ``size_gib``; sends
                       Progress messages (percent) while the bytes come in
remove_secondary_file  ``destination`` (in secondary storage): a deleted template's image
=====================  ========================================================================
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from typing import Any, Callable

from occistack.drivers.base import DriverError, GuestSpec
from occistack.hostagent.protocol import (
    PROTOCOL_VERSION,
    Answer,
    Answers,
    Command,
    Commands,
    Fetch,
    Heartbeat,
    HostFacts,
    Progress,
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
        #: ``percent -> None``: where a long command reports how far it has come (the Agent
        #: sets it for each command it runs).
        self.report_progress = lambda _percent: None

    def run(self, command: Command) -> dict[str, Any]:
        """The command's result; DriverError when the backend refused or failed it."""
        method = getattr(self, "_" + command.name, None)
        if method is None:
            raise DriverError(f"this agent does not know the command {command.name!r}")
        try:
            return method(**command.payload) or {}
        except TypeError as error:
            raise DriverError(f"malformed {command.name} command: {error}") from None

    def _deploy_guest(self, guest: dict, networks: list[dict], volumes: list[dict] = (),
                      addresses: dict[str, str] | None = None, root_disk: dict | None = None) -> dict:
        spec = GuestSpec(**{**guest, "nics": tuple(map(tuple, guest.get("nics", ()))),
                            "disks": tuple(map(tuple, guest.get("disks", ()))),
                            "direct_boot": tuple(guest["direct_boot"]) if guest.get("direct_boot") else None})
        if self.drivers.compute.state(spec.name) != "absent":
            # Already defined: a repeated deploy after the agent lost its memory of the first.
            return {"state": self.drivers.compute.state(spec.name)}
        for network in networks:
            self._implement_network(network)
        addresses = addresses or {}
        hostname = spec.hostname.split(".", 1)[0] if spec.hostname else None
        plugged: list[str] = []
        attached: list[str] = []
        root_volume = None
        try:
            if root_disk is not None and hasattr(self.drivers.storage, "prepare_root_disk"):
                storage = self.drivers.storage
                storage.ensure_template(root_disk["template"], root_disk["source"], root_disk["checksum"])
                root_volume = storage.prepare_root_disk(spec.name, root_disk["template"], root_disk["size_gib"])
                spec = replace(spec, root_volume=root_volume)
            for mac, network_name in spec.nics:
                self.drivers.network.plug(spec.name, network_name, mac, address=addresses.get(mac),
                                          hostname=hostname)
                plugged.append(mac)
            self.drivers.compute.deploy(spec)
            for volume in volumes:
                self.drivers.storage.attach(spec.name, volume["name"], volume["device"])
                attached.append(volume["name"])
        except DriverError:
            # Leave the host as it was: the management plane will try another one.
            self._undo_deploy(spec.name, plugged, attached, root_volume)
            raise
        return {"state": self.drivers.compute.state(spec.name)}

    def _implement_network(self, network: dict) -> None:
        """The guest network on this host; with DHCP where the network has a subnet and the
        network driver can serve it (the agent is the network's virtual router)."""
        self.drivers.network.create_network(network["name"], network.get("vlan"))
        configure_dhcp = getattr(self.drivers.network, "configure_dhcp", None)
        if configure_dhcp is not None and network.get("dhcp_server"):
            configure_dhcp(network["name"], network["cidr"], network["dhcp_server"], network.get("gateway"))

    def _undo_deploy(self, name: str, plugged: list[str], attached: list[str], root_volume: str | None = None) -> None:
        for undo in ([lambda v=volume: self.drivers.storage.detach(name, v) for volume in attached]
                     + [lambda: self.drivers.compute.destroy(name)]
                     + [lambda m=mac: self.drivers.network.unplug(name, m) for mac in plugged]
                     + ([lambda: self.drivers.storage.delete_volume(root_volume)] if root_volume else [])
                     + [lambda: self._remove_config_drive(name)]):
            try:
                undo()
            except DriverError as error:
                log.warning("could not undo part of the failed deploy of %s: %s", name, error)

    def _release_network(self, network: str) -> None:
        """A host implements a guest network only while a guest of its uses it: the last one
        gone, the VLAN leaves the trunk and its DHCP server stops."""
        try:
            self.drivers.network.delete_network(network)
        except DriverError as error:
            log.debug("network %s stays: %s", network, error)  # other guests still use it

    def _remove_config_drive(self, name: str) -> None:
        config_drives = getattr(self.drivers, "config_drives", None)
        if config_drives is not None:
            config_drives.remove(name)

    def _power_guest(self, name: str, operation: str) -> dict:
        self.drivers.compute.power(name, operation)
        return {"state": self.drivers.compute.state(name)}

    def _destroy_guest(self, name: str, volumes: list[str] = (), macs: list[str] = (),
                       networks: list[str] = ()) -> dict:
        for volume in volumes:
            self.drivers.storage.detach(name, volume)
        for mac in macs:
            self.drivers.network.unplug(name, mac)
        self.drivers.compute.destroy(name)
        for network in networks:
            self._release_network(network)
        if hasattr(self.drivers.storage, "prepare_root_disk"):
            self.drivers.storage.delete_volume(f"{name}-root")  # the guest's own root disk, if made here
        self._remove_config_drive(name)
        return {}

    def _snapshot_guest(self, name: str, image: str, template_id: int | None = None,
                        destination: str | None = None) -> dict:
        # template_id is the server's own note, read back with the answer.
        self.drivers.compute.snapshot(name, image)
        if destination is None:
            return {}  # the image stays here, the one host that can deploy it
        try:
            checksum, size_gib = self.drivers.storage.export_image(image, destination)
        finally:
            # Copied, every host (this one too) makes root disks from secondary storage's copy;
            # not copied, the image is of no use: either way it goes.
            try:
                self.drivers.storage.delete_volume(image)
            except DriverError as error:
                log.warning("could not remove the saved image %s: %s", image, error)
        return {"checksum": checksum, "size_gib": size_gib}

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

    def _plug_nic(self, guest: str, network: str, vlan: int | None, mac: str, address: str | None = None,
                  cidr: str | None = None, dhcp_server: str | None = None, gateway: str | None = None) -> dict:
        self._implement_network({"name": network, "vlan": vlan, "cidr": cidr, "dhcp_server": dhcp_server,
                                 "gateway": gateway})
        self.drivers.network.plug(guest, network, mac, address=address)
        return {}

    def _unplug_nic(self, guest: str, mac: str) -> dict:
        self.drivers.network.unplug(guest, mac)
        return {}

    def _download_template(self, url: str, checksum: str, destination: str, template: str | None = None) -> dict:
        log.info("downloading template %s from %s into %s", template or "?", url, destination)
        meter = ProgressMeter(self.report_progress)
        return {"size_gib": self.drivers.storage.download_template(url, checksum, destination, progress=meter)}

    def _remove_secondary_file(self, destination: str) -> dict:
        log.info("removing %s from secondary storage", destination)
        self.drivers.storage.remove_from_secondary(destination)
        return {}


class ProgressMeter:
    """Turns a driver's (bytes done, bytes in all) into percentages sent to the server: only
    when the whole percent moves, and at most every ``interval`` seconds (the first at once),
    so a fast download costs a handful of messages. A report that cannot be sent is dropped:
    the answer is what counts."""

    def __init__(self, send: Callable[[int], None], interval: float = 0.5) -> None:
        self.send = send
        self.interval = interval
        self._last_percent = -1
        self._last_time = 0.0

    def __call__(self, done: int, total: int | None) -> None:
        if not total:
            return
        percent = max(0, min(100, done * 100 // total))
        now = time.monotonic()
        if percent == self._last_percent or (self._last_percent >= 0 and now - self._last_time < self.interval):
            return
        self._last_percent, self._last_time = percent, now
        try:
            self.send(percent)
        except Exception as error:  # noqa: BLE001 - progress is advisory
            log.warning("could not report progress %s%%: %s", percent, error)


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
        """Tell the server this host is alive, with the states of all its guests (one bulk
        read), so it can bring the database in line. Sent from the thread that runs the
        commands, after their answers: the report is never older than an answer it follows."""
        self.transport(Heartbeat(self._registered_id(), self._guest_states()))

    def _guest_states(self) -> dict[str, str] | None:
        read_all = getattr(self.runner.drivers.compute, "guest_states", None)
        if read_all is None:
            return None
        try:
            return read_all()
        except DriverError as error:
            log.warning("could not list the guests of %s for reconciliation: %s", self.host_name, error)
            return None

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
        host_id = self._registered_id()
        self.runner.report_progress = lambda percent: self.transport(Progress(host_id, command.id, percent))
        try:
            answer = Answer(self._registered_id(), command.id, True, self.runner.run(command))
        except DriverError as error:
            log.info("command %s %s failed on %s: %s", command.id, command.name, self.host_name, error)
            answer = Answer(self._registered_id(), command.id, False, {}, str(error))
        self._save_host_state()
        self._answers[command.id] = answer
        while len(self._answers) > _REMEMBERED_ANSWERS:
            self._answers.popitem(last=False)
        return answer

    def _save_host_state(self) -> None:
        """After a command (done or failed: a failure may have changed the host too), for
        drivers that keep their state only as long as this process (simulated hosts)."""
        save_state = getattr(self.runner.drivers, "save_state", None)
        if save_state is None:
            return
        try:
            save_state()
        except Exception:  # noqa: BLE001 - the command's answer stands; the next save catches up
            log.exception("could not save the state of host %s", self.host_name)

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
