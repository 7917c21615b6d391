"""``occistack-agent`` as it runs on a host: its own process, in a network namespace of its own,
reaching the management server over a veth; and its configuration's refusals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from occistack.hostagent.config import ConfigError, load_config
from occistack.model import Host, VirtualMachine
from occistack.model.states import HostStatus, VmState
from tests.conftest import basic
from tests.integration.test_agent_http import COMPUTE, Served, free_port, host_tokens, wait_for

AGENT = Path(sys.executable).parent / "occistack-agent"


@pytest.fixture
def agent_namespace(plumbing):
    """A namespace whose eth0 reaches 10.251.0.1 (the server's side of the veth)."""
    namespace = plumbing.namespace("agent")
    host_side = f"{plumbing.prefix}a"
    plumbing.veth(host_side, "eth0", namespace)
    subprocess.run(["ip", "addr", "add", "10.251.0.1/30", "dev", host_side], check=True)
    subprocess.run(["ip", "-n", namespace, "addr", "add", "10.251.0.2/30", "dev", "eth0"], check=True)
    subprocess.run(["ip", "-n", namespace, "link", "set", "eth0", "up"], check=True)
    return namespace


def test_the_agent_process_in_its_namespace_runs_the_computes_of_its_host(db_url, demo_data, agent_namespace,
                                                                            tmp_path):
    served = Served(db_url, free_port(), host="10.251.0.1", **{"occistack.power": "none"})
    process = None
    try:
        tokens = host_tokens(served.session_factory)
        with served.session_factory() as session, session.begin():
            # Only host1 has an agent here: keep placement off the other.
            session.get(Host, session.scalar(select(Host.id).where(Host.name == "host2"))).resource_state = "disabled"
        (tmp_path / "agent.token").write_text(tokens["host1"] + "\n")
        (tmp_path / "agent.conf").write_text(f"""[agent]
server = {served.url}
host = host1
token_file = {tmp_path / "agent.token"}

[drivers]
compute = fake
""")
        process = subprocess.Popen(["ip", "netns", "exec", agent_namespace, str(AGENT), "-c", str(tmp_path / "agent.conf")],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)

        def host1():
            with served.session_factory() as session:
                return session.scalar(select(Host).where(Host.name == "host1"))

        wait_for(lambda: host1().status == HostStatus.UP, timeout=30, what="the agent process registering")
        created = requests.post(f"{served.url}/compute/", data=COMPUTE, timeout=30,
                                headers={"Content-Type": "text/plain", "Authorization": basic("demo", "demo")})
        assert created.status_code == 201, created.text
        vm_id = created.headers["Location"].rsplit("/", 1)[-1]

        def state():
            with served.session_factory() as session:
                return session.get(VirtualMachine, vm_id).state

        wait_for(lambda: state() == VmState.RUNNING, timeout=30, what="the compute running on the agent's host")
        os.killpg(process.pid, signal.SIGTERM)
        output, _ = process.communicate(timeout=40)
        assert process.returncode == 0, output
        assert "agent for host host1 stopped" in output
    finally:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        served.close()


@pytest.mark.parametrize("text, message", [
    ("[agent]\nhost = h\ntoken = t\n", "[agent] server is missing"),
    ("[agent]\nserver = ftp://x\nhost = h\ntoken = t\n", "server must be an http:// or https:// URL"),
    ("[agent]\nserver = http://x\nhost = h\n", "needs token_file (or token)"),
    ("[agent]\nserver = http://x\nhost = h\ntoken = t\ntoken_file = /f\n", "gives both token and token_file"),
    ("[agent]\nserver = http://x\nhost = h\ntoken = t\ncert_file = /c\n", "cert_file and key_file go together"),
    ("[agent]\nserver = http://x\nhost = h\ntoken = t\n[drivers]\nnetwork = ib\n",
     "network = 'ib'; accepted: ovs, linux-bridge, fake"),
    ("[agent]\nserver = http://x\nhost = h\ntoken = t\n[drivers]\nbridge = br0\n", "[drivers] has no option bridge"),
    ("[agent]\nserver = http://x\nhost = h\ntoken = t\n[drivers]\nstop_timeout = soon\n", "stop_timeout = 'soon'"),
    ("[agent]\nserver = http://x\nhost = h\ntoken = t\n[drivers]\nswitch_netns = /run/netns/nowhere\n",
     "switch_netns /run/netns/nowhere does not exist"),
    ("not an ini", "is not an INI file"),
    ("[agent]\nserver = http://x\nhost = h\ncert_file = /etc/hosts\nkey_file = /etc/hosts\n",
     "cert_file is presented only over TLS"),
])
def test_a_bad_configuration_is_refused_saying_what_to_fix(tmp_path, text, message):
    path = tmp_path / "agent.conf"
    path.write_text(text)
    with pytest.raises(ConfigError) as refused:
        load_config(path)
    assert message in str(refused.value) and str(path) in str(refused.value)


def test_the_agent_command_stops_at_once_on_a_bad_configuration(tmp_path):
    done = subprocess.run([str(AGENT), "-c", str(tmp_path / "missing.conf")], capture_output=True, text=True,
                          timeout=30)
    assert done.returncode == 2 and "cannot read the agent configuration" in done.stderr


def test_a_host_certificate_stands_in_for_the_token(tmp_path):
    (tmp_path / "host.pem").write_text("certificate")
    (tmp_path / "host.key").write_text("key")
    path = tmp_path / "agent.conf"
    path.write_text(f"[agent]\nserver = https://x\nhost = h\ncert_file = {tmp_path / 'host.pem'}\n"
                    f"key_file = {tmp_path / 'host.key'}\n")
    config = load_config(path)
    assert config.token == "" and config.tls.cert_file == str(tmp_path / "host.pem")
