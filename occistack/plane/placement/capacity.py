"""Capacity in the database: claiming and releasing a host's CPU and memory and a pool's GiB.

Each claim is one conditional UPDATE that checks the limit in its own WHERE clause, so two
concurrent requests can never both take the last of a host: the second UPDATE finds the row
changed (it waits for the first's row lock on PostgreSQL) and matches nothing. It runs in the
request's transaction; a rollback gives the capacity back with everything else.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Float, Integer, and_, bindparam, case, update
from sqlalchemy.orm import Session

from occistack.model import Host, StoragePool
from occistack.model.states import HostStatus, ResourceState, StoragePoolState

hosts = Host.__table__
pools = StoragePool.__table__


@dataclass(frozen=True, slots=True)
class HostUsage:
    cpu_used_mhz: int
    memory_used_mib: int


def _claim_host_statement():
    fits = and_(
        hosts.c.id == bindparam("host"),
        hosts.c.status == str(HostStatus.UP),
        hosts.c.resource_state == str(ResourceState.ENABLED),
        hosts.c.cpu_used_mhz + bindparam("cpu", type_=Integer)
        <= hosts.c.cpu_cores * hosts.c.cpu_mhz * hosts.c.cpu_overcommit,
        hosts.c.memory_used_mib + bindparam("memory", type_=Integer) <= hosts.c.memory_mib * hosts.c.memory_overcommit,
    )
    return (update(hosts).where(fits)
            .values(cpu_used_mhz=hosts.c.cpu_used_mhz + bindparam("cpu", type_=Integer),
                    memory_used_mib=hosts.c.memory_used_mib + bindparam("memory", type_=Integer))
            .returning(hosts.c.cpu_used_mhz, hosts.c.memory_used_mib)
            .execution_options(synchronize_session=False))


#: Built once: constructing the statement costs more than the database takes to run it.
_CLAIM_HOST = _claim_host_statement()


def _execute(session: Session, statement, parameters: dict):
    """Run a claim on the session's connection, in its transaction, after flushing what the
    session holds (as the ORM's autoflush would). A claim is a Core UPDATE … RETURNING with no
    ORM object to keep in step, and the ORM's path for such a statement costs a sixth of the
    claim's time (bench.placement measured 810 us against 690 us)."""
    session.flush()
    return session.connection().execute(statement, parameters)


def claim_host(session: Session, host_id: int, cpu_mhz: int, memory_mib: int) -> HostUsage | None:
    """Reserve on a host that is up, enabled and has room (with its overcommit factors); the
    host's usage after the claim, or None when it cannot take it."""
    row = _execute(session, _CLAIM_HOST, {"host": host_id, "cpu": cpu_mhz, "memory": memory_mib}).first()
    return None if row is None else HostUsage(row.cpu_used_mhz, row.memory_used_mib)


def _claim_whole_host_statement():
    """Take every MHz and MiB of a host nothing holds: a bare-metal node is one compute's alone.
    Its BMC must be recorded, since it is how the node is switched on."""
    untouched = and_(
        hosts.c.id == bindparam("host"),
        hosts.c.status == str(HostStatus.UP),
        hosts.c.resource_state == str(ResourceState.ENABLED),
        hosts.c.bmc_address.is_not(None),
        hosts.c.cpu_used_mhz == 0,
        hosts.c.memory_used_mib == 0,
    )
    return (update(hosts).where(untouched)
            .values(cpu_used_mhz=hosts.c.cpu_cores * hosts.c.cpu_mhz, memory_used_mib=hosts.c.memory_mib)
            .returning(hosts.c.cpu_used_mhz, hosts.c.memory_used_mib)
            .execution_options(synchronize_session=False))


_CLAIM_WHOLE_HOST = _claim_whole_host_statement()


def claim_whole_host(session: Session, host_id: int) -> HostUsage | None:
    """Reserve all of a host that is up, enabled, has a BMC and holds nothing yet; its usage
    after the claim (its whole CPU and memory), or None when someone holds any of it."""
    row = _execute(session, _CLAIM_WHOLE_HOST, {"host": host_id}).first()
    return None if row is None else HostUsage(row.cpu_used_mhz, row.memory_used_mib)


def release_host(session: Session, host_id: int | None, cpu_mhz: int, memory_mib: int) -> None:
    """Give back what a VM reserved (never below zero: a host re-added with fresh counters
    may hold less than its old VMs claimed)."""
    if host_id is None or (cpu_mhz == 0 and memory_mib == 0):
        return
    session.execute(
        update(hosts).where(hosts.c.id == host_id)
        .values(cpu_used_mhz=_at_least_zero(hosts.c.cpu_used_mhz - cpu_mhz),
                memory_used_mib=_at_least_zero(hosts.c.memory_used_mib - memory_mib))
        .execution_options(synchronize_session=False))


def claim_pool(session: Session, pool_id: int, gib: float) -> float | None:
    """Reserve ``gib`` on a primary storage pool that is up and has room (with its
    over-provisioning factor); its usage after the claim, or None."""
    row = _execute(session, _CLAIM_POOL, {"pool": pool_id, "gib": gib}).first()
    return None if row is None else row.used_gib


def _claim_pool_statement():
    gib = bindparam("gib", type_=Float)
    fits = and_(pools.c.id == bindparam("pool"), pools.c.state == str(StoragePoolState.UP),
                pools.c.used_gib + gib <= pools.c.capacity_gib * pools.c.overprovisioning)
    return (update(pools).where(fits).values(used_gib=pools.c.used_gib + gib).returning(pools.c.used_gib)
            .execution_options(synchronize_session=False))


_CLAIM_POOL = _claim_pool_statement()


def release_pool(session: Session, pool_id: int | None, gib: float) -> None:
    if pool_id is None or not gib:
        return
    session.execute(update(pools).where(pools.c.id == pool_id)
                    .values(used_gib=_at_least_zero(pools.c.used_gib - gib))
                    .execution_options(synchronize_session=False))


def _at_least_zero(expression):
    return case((expression < 0, 0), else_=expression)
