"""The server under gunicorn with TLS, as production.ini runs it: users with certificates,
RFC 3820 proxies and VOMS proxies accepted and given their projects; expired, wrong-CA, revoked
and wrong-VO credentials refused; and a real host agent (HttpTransport with its host
certificate) registering and answering commands in mutual TLS, speaking only for its host."""

from __future__ import annotations

import threading

import pytest
import requests
from sqlalchemy import select

from occistack.drivers.fake import FakeDrivers
from occistack.hostagent.agent import Agent
from occistack.hostagent.protocol import PROTOCOL_VERSION, Heartbeat, Register
from occistack.hostagent.transport import AgentRefused, HttpTransport, ServerUnreachable, TlsFiles
from occistack.model import AgentCommand, Host, make_engine
from occistack.model.session import make_session_factory
from occistack.model.states import CommandState, HostStatus
from tests.federation.pki import Grid, pem
from tests.integration.test_agent_http import FACTS, wait_for
from tests.integration.tls_servers import app_section, gunicorn_tls

# PostgreSQL: the server runs in other processes, and NOTIFY tells their long polls of commands.
pytestmark = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)

RULES = """
rules:
  - match: {issuer: x509, vo: vo.example, vo_role: operator}
    project: operators
  - match: {dn: "/C=EU/O=Test Grid/CN=Alice Tester"}
    project: demo
"""


@pytest.fixture
def site(db_url, demo_data, tmp_path):
    grid = Grid(tmp_path)
    (tmp_path / "mapping.yaml").write_text(RULES)
    (tmp_path / "ca.pem").write_bytes(pem(grid.ca.certificate))
    certificate, key = grid.server.write_pair(tmp_path, "hostcert")
    app = app_section(db_url, **{
        "occistack.x509.ca_dir": str(grid.ca_dir), "occistack.x509.vomsdir": str(grid.vomsdir),
        "occistack.x509.reload_seconds": "0", "occistack.mapping_file": str(tmp_path / "mapping.yaml"),
        "occistack.agents.credentials": "certificate", "occistack.agents.heartbeat_seconds": "1"})
    server = gunicorn_tls(tmp_path, app, certificate, key, grid.ca_dir, tmp_path / "ca.pem")
    engine = make_engine({"sqlalchemy.url": db_url})
    try:
        yield grid, server, make_session_factory(engine), tmp_path
    finally:
        server.stop()
        engine.dispose()


def get(server, tmp_path, cert):
    return requests.get(f"{server.url}/-/", cert=cert, verify=str(tmp_path / "ca.pem"), timeout=30,
                        headers={"Accept": "text/plain"})


def test_users_certificates_and_proxies_over_tls(site):
    grid, server, session_factory, tmp_path = site
    user_cert, user_key = grid.alice.write_pair(tmp_path, "alice")
    accepted = {
        "user certificate": (str(user_cert), str(user_key)),
        "RFC 3820 proxy": str(grid.alice.proxy().write(tmp_path / "proxy.pem")),
        "VOMS proxy": str(grid.voms_proxy(grid.alice, "vo.example", ["/vo.example/Role=operator"])),
    }
    for what, cert in accepted.items():
        response = get(server, tmp_path, cert)
        assert response.status_code == 200, f"{what}: {response.status_code} {response.text}"

    nothing = get(server, tmp_path, None)
    assert nothing.status_code == 401 and "or a client certificate or (VOMS) proxy over TLS" in nothing.text

    rita = grid.ca.issue("Rita Revoked")
    grid.revoke(rita)
    refused = {
        "revoked": (rita.proxy().write(tmp_path / "revoked.pem"), "was revoked by its CA"),
        "wrong VO": (grid.voms_proxy(grid.alice, "other.vo", ["/other.vo"]), "VO 'other.vo', which this site does "
                                                                               "not trust"),
    }
    for what, (cert, message) in refused.items():
        response = get(server, tmp_path, str(cert))
        assert response.status_code == 401 and message in response.text, f"{what}: {response.text}"

    unmapped = get(server, tmp_path, str(grid.ca.issue("Bob Unmapped").proxy().write(tmp_path / "bob.pem")))
    assert unmapped.status_code == 403 and "presented subject '/C=EU/O=Test Grid/CN=Bob Unmapped'" in unmapped.text

    # What the TLS handshake itself refuses never reaches the application.
    for what, credential in {"expired": grid.alice.proxy(expired=True),
                             "wrong CA": grid.rogue_ca.issue("Alice Tester")}.items():
        with pytest.raises(requests.exceptions.ConnectionError):
            get(server, tmp_path, str(credential.write(tmp_path / "refused.pem")))


