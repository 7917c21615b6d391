"""``occistack vm``: the administrator's list of guests with its filters, one guest, and a
migration asked for at the command line (the worker, not running here, would carry it out)."""

from __future__ import annotations

from sqlalchemy import select

from occistack.model import Job, VirtualMachine, make_engine
from occistack.model.session import make_session_factory
from tests.factories import ClusterFactory, HostFactory, ProjectFactory, VirtualMachineFactory


def cloud(db_url) -> dict[str, str]:
    engine = make_engine({"sqlalchemy.url": db_url})
    try:
        with make_session_factory(engine)() as session, session.begin():
            cluster = ClusterFactory(session=session)
            first, second = (HostFactory(session=session, cluster_id=cluster.id, name=name) for name in ("h1", "h2"))
            first.cpu_used_mhz, first.memory_used_mib = 2000, 2048
            project = ProjectFactory(session=session, name="science")
            running, stopped = (
                VirtualMachineFactory(session=session, project_id=project.id, host_id=first.id, zone_id=cluster.zone_id,
                                      state=state, instance_name=f"i-{state}", reserved_cpu_mhz=1000,
                                      reserved_memory_mib=1024, title=f"{state}-one")
                for state in ("running", "stopped"))
            return {"running": running.id, "stopped": stopped.id}
    finally:
        engine.dispose()


def test_the_administrator_lists_shows_and_migrates_guests(occistack, db_url):
    vms = cloud(db_url)
    listed = occistack.json("vm", "list", "--host", "h1")
    assert {row["id"] for row in listed} == set(vms.values())
    assert {row["host"] for row in listed} == {"h1"}
    assert [row["id"] for row in occistack.json("vm", "list", "--state", "stopped")] == [vms["stopped"]]
    assert occistack.json("vm", "list", "--project", "science", "--host", "h2") == []
    assert "running" in occistack.refused("vm", "list", "--state", "asleep")
    shown = occistack.json("vm", "show", vms["running"])
    assert (shown["host"], shown["state"], shown["project"]) == ("h1", "running", "science")
    said = occistack("vm", "migrate", vms["running"], "--to", "h2").stdout
    assert "migrating from host h1 to h2" in said
    assert occistack.json("vm", "show", vms["running"])["state"] == "migrating"
    engine = make_engine({"sqlalchemy.url": db_url})
    try:
        with make_session_factory(engine)() as session:
            job = session.scalars(select(Job).where(Job.entity_id == vms["running"])).one()
            assert job.operation == "migrate_vm" and job.arguments["live"] is True
            assert session.get(VirtualMachine, vms["running"]).host_id is not None
    finally:
        engine.dispose()
    # One move at a time; and not onto the host it is on.
    assert "is migrating" in occistack.refused("vm", "migrate", vms["running"])
    assert "already" in occistack.refused("vm", "migrate", vms["stopped"], "--to", "h1")
    assert "no compute" in occistack.refused("vm", "show", "nothing-here")
