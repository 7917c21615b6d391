"""A simulated host's node written to its state directory and read again by a new process's
drivers: guests in each power state (a hibernated one with its saved memory), root and data
volumes with their attachments, networks with their plugged NICs. libvirt's test driver only;
no libvirtd is started."""

from __future__ import annotations

from occistack.drivers.base import GuestSpec
from occistack.drivers.simulated_host import SimulatedHosts


def guest(name: str) -> GuestSpec:
    return GuestSpec(name=name, cores=1, memory_mib=256, image="cirros", nics=((f"52:54:00:00:00:0{name[-1]}", "net1"),))


def deploy(drivers, name: str) -> None:
    drivers.network.create_network("net1", 101)
    mac, network = guest(name).nics[0]
    drivers.network.plug(name, network, mac, address="10.1.0.5")
    drivers.compute.deploy(guest(name))


def test_a_node_comes_back_as_it_was_saved(tmp_path):
    before = SimulatedHosts(tmp_path)
    drivers = before.drivers("host1")
    for name in ("vm1", "vm2", "vm3", "vm4"):
        deploy(drivers, name)
    drivers.compute.power("vm2", "stop")
    drivers.compute.power("vm3", "suspend")
    drivers.compute.power("vm4", "hibernate")
    drivers.storage.create_volume("data1", 1.0)
    drivers.storage.attach("vm1", "data1", "vdb")
    drivers.save_state()
    before.close()

    after = SimulatedHosts(tmp_path).drivers("host1")
    assert after.compute.guest_states() == {"vm1": "running", "vm2": "stopped", "vm3": "suspended",
                                            "vm4": "stopped"}
    pool = after.compute.connection.current.storagePoolLookupByName("simulated")
    assert sorted(pool.listVolumes()) == ["vm1-root", "vm2-root", "vm3-root", "vm4-root"]
    assert after.storage.volumes["data1"]["attached_to"] == "vm1"
    assert after.network.networks == {"net1": {"vlan": 101}}
    assert after.network.ports["52:54:00:00:00:01"] == ("vm1", "net1")
    after.compute.power("vm4", "start")  # restores the hibernated guest's memory
    assert after.compute.state("vm4") == "running"
    after.storage.detach("vm1", "data1")
    after.compute.destroy("vm2")


def test_the_saved_pool_does_not_fill_up_with_each_restart(tmp_path):
    """The pool's allocation is libvirt's sum of its volumes, not a figure carried over and
    counted again on every load."""
    hosts = SimulatedHosts(tmp_path)
    drivers = hosts.drivers("host1")
    deploy(drivers, "vm1")
    drivers.save_state()
    allocations = []
    for _ in range(3):
        drivers = SimulatedHosts(tmp_path).drivers("host1")
        pool = drivers.compute.connection.current.storagePoolLookupByName("simulated")
        allocations.append(pool.info()[2])
        drivers.save_state()
    assert len(set(allocations)) == 1, allocations


def test_without_a_state_directory_nothing_is_kept(tmp_path):
    hosts = SimulatedHosts()
    drivers = hosts.drivers("host1")
    assert drivers.save_state is None
    deploy(drivers, "vm1")
    hosts.close()
    assert not hosts.directory.exists()
    again = SimulatedHosts()
    try:
        assert again.drivers("host1").compute.guest_states() == {}
    finally:
        again.close()


def test_a_guest_moves_between_simulated_hosts_in_the_state_it_had(tmp_path):
    hosts = SimulatedHosts(tmp_path)
    first, second = hosts.drivers("host1"), hosts.drivers("host2")
    deploy(first, "vm1")
    first.compute.migrate("vm1", "host2", "10.0.0.2")
    assert (first.compute.state("vm1"), second.compute.state("vm1")) == ("absent", "running")
    second.compute.power("vm1", "stop")
    second.compute.migrate("vm1", "host1", "10.0.0.1", live=False)
    assert (first.compute.state("vm1"), second.compute.state("vm1")) == ("stopped", "absent")
    try:
        first.compute.migrate("vm1", "host3", "10.0.0.3")
    except Exception as error:  # noqa: BLE001 - the driver's refusal is what is checked
        assert "cannot reach simulated host host3" in str(error)
    else:
        raise AssertionError("a move to an unknown host was not refused")
    assert first.compute.state("vm1") == "stopped"
    hosts.close()
