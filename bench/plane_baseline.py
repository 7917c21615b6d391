"""The baseline of bench.plane: a compute's create → active as bare SQL, with no plane.

What the plane writes for one compute (read off its statements with an SQLAlchemy
``before_cursor_execute`` listener during a bench.plane run: about 31 per compute), done by
a bare loop on a database of the same kind, seeded alike, with the same concurrency: four
client threads and one agent thread per host.

- the "request", one transaction per compute: INSERT the compute's entity and
  virtual_machines rows, the NIC's entity and nics rows, its ip_allocations row and the public
  address's usage record; claim the host's CPU and memory and the pool's disk with the same
  conditional UPDATEs; INSERT the job (``waiting``, RETURNING its id), its agent command and
  the event; COMMIT, and wake the host's agent.
- the "agent", one thread per host: take its due commands (the same UPDATE … FOR UPDATE SKIP
  LOCKED … RETURNING) and COMMIT; then per command one transaction: record the answer
  (RETURNING the job), requeue the job, move the compute to running and its NIC to active,
  INSERT the running compute's usage record and the event, finish the job; COMMIT.

Left out, because they are what the plane is for: reading the template, quota, networks and
address range, placement's choice of host, the OCCI parsing and rendering, the Pyramid and
WSGI stack, the protocol between agent and gateway, the drivers, savepoints and heartbeats.
The host is taken round-robin; addresses and MACs are numbered.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
import uuid
from datetime import timedelta

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.engine import Engine

from occistack.model import Base, utcnow

_T = Base.metadata.tables
ENTITIES, VMS, NICS = _T["entities"], _T["virtual_machines"], _T["nics"]
ALLOCATIONS, USAGE, EVENTS = _T["ip_allocations"], _T["usage_records"], _T["events"]
HOSTS, POOLS, JOBS, COMMANDS = _T["hosts"], _T["storage_pools"], _T["jobs"], _T["agent_commands"]

_CLAIM_HOST = (update(HOSTS).where(
    HOSTS.c.id == bindparam("host"), HOSTS.c.status == "up", HOSTS.c.resource_state == "enabled",
    HOSTS.c.cpu_used_mhz + bindparam("cpu") <= HOSTS.c.cpu_cores * HOSTS.c.cpu_mhz * HOSTS.c.cpu_overcommit,
    HOSTS.c.memory_used_mib + bindparam("memory") <= HOSTS.c.memory_mib * HOSTS.c.memory_overcommit)
    .values(cpu_used_mhz=HOSTS.c.cpu_used_mhz + bindparam("cpu"),
            memory_used_mib=HOSTS.c.memory_used_mib + bindparam("memory"))
    .returning(HOSTS.c.cpu_used_mhz, HOSTS.c.memory_used_mib))
_CLAIM_POOL = (update(POOLS).where(
    POOLS.c.id == bindparam("pool"), POOLS.c.state == "up",
    POOLS.c.used_gib + bindparam("gib") <= POOLS.c.capacity_gib * POOLS.c.overprovisioning)
    .values(used_gib=POOLS.c.used_gib + bindparam("gib")).returning(POOLS.c.used_gib))
_INSERT_JOB = insert(JOBS).returning(JOBS.c.id)


def _take_commands(dialect: str):
    chosen = (select(COMMANDS.c.id).where(COMMANDS.c.host_id == bindparam("host"),
                                          COMMANDS.c.state == "pending")
              .order_by(COMMANDS.c.id).limit(20))
    if dialect == "postgresql":
        chosen = chosen.with_for_update(skip_locked=True)
    return (update(COMMANDS).where(COMMANDS.c.id.in_(chosen.scalar_subquery()))
            .values(state="delivered", delivered_at=bindparam("now"), deliveries=COMMANDS.c.deliveries + 1)
            .returning(COMMANDS.c.id, COMMANDS.c.name, COMMANDS.c.payload))


_RECORD_ANSWER = (update(COMMANDS).where(COMMANDS.c.id == bindparam("command"),
                                         COMMANDS.c.state.in_(["pending", "delivered"]))
                  .values(state="done", result=bindparam("result", type_=COMMANDS.c.result.type),
                          answered_at=bindparam("now"))
                  .returning(COMMANDS.c.job_id, COMMANDS.c.step))
_REQUEUE = (update(JOBS).where(JOBS.c.id == bindparam("job"), JOBS.c.state == "waiting")
            .values(state="queued", step=1, deadline=None))
_RUNNING = (update(VMS).where(VMS.c.id == bindparam("vm"), VMS.c.state == "starting")
            .values(state="running", state_message=None))
_NIC_ACTIVE = (update(NICS).where(NICS.c.vm_id == bindparam("vm"), NICS.c.state == "attaching")
               .values(state="active", state_message=None))
_DONE = (update(JOBS).where(JOBS.c.id == bindparam("job"), JOBS.c.state == "queued")
         .values(state="done", claimed_by="baseline", finished_at=bindparam("now")))


class _Seeded:
    """The ids of the seeded rows the computes refer to (as the plane would look them up)."""

    def __init__(self, engine: Engine) -> None:
        t = Base.metadata.tables
        with engine.connect() as connection:
            self.template_id = connection.scalar(select(t["os_templates"].c.id)
                                                 .where(t["os_templates"].c.term == "cirros-0.6"))
            self.project_id, self.user_id = connection.execute(
                select(t["users"].c.project_id, t["users"].c.id).where(t["users"].c.name == "demo")).one()
            self.hosts = list(connection.scalars(select(HOSTS.c.id).order_by(HOSTS.c.id)))
            self.pool_id = connection.scalar(select(POOLS.c.id).order_by(POOLS.c.id))
            ranges = t["ip_ranges"]
            self.zone_id, self.range_id, self.first_number = connection.execute(
                select(ranges.c.zone_id, ranges.c.id, ranges.c.first_number)
                .where(ranges.c.purpose == "public")).first()
            self.network_id = connection.scalar(select(t["networks"].c.id).where(t["networks"].c.id == "public"))


def bare_run(engine: Engine, count: int, threads: int) -> float:
    """Computes per second from the first request to the last answer, with no plane."""
    seeded = _Seeded(engine)
    dialect = engine.dialect.name
    take_commands = _take_commands(dialect)
    wake = {host: threading.Condition() for host in seeded.hosts}
    host_cycle = itertools.cycle(seeded.hosts)
    numbers = itertools.count(10)
    lock = threading.Lock()
    answered = 0
    all_answered = threading.Event()
    stop = threading.Event()
    errors: list[BaseException] = []

    def request() -> None:
        with lock:
            host, number = next(host_cycle), next(numbers)
        vm_id, nic_id, now = str(uuid.uuid4()), str(uuid.uuid4()), utcnow()
        address_number = seeded.first_number + number
        address = ".".join(str((address_number >> shift) & 255) for shift in (24, 16, 8, 0))
        mac = "02:" + ":".join(f"{(number >> shift) & 255:02x}" for shift in (32, 24, 16, 8, 0))
        instance = f"i-{seeded.project_id}-{vm_id}"
        payload = {"guest": {"name": instance, "cores": 1, "memory_mib": 1024, "image": "cirros-0.6",
                             "architecture": "x64", "hostname": None, "user_data": None,
                             "ssh_public_key": None, "nics": [[mac, "net-public"]], "disks": []},
                   "networks": [{"name": "net-public", "vlan": None}], "volumes": [], "addresses": {mac: address}}
        with engine.begin() as c:
            c.execute(insert(ENTITIES), {"id": vm_id, "kind": "compute", "project_id": seeded.project_id,
                                         "title": None, "summary": None, "created_at": now, "updated_at": now})
            c.execute(insert(VMS), {
                "id": vm_id, "hostname": None, "architecture": "x64", "cores": 1, "memory_gib": 1.0,
                "speed_ghz": 1.0, "state": "starting", "template_id": seeded.template_id,
                "resource_tpl": "http://schemas.ogf.org/occi/infrastructure/compute/template/1.1#small",
                "zone_id": seeded.zone_id, "instance_name": instance, "host_id": host,
                "storage_pool_id": seeded.pool_id, "reserved_cpu_mhz": 1000, "reserved_memory_mib": 1024,
                "root_disk_gib": 0.1, "ha_enabled": False, "bare_metal": False})
            c.execute(insert(ENTITIES), {"id": nic_id, "kind": "networkinterface", "project_id": seeded.project_id,
                                         "title": None, "summary": None, "created_at": now, "updated_at": now})
            c.execute(insert(NICS), {"id": nic_id, "vm_id": vm_id, "network_id": seeded.network_id,
                                     "interface": "eth0", "mac": mac, "state": "attaching", "address": address,
                                     "gateway": None, "allocation": "dynamic"})
            c.execute(insert(ALLOCATIONS), {"zone_id": seeded.zone_id, "range_id": seeded.range_id,
                                            "address": address, "number": address_number, "nic_id": nic_id,
                                            "project_id": seeded.project_id, "allocated_at": now})
            c.execute(insert(USAGE), {"project_id": seeded.project_id, "usage_type": "public_ip",
                                      "resource_id": nic_id, "zone_id": seeded.zone_id, "description": address,
                                      "started_at": now})
            c.execute(_CLAIM_HOST, {"host": host, "cpu": 1000, "memory": 1024}).one()
            c.execute(_CLAIM_POOL, {"pool": seeded.pool_id, "gib": 0.1}).one()
            job_id = c.scalar(_INSERT_JOB, {
                "operation": "deploy_vm", "entity_id": vm_id, "state": "waiting", "step": 0, "progress": {},
                "arguments": {"usage": {"project_id": seeded.project_id, "zone_id": seeded.zone_id, "cores": 1,
                                        "memory_gib": 1.0, "template": "cirros-0.6"}, "links": ["nics"]},
                "attempts": 0, "max_attempts": 3, "run_after": now, "deadline": now + timedelta(seconds=120),
                "project_id": seeded.project_id, "user_id": seeded.user_id, "claimed_by": "request",
                "created_at": now})
            c.execute(insert(COMMANDS), {"host_id": host, "job_id": job_id, "step": 0, "name": "deploy_guest",
                                         "payload": payload, "state": "pending", "deliveries": 0,
                                         "created_at": now})
            c.execute(insert(EVENTS), {"created_at": now, "action": "vm.deploy", "state": "scheduled",
                                       "resource_type": "compute", "resource_id": vm_id, "actor": "demo",
                                       "user_id": seeded.user_id, "project_id": seeded.project_id,
                                       "job_id": job_id, "description": f"compute {vm_id} requested"})
        with wake[host]:
            wake[host].notify()

    def agent(host: int) -> None:
        nonlocal answered
        try:
            while not stop.is_set():
                with engine.begin() as c:
                    commands = c.execute(take_commands, {"host": host, "now": utcnow()}).all()
                if not commands:
                    with wake[host]:
                        wake[host].wait(0.05)
                    continue
                for command in commands:
                    payload = command.payload if isinstance(command.payload, dict) else json.loads(command.payload)
                    vm_id = payload["guest"]["name"].split("-", 2)[2]  # i-<project>-<compute id>
                    now = utcnow()
                    with engine.begin() as c:
                        job_id, _ = c.execute(_RECORD_ANSWER, {"command": command.id, "now": now,
                                                               "result": {"ok": True}}).one()
                        c.execute(_REQUEUE, {"job": job_id})
                        c.execute(_RUNNING, {"vm": vm_id})
                        c.execute(_NIC_ACTIVE, {"vm": vm_id})
                        c.execute(insert(USAGE), {"project_id": seeded.project_id, "usage_type": "running_vm",
                                                  "resource_id": vm_id, "zone_id": seeded.zone_id, "cores": 1,
                                                  "memory_gib": 1.0, "started_at": now})
                        c.execute(insert(EVENTS), {"created_at": now, "action": "vm.deploy", "state": "completed",
                                                   "resource_type": "compute", "resource_id": vm_id,
                                                   "actor": "system", "project_id": seeded.project_id,
                                                   "job_id": job_id, "description": f"compute {vm_id} is running"})
                        c.execute(_DONE, {"job": job_id, "now": now})
                    with lock:
                        answered += 1
                        if answered >= count:
                            all_answered.set()
        except BaseException as error:  # noqa: BLE001 - reported by the caller
            errors.append(error)
            all_answered.set()

    def client(share: int) -> None:
        try:
            for _ in range(share):
                request()
        except BaseException as error:  # noqa: BLE001 - reported by the caller
            errors.append(error)
            all_answered.set()

    with engine.begin() as c:  # the agents connect: their hosts are up, as in the plane
        c.execute(update(HOSTS).values(status="up", last_heartbeat=utcnow()))
    agents = [threading.Thread(target=agent, args=(host,), daemon=True) for host in seeded.hosts]
    for thread in agents:
        thread.start()
    clients = [threading.Thread(target=client, args=(count // threads,)) for _ in range(threads)]
    started = time.perf_counter()
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    finished = all_answered.wait(120)
    elapsed = time.perf_counter() - started
    stop.set()
    for thread in agents:
        thread.join(5)
    if errors:
        raise SystemExit(f"the bare loop failed: {errors[0]!r}")
    if not finished:
        raise SystemExit(f"the bare loop answered only {answered} of {count} within 120 s")
    return count / elapsed
