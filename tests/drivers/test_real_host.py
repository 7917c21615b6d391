"""A host agent's command runner on the real drivers of a host, as ``occistack-agent`` wires them:
QEMU/TCG through libvirtd, Open vSwitch (userspace datapath) with the guest network's VLAN and
its DHCP server, a dir storage pool, a NoCloud config drive.

One real guest boots (a Debian kernel with an initramfs holding busybox and the e1000 module):
it asks DHCP for an address, gets the one the management plane allocated, and says so on its
serial console. Network namespaces on the same bridge stand for the other guests: the one on
the guest's VLAN reaches it, the one on another VLAN does not. Destroying the guest and the
network leaves no domain, port, namespace or config drive behind.
"""

from __future__ import annotations

import subprocess
import time
import uuid

import pytest

from occistack.drivers.config_drive import read_config_drive
from occistack.hostagent.agent import CommandRunner
from occistack.hostagent.config import DriverConfig
from occistack.hostagent.protocol import Command
from occistack.hostagent.wiring import libvirt_host_drivers
from tests.conftest import missing_component
from tests.drivers.guest_image import GuestImageUnavailable, build_guest_image
from tests.drivers.netfixtures import SESSION_TOKEN, tx_off

NET_MARKER = "OCCISTACK-NET"
#: How a guest's PID 1 starts: load the NIC driver, take the address DHCP offers (noting the
#: DHCP server's in /dhcp-server), report it on the console.
NET_SETUP = f"""#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
insmod /e1000.ko
ip link set lo up
ip link set eth0 up
cat > /dhcp.sh <<'SCRIPT'
#!/bin/sh
[ "$1" = bound ] && ip addr add "$ip/$mask" dev "$interface" && echo "$serverid" > /dhcp-server
exit 0
SCRIPT
chmod +x /dhcp.sh
udhcpc -i eth0 -n -q -t 20 -T 1 -s /dhcp.sh >/dev/null 2>&1
echo "{NET_MARKER} $(ip -4 -o addr show eth0 | awk '{{print $4}}')" > /dev/console
"""
STAY_UP = "while true; do sleep 3600; done\n"
#: PID 1 of the guest: report its address, stay up.
NET_INIT = NET_SETUP + STAY_UP
MAC = "52:54:00:31:00:0a"
GUEST_ADDRESS = "10.231.0.10"
SUBNET = "10.231.0.0/24"
VLAN, OTHER_VLAN = 231, 232


@pytest.fixture
def guest_image():
    try:
        return build_guest_image(NET_INIT, kernel_modules=("e1000.ko",))
    except GuestImageUnavailable as error:
        missing_component(str(error))


@pytest.fixture
def host(libvirtd, qemu_pool, switch, tmp_path):
    running, reason = libvirtd
    if running is None:
        missing_component(reason)
    bridge = f"ot{SESSION_TOKEN}rh{uuid.uuid4().hex[:4]}"  # the session's prefix: swept if left behind
    config = DriverConfig(libvirt_uri=running.uri, domain_type="qemu", network="ovs", ovs_bridge=bridge,
                          ovs_db_socket=switch.db_socket, ovs_datapath="netdev", nic_model="e1000",
                          storage="pool", pool=qemu_pool, work_dir=str(tmp_path / "agent"))
    drivers = libvirt_host_drivers(config)
    yield drivers, switch, bridge, tmp_path / "agent"
    drivers.compute.close()
    switch.vsctl("--if-exists", "del-br", bridge)


def wait_for_console(path, marker: str, timeout: float = 120.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                if marker in line:
                    return line
        time.sleep(0.5)
    shown = path.read_text(errors="replace")[-2000:] if path.exists() else "(no console log)"
    raise AssertionError(f"the guest did not print {marker} within {timeout} s; console:\n{shown}")


def add_neighbour(plumbing, switch, bridge: str, suffix: str, vlan: int, address: str) -> str:
    """A namespace standing for another guest: an access port of ``vlan`` on the bridge, with
    ``address``/24 on its eth0; its name."""
    namespace = plumbing.namespace(suffix)
    port = f"{plumbing.prefix}{suffix[0]}"
    plumbing.veth(port, "eth0", namespace)
    tx_off(port)
    tx_off("eth0", namespace)
    switch.vsctl("add-port", bridge, port, f"tag={vlan}")
    subprocess.run(["ip", "-n", namespace, "addr", "add", f"{address}/24", "dev", "eth0"], check=True)
    subprocess.run(["ip", "-n", namespace, "link", "set", "eth0", "up"], check=True)
    return namespace


def pings(namespace: str, address: str) -> bool:
    done = subprocess.run(["ip", "netns", "exec", namespace, "busybox", "ping", "-c", "2", "-W", "2", address],
                          capture_output=True, text=True, timeout=30)
    return done.returncode == 0


def test_a_guest_boots_on_its_vlan_with_its_address_and_only_its_vlan_reaches_it(host, guest_image, plumbing):
    drivers, switch, bridge, work = host
    runner = CommandRunner(drivers)
    name = f"occitest-realhost-{bridge}"
    deploy = {
        "guest": {"name": name, "cores": 1, "memory_mib": 128, "image": "tiny", "hostname": "tiny-a.example.org",
                  "user_data": "#cloud-config\nruncmd: [echo hello]\n", "ssh_public_key": "ssh-ed25519 AAAAtest me@here",
                  "nics": [[MAC, "net-a"]], "direct_boot": [str(guest_image.kernel), str(guest_image.initrd),
                                                             guest_image.cmdline]},
        "networks": [{"name": "net-a", "vlan": VLAN, "cidr": SUBNET, "dhcp_server": "10.231.0.254", "gateway": None}],
        "addresses": {MAC: GUEST_ADDRESS},
    }
    try:
        assert runner.run(Command(1, "deploy_guest", deploy)) == {"state": "running"}
        line = wait_for_console(work / "consoles" / f"{name}.log", NET_MARKER)
        assert f"{GUEST_ADDRESS}/24" in line, f"the guest did not get its allocated address: {line}"

        # Its config drive carries the contextualization cloud-init would read.
        drive = read_config_drive((work / "config-drives" / f"{name}-config.iso").read_bytes())
        assert "ssh-ed25519 AAAAtest me@here" in drive["meta-data"] and "tiny-a" in drive["meta-data"]
        assert drive["user-data"].startswith("#cloud-config")

        for suffix, vlan, address in (("same", VLAN, "10.231.0.20"), ("other", OTHER_VLAN, "10.231.0.21")):
            add_neighbour(plumbing, switch, bridge, suffix, vlan, address)
        assert pings(plumbing.namespaces[0], GUEST_ADDRESS), "a neighbour on the guest's VLAN cannot reach it"
        assert not pings(plumbing.namespaces[1], GUEST_ADDRESS), "another VLAN reaches the guest"
        assert drivers.compute.guest_states()[name] == "running"
    finally:
        runner.run(Command(2, "destroy_guest", {"name": name, "macs": [MAC]}))
        for port in plumbing.links:
            switch.vsctl("--if-exists", "del-port", bridge, port)
        drivers.network.delete_network("net-a")
    assert drivers.compute.state(name) == "absent"
    assert not (work / "config-drives" / f"{name}-config.iso").exists()
    assert not switch.vsctl("--bare", "--columns=name", "find", "Interface",
                            f'external_ids:attached-mac="{MAC}"').split(), "the guest's port was left behind"
    # This network's namespace only: another run's (killed, or another checkout's) is not this test's.
    left = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    assert drivers.network.dhcp_namespace("net-a") not in left, "the DHCP namespace was left behind"
