"""The commands of who owns what (domains, accounts, projects, users, quotas) and of reading the
cloud back (events, capacity)."""

from __future__ import annotations


def test_domains_accounts_and_projects(occistack):
    assert occistack("domain", "create", "science").stdout == "created domain /science/\n"
    assert occistack("domain", "create", "physics", "--parent", "/science/").stdout == \
        "created domain /science/physics/\n"
    assert [d["path"] for d in occistack.json("domain", "list")] == ["/", "/science/", "/science/physics/"]
    out = occistack("account", "create", "lab", "--domain", "science/physics", "--kind", "admin").stdout
    assert out.startswith("created account lab in domain /science/physics/ (id ")
    [account] = occistack.json("account", "list", "--domain", "/science/physics/")
    assert (account["name"], account["kind"], account["domain"]) == ("lab", "admin", "/science/physics/")
    occistack("project", "create", "higgs", "--title", "Higgs search", "--account", "lab", "--domain",
              "/science/physics/")
    [project] = occistack.json("project", "list", "--domain", "/science/physics/")
    assert (project["name"], project["account"], project["domain"], project["title"]) == \
        ("higgs", "lab", "/science/physics/", "Higgs search")
    assert occistack.refused("project", "create", "higgs") == "a project named 'higgs' already exists"
    assert occistack.refused("domain", "delete", "/science/") == \
        "domain /science/ still has 1 subdomain; remove them first"
    assert occistack.refused("account", "delete", "lab", "--domain", "/science/physics/") == \
        "account 'lab' still has 1 project; remove them first"
    occistack("project", "delete", "higgs")
    occistack("account", "delete", "lab", "--domain", "/science/physics/")
    occistack("domain", "delete", "/science/physics/")
    occistack("domain", "delete", "science")
    assert occistack.refused("domain", "delete", "/") == \
        "the root domain / is the top of the tree: it cannot be removed"


def test_users_are_listed_and_removed(occistack):
    occistack("user", "add", "alice", "--project", "lab", "--create-project", "--password", "pw-of-alice",
              "--role", "admin")
    [user] = occistack.json("user", "list", "--project", "lab")
    assert (user["name"], user["project"], user["role"], user["account"]) == ("alice", "lab", "admin", None)
    assert "password_hash" not in user
    assert occistack("user", "list").stdout.splitlines()[0].split() == ["ID", "NAME", "PROJECT", "ACCOUNT", "ROLE",
                                                                         "ENABLED"]
    occistack("user", "delete", "alice")
    assert occistack.json("user", "list") == []
    assert occistack.refused("user", "delete", "alice") == "no user named 'alice'; there are no users yet"


def test_quotas(occistack):
    occistack("project", "create", "lab")
    # A new project starts with the site's default quotas (tests/cli/test_default_quotas.py);
    # this test is about changing them, from none.
    for resource in ("vms", "cores", "memory_gib", "storage_gib", "networks", "public_ips"):
        occistack("quota", "clear", "--project", "lab", resource)
    assert occistack("quota", "set", "--project", "lab", "vms", "10").stdout == \
        "project lab may hold 10 virtual machines\n"
    occistack("quota", "set", "--project", "lab", "vms", "12")
    occistack("quota", "set", "--project", "lab", "storage_gib", "1.5")
    assert [(q["resource"], q["used"], q["limit"], q["unit"])
            for q in occistack.json("quota", "list", "--project", "lab")] == \
        [("storage_gib", 0.0, 1.5, "GiB of storage"), ("vms", 0.0, 12.0, "virtual machines")]
    assert occistack("quota", "list", "--project", "lab").stdout.splitlines()[0].split() == [
        "ID", "PROJECT", "RESOURCE", "USED", "LIMIT", "UNIT"]
    assert occistack.refused("quota", "set", "--project", "lab", "vms", "2.5") == \
        "the vms limit counts virtual machines: it must be a whole number, 0 or more; got 2.5"
    assert occistack.refused("quota", "set", "--project", "nope", "vms", "1") == \
        "no project named 'nope'; projects are: lab"
    assert "'gpus' is not one of 'vms', 'cores'" in occistack("quota", "set", "--project", "lab", "gpus", "1",
                                                       status=2).stderr
    assert occistack("quota", "clear", "--project", "lab", "vms").stdout == "project lab has no vms limit now\n"
    assert occistack.refused("quota", "clear", "--project", "lab", "vms") == "project 'lab' has no vms quota"
    assert [q["resource"] for q in occistack.json("quota", "list")] == ["storage_gib"]


