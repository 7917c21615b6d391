"""The tenants' use cases called as a face calls them -- a PlaneContext and a request dataclass,
no HTTP: what may change on a compute, storage, a network and a link, and the messages of the
refusals (which name things by id, never by a face's URL)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from occistack.model import AffinityGroup, EntityMixin, NetworkInterface, OsTemplate, StorageLink
from occistack.model.states import LinkState, VmState
from occistack.plane.caller import Caller
from occistack.plane.context import PlaneContext, PlaneServices
from occistack.plane.dispatch import Operation
from occistack.plane.errors import Conflict, InvalidRequest, NotFound, NotPermitted
from occistack.plane.placement.service import PlacementService
from occistack.plane.tenant.changes import KEEP, TagChanges
from occistack.plane.tenant.compute_actions import ComputeAction, act_on_compute, delete_compute
from occistack.plane.tenant.compute_changes import (
    ComputeChanges,
    ComputeMixin,
    Contextualization,
    SizeTemplate,
    remove_from_compute,
    update_compute,
)
from occistack.plane.tenant.links import NicChanges, StorageLinkChanges, update_nic, update_storage_link
from occistack.plane.tenant.networks import NetworkChanges, NetworkRequest, create_network, update_network
from occistack.plane.tenant.storage import VolumeChanges, VolumeRequest, create_storage, update_storage
from tests.factories import NetworkFactory, ProjectFactory, UserFactory, VirtualMachineFactory, VolumeFactory


USER_DATA = "http://schemas.ogf.org/occi/infrastructure/compute#user_data"


@dataclass
class RecordingDispatcher:
    """Keeps the operations submitted instead of writing jobs: these tests look at the rules,
    not at the queue (tests/plane/test_jobs.py does)."""

    submitted: list[str] = field(default_factory=list)

    def submit(self, session, operation: Operation, caller=None, *args, **options):
        self.submitted.append(operation.name)

    def submit_waiting(self, session, operation: Operation, commands, caller=None, *args, **options):
        self.submitted.append(operation.name)


@pytest.fixture
def dispatcher() -> RecordingDispatcher:
    return RecordingDispatcher()


def context_of(session, dispatcher, project_id: int) -> PlaneContext:
    user = UserFactory(session=session, name=f"user-of-{project_id}", project_id=project_id)
    services = PlaneServices(dispatcher=dispatcher, placement=PlacementService(), password_min_length=8)
    return PlaneContext(session, Caller(user.id, user.name, project_id), services)


@pytest.fixture
def compute(session, dispatcher):
    """A running compute of its own project, and the context of a user of that project."""
    vm = VirtualMachineFactory(session=session, architecture="x86_64")
    return vm, context_of(session, dispatcher, vm.project_id)


# --- computes ----------------------------------------------------------------------------------------

def test_the_architecture_changes_only_while_the_compute_is_stopped(compute):
    vm, ctx = compute
    with pytest.raises(Conflict, match="^the architecture can only change while the compute is stopped$"):
        update_compute(ctx, vm.id, ComputeChanges(architecture="aarch64"))
    update_compute(ctx, vm.id, ComputeChanges(architecture="x86_64"))  # unchanged: accepted in any state
    vm.state = VmState.STOPPED
    update_compute(ctx, vm.id, ComputeChanges(architecture="aarch64", title="stopped"))
    assert (vm.architecture, vm.title) == ("aarch64", "stopped")


def test_what_a_compute_is_created_with_cannot_be_given_later(session, compute):
    vm, ctx = compute
    with pytest.raises(NotPermitted, match="the os_tpl of an existing compute cannot be changed"):
        update_compute(ctx, vm.id, ComputeChanges(template_terms=("another-image",)))
    with pytest.raises(NotPermitted, match="a compute cannot move to another availability zone"):
        update_compute(ctx, vm.id, ComputeChanges(zone_names=("z9",)))
    with pytest.raises(NotPermitted, match="a compute joins an affinity group when it is created, not later"):
        update_compute(ctx, vm.id, ComputeChanges(affinity_groups=("web",)))
    with pytest.raises(NotPermitted, match=r"^contextualization \(user_data\) is given when a compute is created"):
        update_compute(ctx, vm.id, ComputeChanges(
            contextualization=(Contextualization(USER_DATA, "user_data", "occi.compute.userdata"),)))
    with pytest.raises(NotPermitted, match="^the mixin http://example.org/x#y cannot be added to an existing "):
        update_compute(ctx, vm.id, ComputeChanges(other_mixins=("http://example.org/x#y",)))
    # What it already has may be named again (a client PUTs back its own rendering).
    own_term = session.scalar(select(OsTemplate.term).where(OsTemplate.id == vm.template_id))
    update_compute(ctx, vm.id, ComputeChanges(template_terms=(own_term,)))


def test_contextualization_given_at_creation_may_be_echoed_but_not_changed(session, compute):
    vm, ctx = compute
    vm.user_data = "#cloud-config"
    session.add(EntityMixin(entity_id=vm.id, mixin=USER_DATA))
    session.flush()
    echoed = Contextualization(USER_DATA, "user_data", "occi.compute.userdata", "#cloud-config")
    update_compute(ctx, vm.id, ComputeChanges(contextualization=(echoed,)))
    changed = Contextualization(USER_DATA, "user_data", "occi.compute.userdata", "#!/bin/sh")
    with pytest.raises(NotPermitted, match="^occi.compute.userdata is given when a compute is created and cannot"):
        update_compute(ctx, vm.id, ComputeChanges(contextualization=(changed,)))


def test_a_replace_clears_what_it_was_not_sent_and_an_update_keeps_it(compute):
    vm, ctx = compute
    update_compute(ctx, vm.id, ComputeChanges(title="web", summary="the front"))
    update_compute(ctx, vm.id, ComputeChanges(hostname="web1"))
    assert (vm.title, vm.summary, vm.hostname) == ("web", "the front", "web1")
    update_compute(ctx, vm.id, ComputeChanges(title=None, summary=None, tags=TagChanges(replace=True)))
    assert (vm.title, vm.summary, vm.hostname) == (None, None, "web1")


def test_a_running_compute_is_not_resized_and_a_stopped_one_is(compute):
    vm, ctx = compute
    with pytest.raises(Conflict, match="a compute can only be resized while stopped; it is active"):
        update_compute(ctx, vm.id, ComputeChanges(cores=2))
    small = SizeTemplate("http://example.org/sizes#small", cores=1, memory_gib=1.0)
    update_compute(ctx, vm.id, ComputeChanges(resource_tpl=small))  # the same sizes: only the template is new
    assert (vm.cores, vm.memory_gib, vm.resource_tpl) == (1, 1.0, small.identifier)


def test_a_compute_sheds_its_resource_template_but_not_its_affinity_group(session, compute):
    vm, ctx = compute
    vm.resource_tpl = "http://example.org/sizes#small"
    group = AffinityGroup(project_id=vm.project_id, name="web", kind="host affinity")
    session.add(group)
    session.flush()
    vm.affinity_group_id = group.id
    remove_from_compute(ctx, vm.id, ComputeMixin.RESOURCE_TPL, vm.resource_tpl)
    assert (vm.resource_tpl, vm.cores, vm.memory_gib) == (None, 1, 1.0)
    with pytest.raises(NotPermitted, match="a compute stays in the affinity group it was created in"):
        remove_from_compute(ctx, vm.id, ComputeMixin.AFFINITY_GROUP, "http://example.org/groups#web")
    with pytest.raises(NotPermitted, match="^the mixin web cannot be removed from a compute$"):
        remove_from_compute(ctx, vm.id, ComputeMixin.OTHER, "http://example.org/other#web")
    update_compute(ctx, vm.id, ComputeChanges(affinity_groups=("web",)))  # its own group, named again


def test_actions_and_deletes_go_through_the_dispatcher(compute, dispatcher):
    vm, ctx = compute
    assert act_on_compute(ctx, vm.id, ComputeAction("stop", "poweroff")) is None
    assert vm.state == VmState.STOPPING
    with pytest.raises(InvalidRequest, match="method 'sideways' is not accepted for restart; accepted: graceful"):
        act_on_compute(ctx, vm.id, ComputeAction("restart", "sideways"))
    with pytest.raises(InvalidRequest, match="a compute cannot hibernate; its actions are start, stop"):
        act_on_compute(ctx, vm.id, ComputeAction("hibernate"))
    delete_compute(ctx, vm.id)
    assert dispatcher.submitted == ["power_vm", "destroy_vm"]


def test_another_project_s_compute_is_not_found_by_its_id(session, compute, dispatcher):
    vm, _ = compute
    stranger = context_of(session, dispatcher, ProjectFactory(session=session).id)
    with pytest.raises(NotFound, match=f"^no compute {vm.id}$"):
        update_compute(stranger, vm.id, ComputeChanges(title="mine"))


# --- storage and networks ---------------------------------------------------------------------------

def test_storage_takes_only_its_zone_and_tags(session, dispatcher):
    ctx = context_of(session, dispatcher, ProjectFactory(session=session).id)
    with pytest.raises(NotPermitted, match="^the mixin http://example.org/x#y does not apply to a storage$"):
        create_storage(ctx, VolumeRequest(size_gib=1, other_mixins=("http://example.org/x#y",)))
    volume = VolumeFactory(session=session, id="vol-use-case", project_id=ctx.caller.project_id, size_gib=2)
    with pytest.raises(NotPermitted, match="^storage cannot move to another availability zone$"):
        update_storage(ctx, volume.id, VolumeChanges(zone_names=("z1",)))
    with pytest.raises(Conflict, match="storage cannot shrink"):
        update_storage(ctx, volume.id, VolumeChanges(size_gib=1))
    update_storage(ctx, volume.id, VolumeChanges(title="data", size_gib=KEEP))
    assert volume.title == "data"


def test_a_shared_network_takes_no_changes_of_its_own(session, dispatcher):
    ctx = context_of(session, dispatcher, ProjectFactory(session=session).id)
    shared = NetworkFactory(session=session, id="net-shared-use-case", project_id=None)
    with pytest.raises(NotPermitted, match="this network is shared by the whole cloud"):
        update_network(ctx, shared.id, NetworkChanges(title="mine"))
    update_network(ctx, shared.id, NetworkChanges())  # nothing asked: nothing refused
    with pytest.raises(NotPermitted, match="^the mixin http://example.org/x#y does not apply to a network$"):
        create_network(ctx, NetworkRequest(other_mixins=("http://example.org/x#y",)))


# --- links ---------------------------------------------------------------------------------------------

def test_a_plugged_interface_keeps_its_mac_and_a_storage_link_its_device(session, compute):
    vm, ctx = compute
    network = NetworkFactory(session=session, id="net-of-links", project_id=vm.project_id)
    volume = VolumeFactory(session=session, id="vol-of-links", project_id=vm.project_id, size_gib=1)
    nic = NetworkInterface(id="nic-1", project_id=vm.project_id, vm_id=vm.id, network_id=network.id,
                           interface="eth0", mac="52:54:00:00:00:01", state=LinkState.ACTIVE)
    disk = StorageLink(id="disk-1", project_id=vm.project_id, vm_id=vm.id, volume_id=volume.id,
                       device_id="/dev/vdb", state=LinkState.ACTIVE)
    session.add_all([nic, disk])
    session.flush()
    with pytest.raises(Conflict, match="^the MAC of a plugged interface cannot change"):
        update_nic(ctx, nic.id, NicChanges(mac="52:54:00:00:00:02"))
    update_nic(ctx, nic.id, NicChanges(mac="52:54:00:00:00:01".upper(), title="front"))
    with pytest.raises(Conflict, match="^the device of an attached storage link cannot change"):
        update_storage_link(ctx, disk.id, StorageLinkChanges(device_id="/dev/vdc"))
    update_storage_link(ctx, disk.id, StorageLinkChanges(mountpoint="/data"))
    assert (nic.title, disk.mountpoint) == ("front", "/data")
    assert session.scalar(select(StorageLink.device_id).where(StorageLink.id == disk.id)) == "/dev/vdb"
