"""Admin views of hosts and primary and secondary storage, with their state changes."""

from __future__ import annotations

from occistack.plane.admin.cases import hosts, storage
from occistack.plane.admin.cases.common import Switch
from occistack.plane.admin.cases.hosts import HostAction, HostBmc, HostChanges, HostFilter, NewHost
from occistack.plane.admin.cases.storage import (
    NewSecondaryStorage,
    NewStoragePool,
    PoolAction,
    SecondaryStorageChanges,
    StoragePoolChanges,
)
from occistack.api.admin.support import (
    AdminResource,
    add_resource_views,
    body_as,
    by_id,
    changes_as,
    fields,
    query_ref,
    record_json,
)

HOST_FIELDS = fields("zone:ref", "pod:ref", "cluster:ref!", "name!", "address!", "cpu_sockets:integer",
                     "cpu_cores:integer!", "cpu_mhz:integer!", "memory_mib:integer!", "cpu_overcommit:number",
                     "memory_overcommit:number", "tags:texts")
HOST_CHANGES = fields("tags:texts?", "cpu_overcommit:number", "memory_overcommit:number")
STORAGE_POOL_FIELDS = fields("zone:ref!", "pod:ref", "cluster:ref", "name!", "protocol!", "server", "path!",
                             "capacity_gib:number!", "overprovisioning:number", "tags:texts")
STORAGE_POOL_CHANGES = fields("name", "tags:texts?", "capacity_gib:number", "overprovisioning:number")
BMC_FIELDS = fields("address!", "port:integer", "username!", "password!")
SECONDARY_STORAGE_FIELDS = fields("zone:ref!", "name!", "url!", "capacity_gib:number!")
SECONDARY_STORAGE_CHANGES = fields("name", "url", "capacity_gib:number")


def _add_host(request):
    added = hosts.add_host(request.plane, body_as(request, HOST_FIELDS, NewHost))
    # A bare-metal node runs no agent, so it gets no token.
    return added.host, ({"agent_token": added.agent_token} if added.agent_token else {})


def _set_bmc(request, row_id: int):
    return hosts.set_host_bmc(request.plane, row_id, body_as(request, BMC_FIELDS, HostBmc))


RESOURCES = (
    AdminResource(
        "hosts", "host", by_id(hosts.show_host),
        list_records=lambda request: hosts.list_hosts(request.plane, HostFilter(
            zone=query_ref(request, "zone"), pod=query_ref(request, "pod"), cluster=query_ref(request, "cluster"))),
        create=_add_host,
        remove=by_id(hosts.remove_host),
        update=lambda request, host_id: hosts.update_host(request.plane, host_id,
                                                          changes_as(request, HOST_CHANGES, HostChanges)),
        # guests: the virtual machines on it -- during a maintenance, those left to move away.
        render=lambda record: record_json(record, guests=record.guests),
        actions={
            "enable": by_id(hosts.act_on_host, HostAction.ENABLE),
            "disable": by_id(hosts.act_on_host, HostAction.DISABLE),
            "maintenance": by_id(hosts.act_on_host, HostAction.MAINTENANCE),
            "cancel-maintenance": by_id(hosts.act_on_host, HostAction.CANCEL_MAINTENANCE),
            "bmc": _set_bmc,
            "clear-bmc": by_id(hosts.act_on_host, HostAction.CLEAR_BMC),
        },
    ),
    AdminResource(
        "storage-pools", "primary storage pool", by_id(storage.show_storage_pool),
        list_records=lambda request: storage.list_storage_pools(request.plane, query_ref(request, "zone")),
        create=lambda request: storage.add_storage_pool(request.plane,
                                                        body_as(request, STORAGE_POOL_FIELDS, NewStoragePool)),
        remove=by_id(storage.remove_storage_pool),
        update=lambda request, pool_id: storage.update_storage_pool(
            request.plane, pool_id, changes_as(request, STORAGE_POOL_CHANGES, StoragePoolChanges)),
        actions={action.value: by_id(storage.act_on_storage_pool, action) for action in PoolAction},
    ),
    AdminResource(
        "secondary-storage", "secondary storage", by_id(storage.show_secondary_storage),
        list_records=lambda request: storage.list_secondary_storage(request.plane, query_ref(request, "zone")),
        create=lambda request: storage.add_secondary_storage(
            request.plane, body_as(request, SECONDARY_STORAGE_FIELDS, NewSecondaryStorage)),
        remove=by_id(storage.remove_secondary_storage),
        update=lambda request, store_id: storage.update_secondary_storage(
            request.plane, store_id, changes_as(request, SECONDARY_STORAGE_CHANGES, SecondaryStorageChanges)),
        actions={action.value: by_id(storage.act_on_secondary_storage, action) for action in Switch},
    ),
)


def includeme(config) -> None:
    for resource in RESOURCES:
        add_resource_views(config, resource)
