"""Users' SSH key pairs: imported keys are checked and fingerprinted as OpenSSH does, generated
ones hand back a private key that matches the public one kept, names are unique per user, a
user sees only their own, and an administrator acts for any user."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from sqlalchemy import select

from occistack.model import EventRecord, KeyPair
from occistack.plane.admin.cases import keypairs as admin_keypairs
from occistack.plane.admin.cases.keypairs import KeypairFilter, KeypairImport, KeypairOf, NewKeypair
from occistack.plane.admin.cases.users import remove_user
from occistack.plane.caller import Caller
from occistack.plane.context import PlaneContext, PlaneServices
from occistack.plane.errors import Conflict, InvalidRequest, NotFound, NotPermitted
from occistack.plane.placement.service import PlacementService
from occistack.plane.ssh_keys import looks_like_key, read_public_key
from occistack.plane.tenant import keypairs
from occistack.plane.tenant.compute import ComputeRequest, create_compute
from tests.conftest import missing_component
from tests.factories import UserFactory


def public_line(private, comment: str = "") -> str:
    line = private.public_key().public_bytes(serialization.Encoding.OpenSSH,
                                             serialization.PublicFormat.OpenSSH).decode()
    return f"{line} {comment}".strip()


ED25519 = public_line(ed25519.Ed25519PrivateKey.generate(), "alice@laptop")
RSA = public_line(rsa.generate_private_key(public_exponent=65537, key_size=2048))
ECDSA = public_line(ec.generate_private_key(ec.SECP256R1()))


@pytest.fixture
def services():
    return PlaneServices(dispatcher=None, placement=PlacementService(), password_min_length=8)


def user_context(session, services, name: str) -> PlaneContext:
    user = UserFactory(session=session, name=name)
    return PlaneContext(session, Caller(user.id, user.name, user.project_id), services)


@pytest.fixture
def alice(session, services):
    return user_context(session, services, "alice")


@pytest.fixture
def bob(session, services):
    return user_context(session, services, "bob")


# --- reading public keys ---------------------------------------------------------------------------

@pytest.mark.parametrize("line, key_type", [(ED25519, "ssh-ed25519"), (RSA, "ssh-rsa"),
                                            (ECDSA, "ecdsa-sha2-nistp256")])
def test_each_accepted_type_is_read_with_openssh_fingerprints(tmp_path, line, key_type):
    key = read_public_key(f"  {line}\n")
    assert (key.key_type, key.line) == (key_type, line)
    if shutil.which("ssh-keygen") is None:
        missing_component("ssh-keygen (openssh-client) is not installed: the fingerprints are checked against it")
    (tmp_path / "key.pub").write_text(line + "\n")
    sha256 = subprocess.run(["ssh-keygen", "-l", "-f", str(tmp_path / "key.pub")],
                            capture_output=True, text=True, check=True).stdout.split()[1]
    md5 = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", str(tmp_path / "key.pub")],
                         capture_output=True, text=True, check=True).stdout.split()[1]
    assert (key.fingerprint, "MD5:" + key.fingerprint_md5) == (sha256, md5)


def test_a_blob_of_another_type_than_its_line_says_is_refused():
    blob = ED25519.split()[1]
    with pytest.raises(InvalidRequest, match="the ssh-rsa key cannot be read"):
        read_public_key(f"ssh-rsa {blob}")


@pytest.mark.parametrize("text, message", [
    ("", "the public key is empty"),
    (f"{ED25519}\n{RSA}", "the public key has 2 lines: a key pair holds one key"),
    ("ssh-dss AAAAB3NzaC1kc3M= old@box", r"DSA keys \(ssh-dss\) are not accepted"),
    ("ssh-ed25519-cert-v01@openssh.com AAAA me", "is an SSH certificate, not a public key"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3Bl\n-----END OPENSSH PRIVATE KEY-----\n", "this is a private key"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----", "this is a private key: send the public one"),
    ("hello world", "does not start with an accepted key type .got 'hello'.; accepted types: ssh-ed25519"),
    ("ssh-ed25519", r"has its type \(ssh-ed25519\) but not the base64"),
    ("ssh-ed25519 not*base64", "second word is not base64"),
    ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 me", "the ssh-ed25519 key cannot be read"),
    ("ssh-ed25519 " + "A" * 20000, "the longest accepted is 16384"),
])
def test_what_is_no_usable_public_key_is_refused_saying_why(text, message):
    with pytest.raises(InvalidRequest, match=message):
        read_public_key(text)


def test_a_short_rsa_key_is_refused():
    short = public_line(rsa.generate_private_key(public_exponent=65537, key_size=1024))
    with pytest.raises(InvalidRequest, match="the RSA key has 1024 bits; at least 2048 are needed"):
        read_public_key(short)


@pytest.mark.parametrize("value, is_key", [(ED25519, True), ("ecdsa-sha2-nistp256 AAAA", True), ("laptop", False),
                                           ("my laptop key", False), ("ssh-rsa", False)])
def test_key_data_is_told_from_a_key_pair_name(value, is_key):
    assert looks_like_key(value) is is_key


# --- a user's own key pairs --------------------------------------------------------------------------

def test_an_imported_key_pair_is_the_owners_alone(session, alice, bob):
    record = keypairs.import_keypair(alice, KeypairImport("laptop", ED25519))
    assert (record.name, record.key_type, record.public_key, record.user_name) == \
        ("laptop", "ssh-ed25519", ED25519, "alice")
    assert record.fingerprint.startswith("SHA256:") and len(record.fingerprint_md5) == 47
    assert keypairs.show_keypair(alice, "laptop") == record
    assert [k.name for k in keypairs.list_keypairs(alice)] == ["laptop"]
    assert keypairs.list_keypairs(bob) == []
    with pytest.raises(NotFound, match="no key pair named 'laptop' of user 'bob'; there are none yet"):
        keypairs.show_keypair(bob, "laptop")
    # Names are unique per user: bob may keep a "laptop" of his own.
    keypairs.import_keypair(bob, KeypairImport("laptop", RSA))
    with pytest.raises(Conflict, match="user 'alice' already has a key pair named 'laptop'"):
        keypairs.import_keypair(alice, KeypairImport("laptop", RSA))
    assert keypairs.public_key_named(session, bob.caller, "laptop") == RSA
    keypairs.delete_keypair(alice, "laptop")
    assert keypairs.list_keypairs(alice) == [] and [k.name for k in keypairs.list_keypairs(bob)] == ["laptop"]
    actions = session.execute(select(EventRecord.action, EventRecord.actor).where(
        EventRecord.resource_type == "keypair").order_by(EventRecord.id)).all()
    assert actions == [("keypair.create", "alice"), ("keypair.create", "bob"), ("keypair.remove", "alice")]


@pytest.mark.parametrize("new, key_class, bits", [
    (NewKeypair("default"), ed25519.Ed25519PrivateKey, None),
    (NewKeypair("rsa-default", key_type="rsa"), rsa.RSAPrivateKey, 3072),
    (NewKeypair("rsa-2048", key_type="ssh-rsa", bits=2048), rsa.RSAPrivateKey, 2048),
])
def test_a_generated_key_pair_hands_back_the_private_half_once(session, alice, new, key_class, bits):
    made = keypairs.create_keypair(alice, new)
    private = serialization.load_ssh_private_key(made.private_key.encode(), password=None)
    assert isinstance(private, key_class) and getattr(private, "key_size", None) == bits
    assert made.keypair.public_key == public_line(private)
    kept = session.scalar(select(KeyPair).where(KeyPair.id == made.keypair.id))
    assert made.private_key not in {getattr(kept, column.key) for column in KeyPair.__table__.columns}
    assert "PRIVATE" not in repr(keypairs.show_keypair(alice, new.name))


@pytest.mark.parametrize("new, message", [
    (NewKeypair("k", key_type="dsa"), "the server generates keys of type ssh-ed25519 .ed25519. or ssh-rsa"),
    (NewKeypair("k", bits=4096), "an ed25519 key has no size to choose"),
    (NewKeypair("k", key_type="rsa", bits=1024), "an RSA key has from 2048 to 8192 bits"),
    (NewKeypair(" k", key_type="rsa"), "key pair name ' k' is not usable: a name is 1 to 255 letters"),
    (NewKeypair("a/b"), "key pair name 'a/b' is not usable"),
    (NewKeypair("x" * 256), "is not usable"),
])
def test_what_cannot_be_generated_is_refused(alice, new, message):
    with pytest.raises(InvalidRequest, match=message):
        keypairs.create_keypair(alice, new)


def test_key_pair_names_may_hold_spaces_dots_and_at_signs(alice):
    assert keypairs.import_keypair(alice, KeypairImport("alice@work laptop.2", ED25519)).name == \
        "alice@work laptop.2"


def test_without_a_user_there_is_no_owner(session, services):
    with pytest.raises(NotPermitted, match="a key pair belongs to a user"):
        keypairs.list_keypairs(PlaneContext(session, None, services))


# --- an administrator acting for users ----------------------------------------------------------------

def test_an_administrator_manages_any_users_key_pairs(session, services, alice, bob):
    system = PlaneContext(session, None, services, operator="cli:root")
    made = admin_keypairs.create_keypair(system, "alice", NewKeypair("ops"))
    imported = admin_keypairs.import_keypair(system, bob.caller.user_id, KeypairImport("ops", ECDSA))
    assert keypairs.show_keypair(alice, "ops") == made.keypair
    assert [(k.user_name, k.name) for k in admin_keypairs.list_keypairs(system)] == [("alice", "ops"), ("bob", "ops")]
    assert admin_keypairs.list_keypairs(system, KeypairFilter(user="bob")) == [imported]
    assert admin_keypairs.show_keypair(system, KeypairOf("bob", "ops")) == imported
    with pytest.raises(NotFound, match="no key pair named 'nope' of user 'bob'; the key pairs of user 'bob' are: ops"):
        admin_keypairs.show_keypair(system, KeypairOf("bob", "nope"))
    admin_keypairs.remove_keypair(system, imported.id)
    with pytest.raises(NotFound, match=f"no key pair with id {imported.id}"):
        admin_keypairs.show_keypair(system, imported.id)
    assert session.scalar(select(EventRecord.actor).where(EventRecord.action == "keypair.remove")) == "cli:root"
    # A removed user's key pairs go with them.
    remove_user(system, "alice")
    assert admin_keypairs.list_keypairs(system) == []


# --- a compute given a key pair by name ----------------------------------------------------------------

def test_a_compute_takes_the_callers_key_pair_by_name_or_a_key_never_both(alice, bob):
    # The key is looked up before anything else of the request is: these fail on the key alone.
    keypairs.import_keypair(bob, KeypairImport("bobs", ED25519))
    with pytest.raises(InvalidRequest, match="no key pair named 'bobs' of user 'alice'; there are none yet"):
        create_compute(alice, ComputeRequest("cirros", 1, 1.0, key_name="bobs"))
    with pytest.raises(InvalidRequest, match="either a public key or the name of one of your key pairs, not both"):
        create_compute(alice, ComputeRequest("cirros", 1, 1.0, key_name="bobs", ssh_public_key=ED25519))
