"""The agent's command runner: one method per command class, the optional capabilities used
exactly when HostDrivers has them, and commands it cannot read answered as failures."""

from __future__ import annotations

import pytest

from occistack.drivers.base import DhcpDriver, DriverError, RootDiskBuilder
from occistack.drivers.fake import FakeDrivers
from occistack.hostagent import protocol
from occistack.hostagent.agent import CommandRunner
from occistack.hostagent.protocol import Command
from tests.hostagent.test_protocol import EVERY_COMMAND


class RecordingRootDisks(RootDiskBuilder):
    def __init__(self, drivers: FakeDrivers) -> None:
        self.drivers, self.calls = drivers, []

    def ensure_template(self, template_name, source, checksum):
        self.calls.append(("ensure_template", template_name, source, checksum))
        return template_name

    def prepare_root_disk(self, guest_name, template_volume, size_gib):
        self.calls.append(("prepare_root_disk", guest_name, template_volume, size_gib))
        self.drivers.storage.create_volume(self.root_disk_of(guest_name), size_gib)
        return self.root_disk_of(guest_name)

    def root_disk_of(self, guest_name):
        return f"{guest_name}-root"


class RecordingDhcp(DhcpDriver):
    def __init__(self) -> None:
        self.served = []

    def configure_dhcp(self, network, cidr, server_address, gateway=None):
        self.served.append((network, cidr, server_address, gateway))

    def restore_dhcp(self):
        pass


def run(runner: CommandRunner, command) -> dict:
    name, payload = protocol.encode_command(command)
    return runner.run(Command(1, name, payload))


def test_every_command_has_its_method():
    assert set(CommandRunner(FakeDrivers()).methods) == set(protocol.COMMAND_TYPES.values())


def test_a_host_without_optional_capabilities_deploys_without_them():
    drivers = FakeDrivers()
    [deploy] = [command for command in EVERY_COMMAND if isinstance(command, protocol.DeployGuest)]
    deploy = protocol.DeployGuest(protocol.GuestDefinition("g1", 1, 64, "img", nics=(("52:54:00:00:00:01", "net-1"),)),
                                  networks=deploy.networks, root_disk=deploy.root_disk)
    assert run(CommandRunner(drivers), deploy) == {"state": "running"}
    assert drivers.compute.guests["g1"]["spec"].root_volume is None


def test_the_root_disk_builder_and_dhcp_are_used_when_the_host_has_them():
    drivers = FakeDrivers()
    drivers.root_disks, drivers.dhcp = RecordingRootDisks(drivers), RecordingDhcp()
    network = protocol.GuestNetwork("net-1", 100, cidr="10.1.0.0/24", dhcp_server="10.1.0.2", gateway="10.1.0.1")
    deploy = protocol.DeployGuest(protocol.GuestDefinition("g1", 1, 64, "img", nics=(("52:54:00:00:00:01", "net-1"),)),
                                  networks=(network,),
                                  root_disk=protocol.RootDisk("template-3", "nfs://s/e/t.qcow2", "sha256:ab", 4.0))
    runner = CommandRunner(drivers)
    assert run(runner, deploy) == {"state": "running"}
    assert drivers.root_disks.calls == [("ensure_template", "template-3", "nfs://s/e/t.qcow2", "sha256:ab"),
                                        ("prepare_root_disk", "g1", "template-3", 4.0)]
    assert drivers.compute.guests["g1"]["spec"].root_volume == "g1-root"
    assert drivers.dhcp.served == [("net-1", "10.1.0.0/24", "10.1.0.2", "10.1.0.1")]
    run(runner, protocol.DestroyGuest("g1", macs=("52:54:00:00:00:01",), networks=("net-1",)))
    assert "g1-root" not in drivers.storage.volumes  # its root disk goes with it


def test_downloads_go_to_the_host_s_secondary_storage():
    drivers = FakeDrivers()
    command = protocol.DownloadTemplate("https://images.example.org/t.qcow2", "sha256:" + "0" * 64, "nfs://s/e/t")
    assert run(CommandRunner(drivers), command) == {"size_gib": drivers.storage.TEMPLATE_SIZE_GIB}
    assert "nfs://s/e/t" in drivers.secondary.templates
    assert run(CommandRunner(drivers), protocol.RemoveSecondaryFile("nfs://s/e/t")) == {}
    assert "nfs://s/e/t" not in drivers.secondary.templates


@pytest.mark.parametrize("name, payload, refusal", [
    ("reboot_host", {}, "malformed reboot_host command: no agent command is named 'reboot_host'"),
    ("create_volume", {"name": "v", "size_gb": 1}, "CreateVolume has no field 'size_gb'"),
    ("create_volume", {"name": "v"}, "CreateVolume lacks the field size_gib"),
    ("power_guest", {"name": "g", "operation": 5}, "PowerGuest.operation must be text"),
])
def test_a_command_the_agent_cannot_read_is_a_failure_saying_why(name, payload, refusal):
    with pytest.raises(DriverError, match=refusal):
        CommandRunner(FakeDrivers()).run(Command(1, name, payload))