def test_a_host_agent_in_mutual_tls_speaks_for_its_host_only(site):
    grid, server, session_factory, tmp_path = site
    host1 = grid.ca.issue("host1.example.org", dns_names=["host1"], server=True)
    tls = TlsFiles(str(tmp_path / "ca.pem"), *map(str, host1.write_pair(tmp_path, "host1")))
    agent = Agent("host1", "", FACTS, FakeDrivers(), HttpTransport(server.url, "", tls))
    stop = threading.Event()
    thread = threading.Thread(target=agent.run_forever, args=(stop,), daemon=True)
    thread.start()
    try:
        def host(name):
            with session_factory() as session:
                return session.scalar(select(Host).where(Host.name == name))

        wait_for(lambda: host("host1").status == HostStatus.UP, timeout=60, what="the agent registering over mTLS")
        with session_factory() as session, session.begin():
            command = AgentCommand(host_id=host("host1").id, name="create_volume", payload={"name": "v1", "size_gib": 1})
            session.add(command)
            session.flush()
            command_id = command.id
            from occistack.plane.wakeups import mark_commands_written
            mark_commands_written(session, command.host_id)

        def answered():
            with session_factory() as session:
                return session.get(AgentCommand, command_id).state == CommandState.DONE

        wait_for(answered, timeout=60, what="the agent answering its command")
        assert "v1" in agent.runner.drivers.storage.volumes
    finally:
        stop.set()
        thread.join(timeout=60)
        agent.transport.close()

    host2_id = host("host2").id
    as_host1 = HttpTransport(server.url, "", tls)
    with pytest.raises(AgentRefused, match=r"is for host1, not for host \d+"):
        as_host1(Heartbeat(host2_id))
    with pytest.raises(AgentRefused, match=r"is for host1, not for 'host2'"):
        as_host1(Register("host2", "", PROTOCOL_VERSION, FACTS))
    alice = TlsFiles(str(tmp_path / "ca.pem"), *map(str, grid.alice.write_pair(tmp_path, "alice")))
    with pytest.raises(AgentRefused, match="is for alice tester, not for 'host1'"):
        HttpTransport(server.url, "", alice)(Register("host1", "", PROTOCOL_VERSION, FACTS))
    proxy = str(grid.alice.proxy().write(tmp_path / "alice-proxy.pem"))
    with pytest.raises(AgentRefused, match="not with a proxy"):
        HttpTransport(server.url, "", TlsFiles(str(tmp_path / "ca.pem"), proxy, proxy))(Heartbeat(host2_id))
    grid.revoke(host1)
    with pytest.raises(AgentRefused, match=r"\(401\).*was revoked"):
        HttpTransport(server.url, "", tls)(Heartbeat(host("host1").id))
    with pytest.raises(AgentRefused, match="only with their host's certificate"):
        HttpTransport(server.url, "some-token", TlsFiles(str(tmp_path / "ca.pem")))(Heartbeat(host2_id))
    rogue = TlsFiles(str(tmp_path / "ca.pem"), *map(str, grid.rogue_ca.issue("host1", dns_names=["host1"])
                                                    .write_pair(tmp_path, "rogue")))
    with pytest.raises(ServerUnreachable):
        HttpTransport(server.url, "", rogue)(Heartbeat(host2_id))
