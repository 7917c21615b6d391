"""SSH key pairs through the HTTP faces: a user's own at /user/keypairs (any role that may use
OCCI; a reader only reads), an administrator's for any user at /admin/keypairs, and a compute
created through OCCI given one of the caller's key pairs by name -- which its config drive then
carries to cloud-init."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import transaction
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from sqlalchemy import select

from occistack.drivers.base import GuestSpec
from occistack.drivers.config_drive import read_config_drive
from occistack.hostagent.protocol import decode_command
from occistack.hostagent.wiring import ConfigDrives
from occistack.model import AgentCommand, VirtualMachine
from occistack.model.session import get_tm_session
from tests.api.admin_client import error_of
from tests.api.occi_face import INFRA, attributes, path_of

OS_TPL = "http://occistack.local/occi/infrastructure/os_tpl#"
TEXT = {"Content-Type": "text/plain", "Accept": "text/plain"}
KIND = f'Category: compute; scheme="{INFRA}"; class="kind"'
CIRROS = f'Category: cirros-0.6; scheme="{OS_TPL}"; class="mixin"'
SSH_KEY = 'Category: ssh_key; scheme="http://schemas.ogf.org/occi/infrastructure/credentials#"; class="mixin"'
PUBLIC_KEY = 'Category: public_key; scheme="http://schemas.openstack.org/instance/credentials#"; class="mixin"'


def a_public_key(comment: str = "me@laptop") -> str:
    key = ed25519.Ed25519PrivateKey.generate().public_key()
    return key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode() + \
        " " + comment


def new_compute(client, *extra: str, status: int = 201):
    body = "\n".join([KIND, CIRROS, 'X-OCCI-Attribute: occi.core.title="keyed"', *extra])
    response = client.post("/compute/", body, headers=TEXT, status=status)
    return path_of(response.headers["Location"]) if status == 201 else response


# --- a user's own key pairs ---------------------------------------------------------------------------

def test_a_user_imports_generates_lists_shows_and_deletes_their_key_pairs(client, other_client):
    line = a_public_key()
    imported = client.post_json("/user/keypairs", {"name": "my laptop", "public_key": line}, status=201)
    assert imported.headers["Location"].endswith("/user/keypairs/my%20laptop")
    assert (imported.json["name"], imported.json["key_type"], imported.json["public_key"]) == \
        ("my laptop", "ssh-ed25519", line)
    assert imported.json["fingerprint"].startswith("SHA256:") and "private_key" not in imported.json

    generated = client.post_json("/user/keypairs", {"name": "made", "key_type": "rsa", "bits": 2048}, status=201).json
    private = serialization.load_ssh_private_key(generated["private_key"].encode(), password=None)
    assert private.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH) \
        .decode() == generated["public_key"]
    shown = client.get("/user/keypairs/made").json
    assert "private_key" not in shown and shown["fingerprint_md5"] == generated["fingerprint_md5"]

    assert [keypair["name"] for keypair in client.get("/user/keypairs").json] == ["made", "my laptop"]
    assert other_client.get("/user/keypairs").json == []
    missing = other_client.get("/user/keypairs/made", status=404)
    assert "no key pair named 'made' of user" in missing.json["error"]["message"]

    client.delete(f"/user/keypairs/{quote('my laptop')}", status=200)
    assert [keypair["name"] for keypair in client.get("/user/keypairs/").json] == ["made"]


@pytest.mark.parametrize("body, status, message", [
    ({"name": "k", "public_key": "ssh-dss AAAA x"}, 400, "DSA keys (ssh-dss) are not accepted"),
    ({"name": "k", "public_key": "hello"}, 400, "does not start with an accepted key type"),
    ({"name": "k", "key_type": "dsa"}, 400, "the server generates keys of type ssh-ed25519"),
    ({"name": "k", "public_key": "x", "key_type": "rsa"}, 400, "not both"),
    ({"name": "a/b"}, 400, "key pair name 'a/b' is not usable"),
    ({"public_key": "x"}, 400, "missing field 'name'"),
    ({"name": "k", "colour": "red"}, 400, "unknown field 'colour'; the accepted fields are: name, public_key"),
    ({"name": "k", "bits": "2048"}, 400, "field 'bits' must be a whole number"),
    (["k"], 400, "send a JSON object"),
])
def test_what_is_no_key_pair_is_refused_in_json_saying_why(client, body, status, message):
    refused = client.post("/user/keypairs", json.dumps(body), headers={"Content-Type": "application/json"},
                          status=status)
    assert refused.content_type == "application/json" and message in refused.json["error"]["message"]


def test_names_are_unique_per_user_and_readers_only_read(world, client):
    client.post_json("/user/keypairs", {"name": "dup", "public_key": a_public_key()}, status=201)
    taken = client.post_json("/user/keypairs", {"name": "dup", "public_key": a_public_key()}, status=409)
    assert "already has a key pair named 'dup'" in taken.json["error"]["message"]
    reader = world.client("reader", role="reader", beside=client)
    assert reader.get("/user/keypairs").json == []
    refused = reader.post_json("/user/keypairs", {"name": "mine"}, status=403)
    assert "your role is reader" in refused.json["error"]["message"]
    assert client.put("/user/keypairs", status=405).headers["Allow"] == "GET, HEAD, POST"


def test_an_anonymous_request_is_challenged(anonymous_client):
    assert anonymous_client.get("/user/keypairs", status=401).content_type == "application/json"


# --- computes given a key pair by name ----------------------------------------------------------------

def test_the_ssh_key_mixin_takes_a_key_pair_name_and_the_key_reaches_the_config_drive(world, client, tmp_path):
    line = a_public_key("alice@desk")
    client.post_json("/user/keypairs", {"name": "desk key", "public_key": line}, status=201)
    vm = new_compute(client, SSH_KEY, 'X-OCCI-Attribute: occi.credentials.ssh.publickey="desk key"')
    assert attributes(client.get(vm, headers=TEXT).text)["occi.credentials.ssh.publickey"] == line

    # The deploy command the compute's host was sent, decoded as its agent decodes it, makes the
    # drive a real host's agent writes (hostagent/wiring.py): cloud-init reads the key there.
    deploy = decode_command("deploy_guest", _deploy_payload(world, vm.rsplit("/", 1)[1]))
    guest = deploy.guest
    spec = GuestSpec(name=guest.name, cores=guest.cores, memory_mib=guest.memory_mib, image=guest.image,
                     hostname=guest.hostname, user_data=guest.user_data, ssh_public_key=guest.ssh_public_key)
    (disk,) = ConfigDrives(tmp_path).disks_for(spec)
    with open(disk.path, "rb") as drive:
        meta = json.loads(read_config_drive(drive.read())["meta-data"])
    assert meta["public-keys"] == [line]

    # Deleting the key pair later leaves the compute its key.
    client.delete(f"/user/keypairs/{quote('desk key')}")
    assert attributes(client.get(vm, headers=TEXT).text)["occi.credentials.ssh.publickey"] == line


def test_the_openstack_public_key_mixin_takes_a_key_pair_name(client):
    line = a_public_key()
    client.post_json("/user/keypairs", {"name": "os-key", "public_key": line}, status=201)
    vm = new_compute(client, PUBLIC_KEY, 'X-OCCI-Attribute: org.openstack.credentials.publickey.name="os-key"')
    rendered = attributes(client.get(vm, headers=TEXT).text)
    assert rendered["org.openstack.credentials.publickey.data"] == line
    assert rendered["org.openstack.credentials.publickey.name"] == "os-key"


def test_a_key_pair_name_the_caller_does_not_have_is_refused(client, other_client):
    other_client.post_json("/user/keypairs", {"name": "theirs", "public_key": a_public_key()}, status=201)
    for extra in ((SSH_KEY, 'X-OCCI-Attribute: occi.credentials.ssh.publickey="theirs"'),
                  (PUBLIC_KEY, 'X-OCCI-Attribute: org.openstack.credentials.publickey.name="theirs"')):
        refused = new_compute(client, *extra, status=400)
        assert "no key pair named 'theirs' of user" in refused.text
    refused = new_compute(client, PUBLIC_KEY, status=400)
    assert "the public_key mixin needs org.openstack.credentials.publickey.data" in refused.text


def _deploy_payload(world, vm_id: str) -> dict:
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(world.session_factory, manager)
        name = session.scalar(select(VirtualMachine.instance_name).where(VirtualMachine.id == vm_id))
        payloads = session.scalars(select(AgentCommand.payload).where(AgentCommand.name == "deploy_guest")).all()
        return next(payload for payload in payloads if payload["guest"]["name"] == name)


# --- an administrator acting for users -----------------------------------------------------------------

def test_an_administrator_manages_a_users_key_pairs(root, client, member):
    user = client.user_name
    line = a_public_key()
    imported = root.post_json("/admin/keypairs", {"user": user, "name": "ops", "public_key": line}, status=201)
    assert (imported.json["user_name"], imported.json["public_key"]) == (user, line)
    made = root.post_json("/admin/keypairs", {"user": user, "name": "gen"}, status=201).json
    assert made["private_key"].startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert sorted(keypair["name"] for keypair in client.get("/user/keypairs").json) == ["gen", "ops"]
    listed = root.get("/admin/keypairs", {"user": user}).json
    assert [(keypair["name"], keypair["user_name"]) for keypair in listed] == [("gen", user), ("ops", user)]
    assert root.get(imported.headers["Location"]).json["fingerprint"] == imported.json["fingerprint"]
    root.delete(imported.headers["Location"], status=200)
    assert [keypair["name"] for keypair in client.get("/user/keypairs").json] == ["gen"]
    assert "no user named 'nobody'" in error_of(root.post_json("/admin/keypairs", {"user": "nobody", "name": "k"},
                                                               expect_errors=True), 404)
    assert "missing field 'user'" in error_of(root.post_json("/admin/keypairs", {"name": "k"}, expect_errors=True),
                                              400)
    member.get("/admin/keypairs", status=403)
