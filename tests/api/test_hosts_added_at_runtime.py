"""Hosts added while the embedded default runs (``occistack.agents.inprocess = *``) get their
in-process agent at once -- whether the admin API of this server added them or the command
line in another process -- and a deleted host loses it, with its simulated node. The server
runs as ``make run`` runs it: worker and agents in threads, nothing settled by the test."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import transaction
from sqlalchemy import select
from webtest import TestApp

from occistack.model import Cluster, Host
from occistack.model.session import get_tm_session
from occistack.model.states import HostStatus
from occistack.api.orchestration import server_plane
from tests.conftest import ROOT, TEST_SECRET_KEY, basic, close_app, make_app
from tests.factories import ProjectFactory, UserFactory

WAIT_SECONDS = 10.0


@pytest.fixture
def server(db_url, demo_data, tmp_path):
    """The application with its background threads, and an administrator's client."""
    application = make_app(db_url, **{
        "occistack.worker": "thread", "occistack.drivers": "libvirt-test",
        "occistack.simulated_hosts.directory": str(tmp_path / "simulated-hosts"),
        "occistack.agents.inprocess_check_seconds": "0.2"})
    sessions = application.registry["occistack.session_factory"]
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(sessions, manager)
        UserFactory(session=session, name="site-admin", password="site-admin", role="admin",
                    project_id=ProjectFactory(session=session, name="site-admins").id)
    admin = TestApp(application, extra_environ={"HTTP_AUTHORIZATION": basic("site-admin", "site-admin")})
    yield application, admin
    close_app(application)
    server_plane(application.registry).drivers.simulated.close()


def eventually(check, what: str):
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {WAIT_SECONDS:.0f} s")
        time.sleep(0.1)


def host_status(application, name: str) -> str | None:
    with application.registry["occistack.session_factory"]() as session:
        return session.scalar(select(Host.status).where(Host.name == name))


def agent_names(application) -> set[str]:
    return {agent.host_name for agent in server_plane(application.registry).plane.agents.agents}


def demo_cluster(application) -> int:
    with application.registry["occistack.session_factory"]() as session:
        return session.scalar(select(Cluster.id).where(Cluster.name == "cluster1"))


def test_a_host_added_through_the_admin_api_goes_up_at_once_and_deleted_loses_its_agent(server, tmp_path):
    application, admin = server
    eventually(lambda: host_status(application, "host1") == HostStatus.UP, "the demo hosts coming up")
    added = admin.post_json("/admin/hosts", {"cluster_id": demo_cluster(application), "name": "host3",
                                             "address": "10.0.0.13", "cpu_cores": 16, "cpu_mhz": 2400,
                                             "memory_mib": 65536}, status=201).json
    eventually(lambda: admin.get(f"/admin/hosts/{added['id']}").json["status"] == "up", "host3 going up")
    assert "host3" in agent_names(application)
    assert (tmp_path / "simulated-hosts" / "host3" / "node.xml").exists()

    admin.delete(f"/admin/hosts/{added['id']}", status=200)
    eventually(lambda: "host3" not in agent_names(application), "host3's agent stopping")
    assert not (tmp_path / "simulated-hosts" / "host3").exists(), "a deleted host's simulated node stays behind"
    assert {"host1", "host2"} <= agent_names(application)


def test_a_host_added_by_the_command_line_in_another_process_goes_up(server, db_url, tmp_path):
    application, _admin = server
    ini = tmp_path / "cli.ini"
    ini.write_text(f"[app:main]\nuse = egg:occistack\nsqlalchemy.url = {db_url}\n"
                   f"occistack.secret_key = {TEST_SECRET_KEY}\n\n"
                   "[alembic]\nscript_location = occistack.model:migrations\n")
    # ``python -m`` from the checkout, so the process runs the code under test.
    command = [sys.executable, "-m", "occistack.cli", "-c", str(ini), "host", "add", "--zone", "zone1",
               "--pod", "pod1", "--cluster", "cluster1", "host4", "--address", "10.0.0.14", "--cpu-cores", "8",
               "--cpu-mhz", "2000", "--memory-mib", "16384"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(Path(ROOT))})
    assert done.returncode == 0, done.stderr
    eventually(lambda: host_status(application, "host4") == HostStatus.UP, "host4 going up")
    assert "host4" in agent_names(application)
