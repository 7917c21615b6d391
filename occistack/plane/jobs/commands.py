"""What the jobs tell hosts about guests: the names hypervisors know things by, a network's
spec, and the ``deploy_guest`` command with what a deploy job carries.

Outside handlers/ because two parties build these: the deploy handler, and the create use case
(plane/tenant/compute.py), which writes a deploy's first command itself in the request's
transaction (``Dispatcher.submit_waiting``).
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.hostagent.protocol import DeployGuest, GuestDefinition, GuestNetwork, RootDisk, VolumeAttachment
from occistack.model import Network, NetworkInterface, OsTemplate, SecondaryStorage, StorageLink, TemplateCopy, VirtualMachine
from occistack.model.template_states import TemplateCopyState
from occistack.plane.addresses import dhcp_server_address, public_ranges

_nics_table, _storage_links_table = NetworkInterface.__table__, StorageLink.__table__


def instance_name(vm: VirtualMachine) -> str:
    """The hypervisor's name for a guest, CloudStack style: i-<project>-<id>."""
    return f"i-{vm.project_id}-{vm.id}"


def volume_name(volume_id: str) -> str:
    return f"vol-{volume_id}"


def network_name(network_id: str) -> str:
    return f"net-{network_id}"


def network_spec(session: Session, network: Network) -> GuestNetwork:
    """What a host needs to implement a guest network: its name and VLAN tag, and for a
    private network with a subnet, where its DHCP server answers. A public network rides on the
    VLAN of its zone's public range, if that has one (its addresses are routed, not served)."""
    vlan = network.vlan
    if vlan is None and network.public and network.zone_id is not None:
        ranges = public_ranges(session, network.zone_id)
        vlan = ranges[0].vlan if ranges else None
    server = dhcp_server_address(network)
    if server is None:
        return GuestNetwork(network_name(network.id), vlan)
    return GuestNetwork(network_name(network.id), vlan, cidr=network.address, dhcp_server=server,
                        gateway=network.gateway)


def secondary_url(store_url: str, path: str) -> str:
    """``path`` inside the secondary storage at ``store_url``, keeping the URL's query (an NFS
    URL may carry its ports or protocol version there: ``nfs://s/export?version=4``)."""
    parts = urlsplit(store_url)
    return urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{path.lstrip('/')}"))


def deploy_command(session, vm: VirtualMachine, template: OsTemplate | None = None,
                   nics: list[NetworkInterface] | None = None, links: list[StorageLink] | None = None,
                   copy: TemplateCopy | None = None) -> DeployGuest:
    """The deploy_guest command of a VM: the guest's definition, the networks its host must
    implement, the volumes to attach. Rows the caller has at hand are passed in, others read."""
    template = template or session.get(OsTemplate, vm.template_id)
    nics = nics if nics is not None else nics_of(session, vm.id)
    links = links if links is not None else links_of(session, vm.id)
    vm.instance_name = vm.instance_name or instance_name(vm)
    networks = {nic.network_id: network_spec(session, nic.network) for nic in nics}
    guest = GuestDefinition(
        name=vm.instance_name, cores=vm.cores, memory_mib=int(round(vm.memory_gib * 1024)),
        image=template.term, architecture=vm.architecture or "x64", hostname=vm.hostname,
        user_data=vm.user_data, ssh_public_key=vm.ssh_public_key,
        nics=tuple((nic.mac, network_name(nic.network_id)) for nic in nics),
        disks=tuple((volume_name(link.volume_id), link.device_id) for link in links))
    root_disk = None
    if copy is None or copy.zone_id != vm.zone_id:
        copy = _ready_copy(session, template.id, vm.zone_id)
    if copy is not None and copy.secondary_path and template.checksum and copy.secondary_storage_id:
        # Where the host's storage finds the template the first time, to make root disks from:
        # the copy in the compute's own zone.
        store = session.get(SecondaryStorage, copy.secondary_storage_id)
        if store is not None:
            root_disk = RootDisk(template=f"template-{template.id}", checksum=template.checksum,
                                 source=secondary_url(store.url, copy.secondary_path),
                                 size_gib=max(vm.root_disk_gib or 0, template.size_gib))
    return DeployGuest(guest, networks=tuple(networks.values()),
                       volumes=tuple(VolumeAttachment(volume_name(link.volume_id), link.device_id) for link in links),
                       addresses={nic.mac: nic.address for nic in nics if nic.address}, root_disk=root_disk)


def _ready_copy(session, template_id: int, zone_id: int | None) -> TemplateCopy | None:
    return session.scalar(select(TemplateCopy).where(
        TemplateCopy.template_id == template_id, TemplateCopy.zone_id == zone_id,
        TemplateCopy.state == str(TemplateCopyState.READY)).limit(1))


def deploy_arguments(vm: VirtualMachine, template: OsTemplate, nics, links) -> dict:
    """What a deploy job carries so that its last step need not read the VM back: what the
    usage records and events of its success need, and which kinds of links it has."""
    return {"usage": {"project_id": vm.project_id, "zone_id": vm.zone_id, "cores": vm.cores,
                      "memory_gib": vm.memory_gib, "template": template.term,
                      # The offering's term is the resource_tpl's (CRTP sizes have none).
                      "offering": vm.resource_tpl.rpartition("#")[2] if vm.offering_id and vm.resource_tpl
                      else None},
            "links": [table.name for table, rows in ((_nics_table, nics), (_storage_links_table, links)) if rows]}


def nics_of(session, vm_id: str) -> list[NetworkInterface]:
    return list(session.scalars(select(NetworkInterface).where(NetworkInterface.vm_id == vm_id)
                                .order_by(NetworkInterface.interface)))


def links_of(session, vm_id: str) -> list[StorageLink]:
    return list(session.scalars(select(StorageLink).where(StorageLink.vm_id == vm_id)
                                .order_by(StorageLink.device_id)))
