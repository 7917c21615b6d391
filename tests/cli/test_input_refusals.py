"""The command line refuses what issue 12 (point 6) says it accepted: host addresses that do not
resolve or are another host's, public ranges that clash, short passwords, and a user's project
that does not exist unless --create-project."""

from __future__ import annotations

from occistack.federation import verify_password
from occistack.model import Project, User
from tests.cli.test_existing_commands import rows


def _rack(occistack) -> None:
    occistack("zone", "create", "z1")
    occistack("pod", "create", "--zone", "z1", "p1", "--cidr", "10.0.1.0/24", "--gateway", "10.0.1.1")
    occistack("cluster", "create", "--zone", "z1", "--pod", "p1", "c1")


def _add_host(occistack, name: str, address: str, status: int = 0):
    return occistack("host", "add", "--zone", "z1", "--pod", "p1", "--cluster", "c1", name, "--address", address,
                     "--cpu-cores", "4", "--cpu-mhz", "2000", "--memory-mib", "8192", status=status)


def test_host_addresses_resolve_and_are_not_shared(occistack):
    _rack(occistack)
    _add_host(occistack, "h1", "10.0.1.21")
    assert occistack.refused("host", "add", "--zone", "z1", "--pod", "p1", "--cluster", "c1", "h2", "--address",
                             "10.0.1.21", "--cpu-cores", "4", "--cpu-mhz", "2000", "--memory-mib", "8192") == \
        "host 'h1' already has the address 10.0.1.21; each host has an address of its own"
    assert occistack.refused("host", "add", "--zone", "z1", "--pod", "p1", "--cluster", "c1", "h2", "--address",
                             "kvm2.nowhere.invalid", "--cpu-cores", "4", "--cpu-mhz", "2000", "--memory-mib",
                             "8192") == \
        ("the host address 'kvm2.nowhere.invalid' is a host name that does not resolve; give an IP address "
         "(like 10.0.1.21) or a name the management server can resolve")
    _add_host(occistack, "h2", "localhost")


def test_public_ranges_clash_with_other_zones_and_pod_subnets(occistack):
    _rack(occistack)
    occistack("zone", "create", "z2")
    occistack("ip-range", "add", "--zone", "z1", "--purpose", "public", "203.0.113.10-203.0.113.50", "--gateway",
              "203.0.113.1", "--prefix-length", "24")
    assert occistack.refused("ip-range", "add", "--zone", "z2", "--purpose", "public", "203.0.113.40-203.0.113.60",
                             "--gateway", "203.0.113.1", "--prefix-length", "24") == \
        ("public IP range 203.0.113.40-203.0.113.60 overlaps the public range 203.0.113.10-203.0.113.50 of zone "
         "'z1'; a public address belongs to one zone")
    assert occistack.refused("ip-range", "add", "--zone", "z2", "--purpose", "public", "10.0.1.100-10.0.1.110",
                             "--gateway", "10.0.1.254", "--prefix-length", "24") == \
        ("public IP range 10.0.1.100-10.0.1.110 lies in the management subnet 10.0.1.0/24 of pod 'p1' in zone "
         "'z1'; choose public addresses outside every pod's subnet")


def test_a_user_needs_a_long_enough_password_and_an_existing_project(occistack, db_url):
    assert occistack.refused("user", "add", "alice", "--project", "lab", "--password", "long-enough") == \
        ("no project named 'lab'; there are no projects yet; to create the project with its first user, ask for "
         "it (command line: --create-project; admin API: \"create_project\": true)")
    assert occistack.refused("user", "add", "alice", "--project", "lab", "--create-project", "--password",
                             "short") == \
        "the password is too short: 5 characters; the site asks for at least 10 (occistack.password_min_length)"
    assert "lab" not in [project.name for project in rows(db_url, Project)]  # nothing was changed
    occistack("user", "add", "alice", "--project", "lab", "--create-project", "--password", "long-enough")
    assert occistack.refused("user", "password", "alice", "--password", "tiny") == \
        "the password is too short: 4 characters; the site asks for at least 10 (occistack.password_min_length)"
    assert occistack("user", "password", "alice", input="a-new-password\na-new-password\n").stdout.endswith(
        "user alice has a new password\n")
    [user] = rows(db_url, User)
    assert verify_password(user.password_hash, "a-new-password")


def test_the_minimum_comes_from_the_ini_file(occistack, ini):
    ini.write_text(ini.read_text().replace("[alembic]", "occistack.password_min_length = 16\n\n[alembic]"))
    assert occistack.refused("user", "add", "bob", "--project", "lab", "--create-project", "--password",
                             "fifteen-chars-x") == \
        "the password is too short: 15 characters; the site asks for at least 16 (occistack.password_min_length)"
    occistack("user", "add", "bob", "--project", "lab", "--create-project", "--password", "sixteen-chars-xy")
    ini.write_text(ini.read_text().replace("= 16", "= none"))
    assert occistack.refused("user", "password", "bob", "--password", "whatever-it-is") == \
        "occistack.password_min_length must be a whole number, at least 1; got 'none'"
