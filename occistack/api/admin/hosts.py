"""Admin views of hosts and primary and secondary storage, with their state changes."""

from __future__ import annotations

from occistack.model import Host, SecondaryStorage, StoragePool
from occistack.plane import admin
from occistack.api.admin.support import AdminResource, actor, add_resource_views, by_id, fields, query_ref, read_body

HOST_FIELDS = fields("zone:ref", "pod:ref", "cluster:ref!", "name!", "address!", "cpu_sockets:integer",
                     "cpu_cores:integer!", "cpu_mhz:integer!", "memory_mib:integer!", "cpu_overcommit:number",
                     "memory_overcommit:number", "tags:texts")
STORAGE_POOL_FIELDS = fields("zone:ref!", "pod:ref", "cluster:ref", "name!", "protocol!", "server", "path!",
                             "capacity_gib:number!", "overprovisioning:number", "tags:texts")
BMC_FIELDS = fields("address!", "port:integer", "username!", "password!")
SECONDARY_STORAGE_FIELDS = fields("zone:ref!", "name!", "url!", "capacity_gib:number!")


def _add_host(request):
    added = admin.add_host(request.dbsession, **read_body(request, HOST_FIELDS), actor=actor(request))
    # A bare-metal node runs no agent, so it gets no token.
    return added.host, ({"agent_token": added.agent_token} if added.agent_token else {})


def _set_bmc(request, row_id: int):
    return admin.set_host_bmc(request.dbsession, row_id, **read_body(request, BMC_FIELDS),
                              sealer=request.registry["occistack.sealer"],
                              dispatcher=request.registry["occistack.dispatcher"], actor=actor(request))


def _pool_action(change: str):
    return lambda request, row_id: admin.change_storage_pool_state(request.dbsession, row_id, change,
                                                                   actor=actor(request))


RESOURCES = (
    AdminResource(
        "hosts", Host, "host",
        list_rows=lambda request: admin.list_hosts(request.dbsession, zone=query_ref(request, "zone"),
                                                   pod=query_ref(request, "pod"),
                                                   cluster=query_ref(request, "cluster")),
        create=_add_host,
        remove=by_id(admin.remove_host),
        actions={
            "enable": by_id(admin.enable_host),
            "disable": by_id(admin.disable_host),
            "maintenance": by_id(admin.prepare_host_maintenance),
            "cancel-maintenance": by_id(admin.cancel_host_maintenance),
            "bmc": _set_bmc,
            "clear-bmc": by_id(admin.clear_host_bmc),
        },
    ),
    AdminResource(
        "storage-pools", StoragePool, "primary storage pool",
        list_rows=lambda request: admin.list_storage_pools(request.dbsession, zone=query_ref(request, "zone")),
        create=lambda request: admin.add_storage_pool(request.dbsession, **read_body(request, STORAGE_POOL_FIELDS),
                                                      actor=actor(request)),
        remove=by_id(admin.remove_storage_pool),
        actions={change: _pool_action(change) for change in admin.POOL_STATE_CHANGES},
    ),
    AdminResource(
        "secondary-storage", SecondaryStorage, "secondary storage",
        list_rows=lambda request: admin.list_secondary_storage(request.dbsession, zone=query_ref(request, "zone")),
        create=lambda request: admin.add_secondary_storage(request.dbsession,
                                                           **read_body(request, SECONDARY_STORAGE_FIELDS),
                                                           actor=actor(request)),
        remove=by_id(admin.remove_secondary_storage),
        actions={
            "enable": by_id(admin.enable_secondary_storage),
            "disable": by_id(admin.disable_secondary_storage),
        },
    ),
)


def includeme(config) -> None:
    for resource in RESOURCES:
        add_resource_views(config, resource)
