"""``occistack keypair``: the administrator imports, generates, lists, shows and deletes users'
SSH key pairs; a generated private key is printed or written once, to a file only its owner reads."""

from __future__ import annotations

import stat

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

PUBLIC = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
    serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode() + " alice@laptop"


def test_an_administrator_manages_a_users_key_pairs(occistack, tmp_path):
    occistack("user", "add", "alice", "--project", "lab", "--create-project", "--password", "pw-of-alice")
    pub = tmp_path / "id.pub"
    pub.write_text(PUBLIC + "\n")
    out = occistack("keypair", "import", "laptop", "--user", "alice", "--public-key-file", str(pub)).stdout
    assert out.startswith("imported key pair laptop of user alice: ssh-ed25519 SHA256:")

    printed = occistack("keypair", "create", "printed", "--user", "alice", "--type", "rsa", "--bits", "2048")
    assert printed.stdout.startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert printed.stderr.startswith("created key pair printed of user alice: SHA256:")
    private_file = tmp_path / "made"
    occistack("keypair", "create", "made", "--user", "alice", "--private-key-file", str(private_file))
    assert stat.S_IMODE(private_file.stat().st_mode) == 0o600
    private = serialization.load_ssh_private_key(private_file.read_bytes(), password=None)
    shown = occistack.json("keypair", "show", "made", "--user", "alice")
    assert private.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH) \
        .decode() == shown["public_key"]
    assert (shown["user"], shown["key_type"], len(shown["fingerprint_md5"])) == ("alice", "ssh-ed25519", 47)

    assert [(k["user"], k["name"]) for k in occistack.json("keypair", "list", "--user", "alice")] == \
        [("alice", "laptop"), ("alice", "made"), ("alice", "printed")]
    assert occistack("keypair", "list").stdout.splitlines()[0].split() == \
        ["ID", "USER", "NAME", "KEY_TYPE", "FINGERPRINT", "CREATED_AT"]
    assert occistack("keypair", "delete", "printed", "--user", "alice").stdout == \
        "removed key pair printed of user alice\n"
    assert occistack.refused("keypair", "show", "printed", "--user", "alice") == \
        "no key pair named 'printed' of user 'alice'; the key pairs of user 'alice' are: laptop, made"


def test_refusals_say_why(occistack, tmp_path):
    occistack("user", "add", "bob", "--project", "lab", "--create-project", "--password", "pw-of-bob-1")
    assert occistack.refused("keypair", "import", "k", "--user", "bob", "--public-key", "ssh-rsa AAAA") \
        .startswith("the ssh-rsa key cannot be read")
    assert occistack.refused("keypair", "create", "k", "--user", "nobody") == "no user named 'nobody'; users are: bob"
    occistack("keypair", "import", "k", "--user", "bob", "--public-key", PUBLIC)
    assert occistack.refused("keypair", "import", "k", "--user", "bob", "--public-key", PUBLIC) == \
        "user 'bob' already has a key pair named 'k'; choose another name, or delete that one first"
    taken = tmp_path / "taken"
    taken.write_text("mine")
    usage = occistack("keypair", "create", "k2", "--user", "bob", "--private-key-file", str(taken), status=2)
    assert "exists already" in usage.stderr and taken.read_text() == "mine"
    assert "give --public-key or --public-key-file" in occistack("keypair", "import", "k3", "--user", "bob",
                                                                  status=2).stderr