def test_events_are_filtered(occistack):
    occistack("zone", "create", "z1")
    occistack("zone", "disable", "z1")
    occistack("project", "create", "lab")
    occistack("quota", "set", "--project", "lab", "vms", "1")
    assert [e["action"] for e in occistack.json("events")] == ["quota.set", "project.create", "zone.disable",
                                                              "zone.create"]
    assert [e["action"] for e in occistack.json("events", "--action", "zone")] == ["zone.disable", "zone.create"]
    assert [e["action"] for e in occistack.json("events", "--project", "lab")] == ["quota.set", "project.create"]
    assert [e["action"] for e in occistack.json("events", "--resource", "zone:1")] == ["zone.disable", "zone.create"]
    assert len(occistack.json("events", "--limit", "1")) == 1
    assert occistack.json("events", "--since", "2999-01-01") == []
    table = occistack("events").stdout.splitlines()
    assert table[0].split()[:3] == ["CREATED_AT", "ACTION", "STATE"] and "zone.create" in table[-1]
    assert occistack.refused("events", "--limit", "0") == "the number of events must be from 1 to 1000; got 0"


def test_capacity_as_text_and_json(occistack):
    occistack("zone", "create", "z1")
    occistack("pod", "create", "--zone", "z1", "p1", "--cidr", "10.0.1.0/24", "--gateway", "10.0.1.1",
              "--management-range", "10.0.1.10-10.0.1.50")
    occistack("cluster", "create", "--zone", "z1", "--pod", "p1", "c1")
    occistack("host", "add", "--zone", "z1", "--pod", "p1", "--cluster", "c1", "h1", "--address", "10.0.1.21",
              "--cpu-cores", "4", "--cpu-mhz", "1000", "--memory-mib", "4096", "--cpu-overcommit", "2")
    report = occistack.json("capacity")
    [zone] = report["zones"]
    assert zone["cpu_mhz"] == {"used": 0, "total": 8000, "free": 8000, "percent": 0.0}
    assert zone["management_ips"]["total"] == 41 and report["cloud"]["hosts"]["total"] == 1
    text = occistack("capacity").stdout
    assert text.startswith("z1\n") and "all zones" in text
    assert "cpu" in text and "8000" in text and "management ips" in text


def test_memberships(occistack):
    occistack("user", "add", "bob", "--project", "home", "--create-project", "--password", "pw-of-bob-1")
    occistack("project", "create", "visited")
    assert occistack("membership", "add", "bob", "visited", "--role", "reader").stdout.startswith(
        "user bob is reader in project visited (membership ")
    [held] = occistack.json("membership", "list", "--user", "bob")
    assert (held["user"], held["project"], held["role"]) == ("bob", "visited", "reader")
    assert occistack("membership", "update", "bob", "visited", "--role", "admin").stdout == \
        "user bob is admin in project visited\n"
    assert occistack.refused("membership", "add", "bob", "home") == \
        "project 'home' is the home project of user 'bob'; change their role there by updating the user"
    assert occistack.refused("membership", "remove", "bob", "home") == \
        "user 'bob' holds no role in project 'home' (it is their home project: see the user)"
    occistack("membership", "remove", "bob", "visited")
    assert occistack.json("membership", "list", "--project", "visited") == []
