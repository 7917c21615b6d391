"""Bare-metal computes through OCCI, on the in-process plane with the fake power driver.

An administrator adds a BareMetal cluster with two nodes and their BMCs and two BareMetal
offerings through the admin API; users then create computes with those offerings' resource_tpl
mixins. Each compute takes a whole node (switched on from the requested boot device), its actions
switch the node through its BMC, delete powers it off and frees it, and every BMC failure leaves
the compute in error saying why, with an event. The same through a real BMC in front of a QEMU
guest is tests/integration/test_bare_metal_ipmi.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from occistack.drivers.power.base import BmcAddress
from occistack.drivers.power.fake import FakeMachine
from occistack.model import EventRecord, Host, VirtualMachine
from occistack.plane.jobs.handlers import bare_metal as bare_metal_handlers
from occistack.api.orchestration import server_plane
from tests.api.occi_face import (
    INFRA,
    attributes,
    entity_id,
    path_of,
)
from tests.api.test_management_plane import TEXT, compute_body, host_usage, state_of

RESOURCE_TPL = "http://occistack.local/occi/infrastructure/resource_tpl#"
ACTIONS = "http://schemas.ogf.org/occi/infrastructure/compute/action#"
BOOT_DEVICE = "occistack.compute.boot_device"


@dataclass
class Node:
    host_id: int
    name: str
    bmc: BmcAddress
    machine: FakeMachine


@pytest.fixture(scope="module")
def nodes(world, root):
    """A BareMetal cluster "metal" in the demo pod with two nodes behind simulated BMCs --
    metal1 (16 cores, 64 GiB) and metal2 (32 cores, 128 GiB) -- and two offerings:
    metal-small (at least 8 cores, 32 GiB) and metal-large (at least 32 cores, 128 GiB)."""
    power = server_plane(world.wsgi_app.registry).plane.services.power
    pod = next(pod for pod in root.get("/admin/pods?zone=zone1").json if pod["name"] == "pod1")
    cluster = root.post_json("/admin/clusters", {"pod_id": pod["id"], "name": "metal",
                                                 "hypervisor": "BareMetal"}).json
    found = {}
    sizes = (("metal1", 16, 65536), ("metal2", 32, 131072))
    for number, (name, cores, memory_mib) in enumerate(sizes, start=41):
        added = root.post_json("/admin/hosts", {"cluster_id": cluster["id"], "name": name,
                                                "address": f"10.0.0.{number}", "cpu_cores": cores, "cpu_mhz": 2000,
                                                "memory_mib": memory_mib}).json
        assert "agent_token" not in added, "a bare-metal node runs no agent and gets no token"
        assert added["status"] == "connecting"
        bmc = BmcAddress(f"10.0.2.{number}", username="ipmiadmin", password=f"secret-{name}")
        machine = power.add_machine(bmc)
        answer = root.post_json(f"/admin/hosts/{added['id']}/actions/bmc", {
            "address": bmc.address, "username": bmc.username, "password": bmc.password}).json
        assert "password" not in str(answer)
        found[name] = Node(added["id"], name, bmc, machine)
    for term, cores, memory in (("metal-small", 8, 32), ("metal-large", 32, 128)):
        root.post_json("/admin/offerings", {"term": term, "cores": cores, "memory_gib": memory,
                                            "hypervisor": "BareMetal"})
    return found


@pytest.fixture(autouse=True)
def healthy_bmcs(nodes, client):
    """Every test starts with both nodes' BMCs answering with the recorded credentials, and
    ends with its computes deleted, so a test that failed halfway leaves the nodes free."""
    def heal():
        for node in nodes.values():
            node.machine.reachable, node.machine.obeys_acpi = True, True
            node.machine.password = node.bmc.password

    heal()
    yield
    heal()
    listed = client.get("/compute/", headers={"Accept": "text/uri-list"}).text.split()
    for location in listed:
        client.delete(path_of(location), status="*")


def create(client, offering: str = "metal-small", *extra: str, status: int = 201):
    body = compute_body(f'Category: {offering}; scheme="{RESOURCE_TPL}"; class="mixin"', *extra, size=None)
    return client.post("/compute/", body, headers=TEXT, status=status)


def new_node_compute(client, *extra: str, offering: str = "metal-small") -> str:
    return entity_id(path_of(create(client, offering, *extra).headers["Location"]))


def act(client, vm: str, action: str, method: str | None = None, status: int = 200):
    body = f'Category: {action}; scheme="{ACTIONS}"; class="action"'
    if method is not None:
        body += f'\nX-OCCI-Attribute: method="{method}"'
    return client.post(f"/compute/{vm}?action={action}", body, headers=TEXT, status=status)


def vm_row(world, vm: str) -> VirtualMachine:
    with world.session_factory() as session:
        return session.get(VirtualMachine, vm)


def events(world, vm: str, action: str) -> list[tuple[str, str]]:
    with world.session_factory() as session:
        return [(row.state, row.description or "") for row in session.scalars(
            select(EventRecord).where(EventRecord.resource_id == vm, EventRecord.action == action)
            .order_by(EventRecord.id))]


# --- the administrator's side -----------------------------------------------------------------

def test_a_node_is_up_once_its_bmc_answered_and_its_offering_is_a_resource_tpl_with_a_boot_device(
        world, root, client, nodes):
    for node in nodes.values():
        host = root.get(f"/admin/hosts/{node.host_id}").json
        assert host["status"] == "up" and "answered: the node is off" in host["state_message"]
    discovery = client.get("/-/", headers={"Accept": "application/occi+json"}).json
    mixin = next(m for m in discovery["mixins"] if m["term"] == "metal-small")
    boot = mixin["attributes"][BOOT_DEVICE]
    assert boot["default"] == "network" and boot["mutable"] is True
    assert {"network", "pxe", "hd", "cdrom", "bios"} <= set(boot["pattern"]["enum"])


def test_a_node_whose_bmc_does_not_answer_stays_out_and_says_why(world, root, nodes):
    pod = next(pod for pod in root.get("/admin/pods?zone=zone1").json if pod["name"] == "pod1")
    cluster = next(c for c in root.get(f"/admin/clusters?pod_id={pod['id']}").json if c["name"] == "metal")
    added = root.post_json("/admin/hosts", {"cluster_id": cluster["id"], "name": "metal-lost", "address": "10.0.0.49",
                                            "cpu_cores": 64, "cpu_mhz": 2000, "memory_mib": 524288}).json
    root.post_json(f"/admin/hosts/{added['id']}/actions/bmc",
                   {"address": "10.0.2.49", "username": "ipmiadmin", "password": "nobody-listens"})
    host = root.get(f"/admin/hosts/{added['id']}").json
    assert host["status"] == "connecting"
    assert host["state_message"].startswith("cannot reach bare-metal node metal-lost: its BMC at 10.0.2.49:623 "
                                            "does not answer")
    assert events(world, str(added["id"]), "host.bmc")[-1][0] == "failed"
    root.delete(f"/admin/hosts/{added['id']}")


def test_what_a_bare_metal_node_cannot_have_is_refused_when_the_offering_is_made(root):
    for extra, why in (({"disk_gib": 100}, "no disk size"), ({"ha_enabled": True}, "cannot be HA"),
                       ({"storage_tags": ["ssd"]}, "no storage tags")):
        answer = root.post_json("/admin/offerings", {"term": "metal-odd", "cores": 1, "memory_gib": 1,
                                                     "hypervisor": "BareMetal", **extra}, status=400)
        assert why in answer.json["error"]["message"]
    answer = root.post_json("/admin/offerings", {"term": "odd", "cores": 1, "memory_gib": 1, "hypervisor": "Xen"},
                            status=400)
    assert "hypervisor 'Xen' is not one of the accepted values: KVM, BareMetal" in answer.json["error"]["message"]


# --- creating, placing, deleting ----------------------------------------------------------------

def test_a_compute_takes_a_whole_node_powered_on_from_the_network_and_delete_frees_it(world, client, nodes):
    metal1 = nodes["metal1"]
    boots = metal1.machine.boots
    vm = new_node_compute(client)
    row = vm_row(world, vm)
    assert (row.host_id, row.bare_metal, row.boot_device) == (metal1.host_id, True, "network")
    assert host_usage(world, "metal1") == (16 * 2000, 65536), "the whole node is reserved, not 8 cores and 32 GiB"
    assert (row.reserved_cpu_mhz, row.reserved_memory_mib) == (32000, 65536)
    assert (metal1.machine.power, metal1.machine.boot_device, metal1.machine.boots) == ("on", "network", boots + 1)
    shown = state_of(client, f"/compute/{vm}")
    assert shown["occi.compute.state"] == "active" and shown[BOOT_DEVICE] == "network"
    assert shown["occi.compute.cores"] == "8"
    rendered = client.get(f"/compute/{vm}", headers=TEXT).text
    assert "Link: </network" not in rendered and "Link: </storage" not in rendered, "its NICs and disks are its own"
    assert events(world, vm, "vm.deploy")[-1] == (
        "completed", "bare-metal node metal1 powered on, booting from network")

    client.delete(f"/compute/{vm}", status=200)
    client.get(f"/compute/{vm}", status=404)
    assert metal1.machine.power == "off"
    assert host_usage(world, "metal1") == (0, 0)
    assert "metal1 powered off and free again" in events(world, vm, "vm.destroy")[-1][1]


def test_no_second_compute_on_a_node_and_a_clear_409_when_none_is_free(world, client, nodes):
    first, second = new_node_compute(client), new_node_compute(client)
    assert {vm_row(world, first).host_id, vm_row(world, second).host_id} == {nodes["metal1"].host_id,
                                                                             nodes["metal2"].host_id}
    refused = create(client, status=409)
    assert refused.text == ("no free BareMetal host in any zone has 8000 MHz of CPU and 32768 MiB of memory: "
                            "1 cluster is not a BareMetal cluster, 2 hosts are taken")
    # A KVM compute is unaffected: it goes on a KVM host as ever.
    kvm = entity_id(path_of(client.post("/compute/", compute_body(), headers=TEXT, status=201).headers["Location"]))
    with world.session_factory() as session:
        assert session.get(Host, vm_row(world, kvm).host_id).hypervisor == "KVM"
    for vm in (first, second, kvm):
        client.delete(f"/compute/{vm}", status=200)


def test_the_smallest_node_big_enough_is_chosen(world, client, nodes):
    large = new_node_compute(client, offering="metal-large")
    assert vm_row(world, large).host_id == nodes["metal2"].host_id   # metal1 is too small for it
    small = new_node_compute(client)
    assert vm_row(world, small).host_id == nodes["metal1"].host_id
    for vm in (large, small):
        client.delete(f"/compute/{vm}", status=200)


def test_the_requested_boot_device_is_set_before_power_on(world, client, nodes):
    vm = new_node_compute(client, f'X-OCCI-Attribute: {BOOT_DEVICE}="hd"')
    assert nodes["metal1"].machine.boot_device == "disk"
    assert state_of(client, f"/compute/{vm}")[BOOT_DEVICE] == "disk"
    client.delete(f"/compute/{vm}", status=200)


def test_an_unknown_boot_device_is_a_400_listing_the_accepted_ones(client, nodes):
    refused = create(client, "metal-small", f'X-OCCI-Attribute: {BOOT_DEVICE}="floppy"', status=400)
    assert f"{BOOT_DEVICE}='floppy' is not accepted; expected one of network, pxe, hd, disk, cdrom, optical, " \
           "bios, setup" in refused.text
    # ... and a boot device is no attribute of a virtual machine's template at all.
    refused = client.post("/compute/", compute_body(f'X-OCCI-Attribute: {BOOT_DEVICE}="hd"'), headers=TEXT,
                          status=400)
    assert f"unknown attribute {BOOT_DEVICE}" in refused.text


def test_a_bare_metal_compute_takes_no_links_nor_contextualization(world, client, nodes):
    refused = create(client, "metal-small", f'Link: </network/public>; rel="{INFRA}network"; '
                                            f'category="{INFRA}networkinterface"', status=400)
    assert "a bare-metal compute takes no links" in refused.text
    refused = create(client, "metal-small", 'X-OCCI-Attribute: occi.compute.userdata="aGVsbG8="', status=400)
    assert "takes no contextualization" in refused.text
    assert host_usage(world, "metal1") == (0, 0), "a refused create reserves nothing"
    vm = new_node_compute(client)
    volume = entity_id(path_of(client.post("/storage/", "\n".join([
        f'Category: storage; scheme="{INFRA}"; class="kind"', "X-OCCI-Attribute: occi.storage.size=1"]),
        headers=TEXT, status=201).headers["Location"]))
    refused = client.post("/storagelink/", "\n".join([
        f'Category: storagelink; scheme="{INFRA}"; class="kind"',
        f'X-OCCI-Attribute: occi.core.source="/compute/{vm}"',
        f'X-OCCI-Attribute: occi.core.target="/storage/{volume}"']),
        headers=TEXT, status=400)
    assert "a bare-metal compute takes no storage links" in refused.text
    client.delete(f"/compute/{vm}", status=200)
    client.delete(f"/storage/{volume}", status=200)


# --- actions ------------------------------------------------------------------------------------

def test_stop_start_and_restart_switch_the_node_through_its_bmc(world, client, nodes, monkeypatch):
    machine = nodes["metal1"].machine
    vm = new_node_compute(client, f'X-OCCI-Attribute: {BOOT_DEVICE}="pxe"')
    rendered = client.get(f"/compute/{vm}", headers=TEXT).text
    assert f"{ACTIONS}stop" in rendered and f"{ACTIONS}restart" in rendered
    assert "suspend" not in rendered and "save" not in rendered, "a BMC cannot suspend a node nor save its disk"

    act(client, vm, "stop")   # graceful: an ACPI power-button press the OS obeys
    assert (machine.power, state_of(client, f"/compute/{vm}")["occi.compute.state"]) == ("off", "inactive")
    machine.boot_device = "disk"   # someone changed it meanwhile: start boots what the compute asks again
    boots = machine.boots
    act(client, vm, "start")
    assert (machine.power, machine.boot_device, machine.boots) == ("on", "network", boots + 1)
    assert state_of(client, f"/compute/{vm}")["occi.compute.state"] == "active"

    resets = machine.resets
    act(client, vm, "restart", "cold")
    assert machine.resets == resets + 1 and machine.power == "on"
    boots = machine.boots
    act(client, vm, "restart")   # graceful: shut down, then power on again
    assert (machine.boots, machine.resets, machine.power) == (boots + 1, resets + 1, "on")
    act(client, vm, "stop", "poweroff")
    assert machine.power == "off"
    assert [state for state, _ in events(world, vm, "vm.stop")] == ["completed", "completed"]
    act(client, vm, "start")

    for action in ("suspend", "save"):
        assert act(client, vm, action, status=400).text == (
            f"the action {action} is not available while the compute is active; available now: stop, restart")
    assert act(client, vm, "stop", "warm", status=400).text == \
        "method='warm' is not accepted; expected one of graceful, acpioff, poweroff"
    client.delete(f"/compute/{vm}", status=200)


def test_a_node_whose_os_ignores_the_power_button_leaves_a_graceful_stop_in_error(world, client, nodes,
                                                                                 monkeypatch):
    monkeypatch.setattr(bare_metal_handlers, "SOFT_OFF_WAIT_SECONDS", 0.3)
    monkeypatch.setattr(bare_metal_handlers, "SOFT_OFF_POLL_SECONDS", 0.05)
    vm = new_node_compute(client)
    nodes["metal1"].machine.obeys_acpi = False
    act(client, vm, "stop")
    shown = state_of(client, f"/compute/{vm}")
    assert shown["occi.compute.state"] == "error"
    assert shown["occi.compute.state.message"] == (
        "cannot shut down bare-metal node metal1: its operating system did not shut down within 0.3 s of an ACPI "
        "power-button press; use the method poweroff to cut its power, or cold to reset it")
    assert events(world, vm, "vm.stop")[-1][0] == "failed"
    act(client, vm, "stop", "poweroff")   # from error, the hard way works
    assert nodes["metal1"].machine.power == "off"
    client.delete(f"/compute/{vm}", status=200)


# --- failures -----------------------------------------------------------------------------------

@pytest.mark.parametrize("breakage, why", [
    ("unreachable", "deploy failed: cannot power on bare-metal node metal1: its BMC at 10.0.2.41:623 does not "
                    "answer (no answer from BMC 10.0.2.41:623)"),
    ("password", "deploy failed: cannot power on bare-metal node metal1: its BMC refused the recorded user name or "
                 "password (BMC 10.0.2.41:623 rejected the user name or password of user 'ipmiadmin')"),
    ("refuses", "deploy failed: cannot power on bare-metal node metal1: the chassis interlock is open"),
])
def test_a_failed_deploy_leaves_the_compute_in_error_saying_why_and_holding_its_node(world, client, nodes,
                                                                                     breakage, why):
    node = nodes["metal1"]
    if breakage == "unreachable":
        node.machine.reachable = False
    elif breakage == "password":
        node.machine.password = "changed-on-the-bmc"
    else:
        server_plane(world.wsgi_app.registry).plane.services.power.failures.fail_next(
            "power_on", "the chassis interlock is open")
    vm = new_node_compute(client)
    shown = state_of(client, f"/compute/{vm}")
    assert (shown["occi.compute.state"], shown["occi.compute.state.message"]) == ("error", why)
    assert events(world, vm, "vm.deploy")[-1] == ("failed", why.removeprefix("deploy failed: "))
    assert host_usage(world, "metal1") == (32000, 65536), "its power is unknown: the node stays reserved"

    node.machine.reachable, node.machine.password = True, node.bmc.password
    client.delete(f"/compute/{vm}", status=200)
    client.get(f"/compute/{vm}", status=404)
    assert node.machine.power == "off" and host_usage(world, "metal1") == (0, 0)


def test_a_delete_whose_bmc_does_not_answer_keeps_the_node_and_says_why(world, client, nodes):
    node = nodes["metal1"]
    vm = new_node_compute(client)
    node.machine.reachable = False
    client.delete(f"/compute/{vm}", status=200)
    shown = state_of(client, f"/compute/{vm}")
    assert shown["occi.compute.state"] == "error"
    assert shown["occi.compute.state.message"].startswith(
        "delete failed: cannot power off bare-metal node metal1: its BMC at 10.0.2.41:623 does not answer")
    assert events(world, vm, "vm.destroy")[-1][0] == "failed"
    assert node.machine.power == "on" and host_usage(world, "metal1") == (32000, 65536)
    node.machine.reachable = True
    client.delete(f"/compute/{vm}", status=200)
    assert node.machine.power == "off" and host_usage(world, "metal1") == (0, 0)


def test_a_bare_metal_compute_cannot_be_resized_nor_a_virtual_machine_become_one(world, client, nodes):
    vm = new_node_compute(client)
    act(client, vm, "stop")
    refused = client.post(f"/compute/{vm}", "\n".join([
        f'Category: metal-large; scheme="{RESOURCE_TPL}"; class="mixin"']), headers=TEXT, status=400)
    assert "a bare-metal compute is a whole node and cannot be resized" in refused.text
    changed = client.post(f"/compute/{vm}", f'X-OCCI-Attribute: {BOOT_DEVICE}="cdrom"', headers=TEXT, status=200)
    assert attributes(changed.text)[BOOT_DEVICE] == "cdrom"
    act(client, vm, "start")
    assert nodes["metal1"].machine.boot_device == "cdrom"
    client.delete(f"/compute/{vm}", status=200)

    kvm = entity_id(path_of(client.post("/compute/", compute_body(), headers=TEXT, status=201).headers["Location"]))
    act(client, kvm, "stop")
    refused = client.post(f"/compute/{kvm}", f'Category: metal-large; scheme="{RESOURCE_TPL}"; class="mixin"',
                          headers=TEXT, status=400)
    assert "a virtual machine cannot become one" in refused.text
    client.delete(f"/compute/{kvm}", status=200)


# --- deletes always work (issue 12) -----------------------------------------------------------------

@pytest.mark.parametrize("action, before", [("start", "stop"), ("stop", None), ("restart", None)])
def test_a_delete_supersedes_a_power_action_not_yet_carried_out(world, client, nodes, action, before):
    from webtest import TestApp

    node = nodes["metal1"]
    vm = new_node_compute(client)
    if before is not None:
        act(client, vm, before)
    plain = TestApp(world.wsgi_app, extra_environ=client.extra_environ)  # lets no job run
    act(plain, vm, action)
    plain.delete(f"/compute/{vm}", status=200)  # was 409 while starting, stopping or rebooting
    shown = state_of(plain, f"/compute/{vm}")
    assert shown["occi.compute.state.message"] == "being deleted"
    plain.delete(f"/compute/{vm}", status=200)
    server_plane(world.wsgi_app.registry).plane.settle()
    plain.get(f"/compute/{vm}", status=404)
    plain.delete(f"/compute/{vm}", status=404)
    assert events(world, vm, f"vm.{action}") == [], "the action was superseded before it reached the BMC"
    assert node.machine.power == "off" and host_usage(world, "metal1") == (0, 0)


def test_a_delete_right_after_the_create_never_powers_the_node_on(world, client, nodes):
    from webtest import TestApp

    node = nodes["metal1"]
    plain = TestApp(world.wsgi_app, extra_environ=client.extra_environ)  # lets no job run
    vm = entity_id(path_of(create(plain).headers["Location"]))
    plain.delete(f"/compute/{vm}", status=200)
    assert state_of(plain, f"/compute/{vm}")["occi.compute.state.message"] == "being deleted"
    server_plane(world.wsgi_app.registry).plane.settle()
    plain.get(f"/compute/{vm}", status=404)
    assert events(world, vm, "vm.deploy") == [("scheduled", "a whole bare-metal node, booting from network")]
    assert node.machine.power == "off" and host_usage(world, "metal1") == (0, 0)
