"""The host agent: registers, heartbeats, fetches commands, runs them on the drivers, answers.

It imports only ``drivers`` and ``protocol``: a host has no database. How messages reach the
management server is a *transport* (a callable taking a message and returning the reply):
in-process for the embedded default and the tests (``orchestrator.local_agents``), HTTP with
mutual TLS for real hosts. The agent is the same either way.

Commands and answers are the typed ones of ``protocol`` (DeployGuest → GuestState, ...; their
fields are documented there). :class:`CommandRunner` decodes each command's payload into its
class and runs the method its table gives for that class; a command this agent does not know,
or one with a misspelt or mistyped field, is answered as a failure naming what was wrong.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import replace
from typing import Any, Callable

from occistack.drivers.base import DriverError, GuestSpec, HostDrivers
from occistack.hostagent.protocol import (
    PROTOCOL_VERSION,
    Answer,
    Answers,
    AttachVolume,
    Command,
    Commands,
    CreateVolume,
    DeleteVolume,
    DeployGuest,
    DestroyGuest,
    DetachVolume,
    Done,
    DownloadTemplate,
    Fetch,
    GuestDefinition,
    GuestNetwork,
    GuestState,
    Heartbeat,
    HostAnswer,
    MigrateGuest,
    ReceiveGuest,
    HostFacts,
    PlugNic,
    PowerGuest,
    Progress,
    ProtocolError,
    Register,
    Registered,
    RemoveSecondaryFile,
    ResizeVolume,
    RevertVolume,
    SnapshotGuest,
    SnapshotSaved,
    SnapshotVolume,
    TemplateDownloaded,
    UnplugNic,
    check_version,
    decode_command,
    encode_result,
)

log = logging.getLogger(__name__)

Transport = Callable[[Any], Any]
#: How many answers the agent remembers to recognise a command delivered again.
_REMEMBERED_ANSWERS = 4096


class CommandRunner:
    """Runs commands on one host's drivers."""

    def __init__(self, drivers: HostDrivers):
        self.drivers = drivers
        #: ``percent -> None``: where a long command reports how far it has come (the Agent
        #: sets it for each command it runs).
        self.report_progress = lambda _percent: None
        #: command class → the method that carries it out (every command of the protocol:
        #: tests/hostagent checks that none is missing).
        self.methods: dict[type, Callable[[Any], HostAnswer]] = {
            DeployGuest: self.deploy_guest, PowerGuest: self.power_guest, DestroyGuest: self.destroy_guest,
            SnapshotGuest: self.snapshot_guest, CreateVolume: self.create_volume, ResizeVolume: self.resize_volume,
            DeleteVolume: self.delete_volume, AttachVolume: self.attach_volume, DetachVolume: self.detach_volume,
            PlugNic: self.plug_nic, UnplugNic: self.unplug_nic, DownloadTemplate: self.download_template,
            RemoveSecondaryFile: self.remove_secondary_file, SnapshotVolume: self.snapshot_volume,
            RevertVolume: self.revert_volume, ReceiveGuest: self.receive_guest, MigrateGuest: self.migrate_guest,
        }

    def run(self, command: Command) -> dict[str, Any]:
        """The command's answer, as Answer.result carries it; DriverError when the backend
        refused or failed it, or the command is not one this agent can read."""
        try:
            request = decode_command(command.name, command.payload)
        except ProtocolError as error:
            raise DriverError(f"malformed {command.name} command: {error}") from None
        method = self.methods.get(type(request))
        if method is None:
            raise DriverError(f"this agent cannot carry out the command {command.name!r}")
        return encode_result(method(request))

    def deploy_guest(self, command: DeployGuest) -> GuestState:
        spec = _spec(command.guest)
        compute = self.drivers.compute
        if compute.state(spec.name) != "absent":
            # Already defined: a repeated deploy after the agent lost its memory of the first.
            return GuestState(compute.state(spec.name))
        for network in command.networks:
            self._implement_network(network)
        hostname = spec.hostname.split(".", 1)[0] if spec.hostname else None
        plugged: list[str] = []
        attached: list[str] = []
        root_volume = None
        root_disks = self.drivers.root_disks
        try:
            if command.root_disk is not None and root_disks is not None:
                root_disk = command.root_disk
                root_disks.ensure_template(root_disk.template, root_disk.source, root_disk.checksum)
                root_volume = root_disks.prepare_root_disk(spec.name, root_disk.template, root_disk.size_gib)
                spec = replace(spec, root_volume=root_volume)
            for mac, network_name in spec.nics:
                self.drivers.network.plug(spec.name, network_name, mac, address=command.addresses.get(mac),
                                          hostname=hostname)
                plugged.append(mac)
            compute.deploy(spec)
            for volume in command.volumes:
                self.drivers.storage.attach(spec.name, volume.name, volume.device)
                attached.append(volume.name)
        except DriverError:
            # Leave the host as it was: the management plane will try another one.
            self._undo_deploy(spec.name, plugged, attached, root_volume)
            raise
        return GuestState(compute.state(spec.name))

    def _implement_network(self, network: GuestNetwork) -> None:
        """The guest network on this host; with DHCP where the network has a subnet and the
        host can serve it (the agent is the network's virtual router)."""
        self.drivers.network.create_network(network.name, network.vlan)
        if self.drivers.dhcp is not None and network.dhcp_server and network.cidr:
            self.drivers.dhcp.configure_dhcp(network.name, network.cidr, network.dhcp_server, network.gateway)

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
        if self.drivers.config_drives is not None:
            self.drivers.config_drives.remove(name)

    def power_guest(self, command: PowerGuest) -> GuestState:
        self.drivers.compute.power(command.name, command.operation)
        return GuestState(self.drivers.compute.state(command.name))

    def destroy_guest(self, command: DestroyGuest) -> Done:
        name = command.name
        for volume in command.volumes:
            self.drivers.storage.detach(name, volume)
        for mac in command.macs:
            self.drivers.network.unplug(name, mac)
        self.drivers.compute.destroy(name)
        for network in command.networks:
            self._release_network(network)
        if self.drivers.root_disks is not None:
            # The guest's own root disk, if one was made here.
            self.drivers.storage.delete_volume(self.drivers.root_disks.root_disk_of(name))
        self._remove_config_drive(name)
        return Done()

    def receive_guest(self, command: ReceiveGuest) -> Done:
        for network in command.networks:
            self._implement_network(network)
        if self.drivers.config_drives is not None:
            self.drivers.config_drives.write(_spec(command.guest))
        return Done()

    def migrate_guest(self, command: MigrateGuest) -> GuestState:
        """Move the guest away, then let go of what it held here: its NICs' ports, its config
        drive, and the networks no guest here uses any more. What fails in that clean-up is
        logged, not answered: the guest has moved, and the plane must hear that."""
        name = command.name
        self.drivers.compute.migrate(name, command.target_host, command.target_address, live=command.live,
                                     copy_storage=command.copy_storage)
        for undo in ([lambda m=mac: self.drivers.network.unplug(name, m) for mac in command.macs]
                     + [lambda: self._remove_config_drive(name)]):
            try:
                undo()
            except DriverError as error:
                log.warning("guest %s moved to %s; could not clean up after it here: %s", name,
                            command.target_host, error)
        for network in command.networks:
            self._release_network(network)
        return GuestState("moved")

    def snapshot_guest(self, command: SnapshotGuest) -> SnapshotSaved:
        self.drivers.compute.snapshot(command.name, command.image)
        if command.destination is None:
            return SnapshotSaved()  # the image stays here, the one host that can deploy it
        try:
            checksum, size_gib = self.drivers.storage.export_image(command.image, command.destination)
        finally:
            # Copied, every host (this one too) makes root disks from secondary storage's copy;
            # not copied, the image is of no use: either way it goes.
            try:
                self.drivers.storage.delete_volume(command.image)
            except DriverError as error:
                log.warning("could not remove the saved image %s: %s", command.image, error)
        return SnapshotSaved(checksum, size_gib)

    def create_volume(self, command: CreateVolume) -> Done:
        if command.source is None:
            self.drivers.storage.create_volume(command.name, command.size_gib)
        else:
            if command.checksum is None:
                raise DriverError(f"volume {command.name} is to be made from {command.source}, but no checksum "
                                  "to verify it came with the command")
            self.drivers.storage.create_volume_from(command.name, command.size_gib, command.source, command.checksum)
        return Done()

    def _volume_or_root_disk(self, volume: str | None, root_of: str | None) -> str:
        """The volume a snapshot command names: itself, or the root disk of guest ``root_of``."""
        if root_of is None:
            if volume is None:
                raise DriverError("the command names neither a volume nor a guest's root disk")
            return volume
        if self.drivers.root_disks is None:
            raise DriverError(f"guest {root_of} has no root disk volume on this host (its guests boot from "
                              "the hypervisor's images)")
        return self.drivers.root_disks.root_disk_of(root_of)

    def snapshot_volume(self, command: SnapshotVolume) -> SnapshotSaved:
        name = self._volume_or_root_disk(command.volume, command.root_of)
        log.info("taking a snapshot of volume %s into %s", name, command.destination)
        # Half way: the point in time is captured, the copy to secondary storage begins (the
        # server moves the snapshot to backing_up).
        checksum, size_gib = self.drivers.storage.snapshot_volume(name, command.destination,
                                                                  taken=lambda: self.report_progress(50))
        return SnapshotSaved(checksum, size_gib)

    def revert_volume(self, command: RevertVolume) -> Done:
        name = self._volume_or_root_disk(command.volume, command.root_of)
        log.info("reverting volume %s to the snapshot %s", name, command.source)
        self.drivers.storage.revert_volume(name, command.source, command.checksum)
        return Done()

    def resize_volume(self, command: ResizeVolume) -> Done:
        self.drivers.storage.resize_volume(command.name, command.size_gib)
        return Done()

    def delete_volume(self, command: DeleteVolume) -> Done:
        self.drivers.storage.delete_volume(command.name)
        return Done()

    def attach_volume(self, command: AttachVolume) -> Done:
        self.drivers.storage.attach(command.guest, command.volume, command.device)
        return Done()

    def detach_volume(self, command: DetachVolume) -> Done:
        self.drivers.storage.detach(command.guest, command.volume)
        return Done()

    def plug_nic(self, command: PlugNic) -> Done:
        self._implement_network(command.network)
        self.drivers.network.plug(command.guest, command.network.name, command.mac, address=command.address)
        return Done()

    def unplug_nic(self, command: UnplugNic) -> Done:
        self.drivers.network.unplug(command.guest, command.mac)
        return Done()

    def download_template(self, command: DownloadTemplate) -> TemplateDownloaded:
        log.info("downloading template %s from %s into %s", command.template or "?", command.url,
                 command.destination)
        meter = ProgressMeter(self.report_progress)
        return TemplateDownloaded(self.drivers.secondary.download_template(
            command.url, command.checksum, command.destination, progress=meter))

    def remove_secondary_file(self, command: RemoveSecondaryFile) -> Done:
        log.info("removing %s from secondary storage", command.destination)
        self.drivers.secondary.remove_from_secondary(command.destination)
        return Done()


def _spec(guest: GuestDefinition) -> GuestSpec:
    return GuestSpec(name=guest.name, cores=guest.cores, memory_mib=guest.memory_mib, image=guest.image,
                     architecture=guest.architecture, hostname=guest.hostname, user_data=guest.user_data,
                     ssh_public_key=guest.ssh_public_key, nics=guest.nics, disks=guest.disks,
                     direct_boot=guest.direct_boot)


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
    def __init__(self, host_name: str, token: str, facts: HostFacts, drivers: HostDrivers, transport: Transport):
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
        check_version(reply.protocol_version, "the management server", us="this agent")
        self.host_id, self.heartbeat_seconds, self.poll_seconds = (
            reply.host_id, reply.heartbeat_seconds, reply.poll_seconds)
        return reply

    def heartbeat(self) -> None:
        """Tell the server this host is alive, with the states of all its guests (one bulk
        read), so it can bring the database in line. Sent from the thread that runs the
        commands, after their answers: the report is never older than an answer it follows."""
        self.transport(Heartbeat(self._registered_id(), self._guest_states()))

    def _guest_states(self) -> dict[str, str] | None:
        try:
            return self.runner.drivers.compute.guest_states()
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
        save_state = self.runner.drivers.save_state
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