def test_registration_facts_come_from_the_compute_driver_or_else_the_operating_system():
    from occistack.hostagent.main import host_facts

    drivers = FakeDrivers()
    assert host_facts(drivers).hypervisor == drivers.compute.host_facts()["hypervisor"]

    def cannot_describe():
        raise DriverError("cannot describe its host")

    drivers.compute.host_facts = cannot_describe
    assert host_facts(drivers).hypervisor == "simulated"


# --- snapshots ---------------------------------------------------------------------------------

def test_a_volume_snapshot_reports_half_way_when_taken_and_answers_its_checksum():
    drivers = FakeDrivers()
    drivers.storage.create_volume("vol-1", 1.0)
    drivers.storage.write("vol-1", "marker")
    runner = CommandRunner(drivers)
    reported: list[int] = []
    runner.report_progress = reported.append
    saved = run(runner, protocol.SnapshotVolume("vol-1", "nfs://s/e/snapshots/1.qcow2"))
    assert reported == [50]
    assert saved["checksum"].startswith("sha256:")
    drivers.storage.write("vol-1", "overwritten")
    run(runner, protocol.RevertVolume("vol-1", "nfs://s/e/snapshots/1.qcow2", saved["checksum"]))
    assert drivers.storage.read("vol-1") == "marker"
    run(runner, protocol.CreateVolume("vol-2", 2.0, source="nfs://s/e/snapshots/1.qcow2", checksum=saved["checksum"]))
    assert drivers.storage.read("vol-2") == "marker" and drivers.storage.volume_size_gib("vol-2") == 2.0


def test_a_root_disk_snapshot_needs_a_host_that_makes_root_disks():
    drivers = FakeDrivers()
    with pytest.raises(DriverError, match="no root disk volume on this host"):
        run(CommandRunner(drivers), protocol.SnapshotVolume(None, "nfs://s/e/snapshots/2.qcow2", root_of="i-1-2"))
    drivers.root_disks = RecordingRootDisks(drivers)
    drivers.storage.create_volume("i-1-2-root", 8.0)
    saved = run(CommandRunner(drivers), protocol.SnapshotVolume(None, "nfs://s/e/snapshots/2.qcow2", root_of="i-1-2"))
    assert drivers.storage.snapshots["nfs://s/e/snapshots/2.qcow2"][1] == 8.0 and saved["checksum"]


# --- migration ---------------------------------------------------------------------------------

def test_a_guest_moves_to_another_host_and_its_old_host_lets_go_of_its_nics_and_networks():
    source, target = FakeDrivers(), FakeDrivers()
    hosts = {"h1": source.compute, "h2": target.compute}
    for drivers in (source, target):
        drivers.compute.peers = hosts.get
    network = protocol.GuestNetwork("net-1", 100)
    guest = protocol.GuestDefinition("g1", 1, 64, "img", nics=(("52:54:00:00:00:01", "net-1"),))
    run(CommandRunner(source), protocol.DeployGuest(guest, networks=(network,)))
    run(CommandRunner(target), protocol.ReceiveGuest(guest, networks=(network,)))
    assert target.network.networks == {"net-1": {"vlan": 100}}
    answer = run(CommandRunner(source), protocol.MigrateGuest("g1", "h2", "10.0.0.12", macs=("52:54:00:00:00:01",),
                                                              networks=("net-1",)))
    assert answer == {"state": "moved"}
    assert (source.compute.state("g1"), target.compute.state("g1")) == ("absent", "running")
    assert source.network.ports == {} and source.network.networks == {}
    assert source.compute.migrations == [("g1", "h2", True, False)]


def test_a_failed_move_leaves_the_guest_and_its_nics_where_they_were():
    source, target = FakeDrivers(), FakeDrivers()
    source.compute.peers = {"h2": target.compute}.get
    guest = protocol.GuestDefinition("g1", 1, 64, "img", nics=(("52:54:00:00:00:01", "net-1"),))
    run(CommandRunner(source), protocol.DeployGuest(guest, networks=(protocol.GuestNetwork("net-1"),)))
    source.compute.failures.fail_next("migrate", "migration job: unexpectedly failed")
    with pytest.raises(DriverError, match="unexpectedly failed"):
        run(CommandRunner(source), protocol.MigrateGuest("g1", "h2", "10.0.0.12", macs=("52:54:00:00:00:01",)))
    with pytest.raises(DriverError, match="cannot reach host h3"):
        run(CommandRunner(source), protocol.MigrateGuest("g1", "h3", "10.0.0.13"))
    assert source.compute.state("g1") == "running" and "52:54:00:00:00:01" in source.network.ports
    assert target.compute.state("g1") == "absent"
