"""``occistack <resource> update``: the command line's side of the admin API's PATCH (issue 14,
point 1). Only the options given change; "" clears what may be empty; a refusal prints
``error: …``, exits 1 and changes nothing."""

from __future__ import annotations


def test_a_zone_changes_only_what_is_given(occistack):
    occistack("zone", "create", "z1", "--title", "Zone 1", "--dns", "8.8.8.8")
    occistack("region", "create", "europe")
    assert occistack("zone", "update", "z1", "--dns", "1.1.1.1,9.9.9.9", "--region", "europe").stdout == \
        "updated zone z1\n"
    [zone] = occistack.json("zone", "list")
    [region] = occistack.json("region", "list")
    assert (zone["dns"], zone["region_id"], zone["title"]) == ("1.1.1.1,9.9.9.9", region["id"], "Zone 1")
    occistack("zone", "update", "z1", "--title", "", "--no-region")
    [zone] = occistack.json("zone", "list")
    assert (zone["title"], zone["region_id"], zone["dns"]) == (None, None, "1.1.1.1,9.9.9.9")
    # Newest first.
    assert [e["description"] for e in occistack.json("events") if e["action"] == "zone.update"] == [
        "zone 'z1': region_id, title", "zone 'z1': dns, region_id"]


def test_refused_updates_change_nothing(occistack):
    occistack("zone", "create", "z1", "--dns", "8.8.8.8")
    assert occistack.refused("zone", "update", "z1") == \
        "nothing to change: give one or more of the zone's fields title, guest_cidr, dns, region"
    assert occistack.refused("zone", "update", "z1", "--dns", "8.8.8.8", "--guest-cidr", "10.1.1.5/24") == \
        "the guest CIDR '10.1.1.5/24' has host bits set; the network is 10.1.1.0/24"
    assert occistack.refused("zone", "update", "z9", "--title", "x") == "no zone named 'z9'; zones are: z1"
    assert "give --region or --no-region, not both" in occistack(
        "zone", "update", "z1", "--region", "r", "--no-region", status=2).stderr
    assert occistack.json("zone", "list")[0]["dns"] == "8.8.8.8"


def test_an_offering_changes_only_what_is_given(occistack):
    occistack("offering", "create", "m1", "--cores", "2", "--memory-gib", "4", "--host-tag", "ssd")
    assert occistack("offering", "update", "m1", "--title", "Medium", "--ha").stdout == "updated offering m1\n"
    [offering] = occistack.json("offering", "list")
    assert (offering["title"], offering["ha_enabled"], offering["host_tags"]) == ("Medium", True, "ssd")
    occistack("offering", "update", "m1", "--host-tag", "", "--no-ha")
    [offering] = occistack.json("offering", "list")
    assert (offering["title"], offering["ha_enabled"], offering["host_tags"]) == ("Medium", False, "")
    assert occistack.refused("offering", "update", "m1") == \
        "nothing to change: give one or more of the offering's fields title, host_tags, storage_tags, ha_enabled"
    assert [e["description"] for e in occistack.json("events") if e["action"] == "offering.update"] == [
        "offering 'm1': ha_enabled, host_tags", "offering 'm1': ha_enabled, title"]


def test_a_template_changes_only_what_is_given(occistack):
    occistack("demo")
    occistack("template", "register", "deb", "--url", "https://images.example.org/deb.qcow2", "--checksum",
              "sha1:a94a8fe5ccb19ba61c4c0873d391e987982fbbd3", "--zone", "zone1", "--os-name", "Debian",
              "--attribute", "a.b=1")
    assert occistack("template", "update", "deb", "--title", "Debian 13", "--min-cores", "2").stdout == \
        "updated template deb\n"
    assert occistack("template", "update", "deb", "--os-name", "", "--no-attributes").stdout == \
        "updated template deb\n"
    shown = occistack.json("template", "show", "deb")
    assert (shown["title"], shown["min_cores"], shown["os_name"], shown["extra_attributes"]) == \
        ("Debian 13", 2, None, {})
    assert occistack.refused("iso", "update", "deb", "--title", "x").startswith("no ISO named 'deb'")
    assert occistack.refused("template", "update", "deb", "--min-memory-gib", "0") == \
        "the minimum memory in GiB must be greater than 0; got 0"
    assert [e["description"] for e in occistack.json("events") if e["action"] == "template.update"] == [
        "template 'deb': extra_attributes, os_name", "template 'deb': min_cores, title"]


def test_domains_accounts_and_projects_are_updated(occistack):
    occistack("domain", "create", "science")
    occistack("domain", "create", "physics", "--parent", "/science/")
    occistack("account", "create", "lab", "--domain", "/science/")
    occistack("account", "create", "other", "--domain", "/science/")
    occistack("project", "create", "p1", "--title", "Lab", "--account", "lab", "--domain", "/science/")
    assert occistack("domain", "update", "/science/", "--name", "sciences").stdout == "updated domain /sciences/\n"
    assert [d["path"] for d in occistack.json("domain", "list")] == ["/", "/sciences/", "/sciences/physics/"]
    assert occistack("account", "update", "lab", "--domain", "/sciences/", "--name", "laboratory").stdout == \
        "updated account laboratory\n"
    assert occistack("project", "update", "p1", "--account", "other", "--title", "").stdout == "updated project p1\n"
    [project] = occistack.json("project", "list")
    assert (project["account"], project["title"], project["domain"]) == ("other", None, "/sciences/")
    occistack("project", "update", "p1", "--no-account")
    assert occistack.json("project", "list")[0]["account"] is None
    occistack("account", "create", "elsewhere")
    assert occistack.refused("project", "update", "p1", "--account", "elsewhere") == \
        "no account named 'elsewhere' in domain /sciences/; its accounts are: laboratory, other"
    assert occistack.refused("project", "update", "p1") == \
        "nothing to change: give one or more of the project's fields title, account"
    assert occistack.refused("domain", "update", "/", "--name", "top") == \
        "the root domain / is the top of the tree: it has no name to change"
    assert occistack.refused("account", "update", "laboratory", "--domain", "/sciences/", "--name", "other") == \
        "an account named 'other' already exists in domain /sciences/"


def test_a_user_changes_role_and_account(occistack):
    occistack("account", "create", "lab")
    occistack("user", "add", "ann", "--project", "p1", "--create-project", "--password", "long-secret")
    assert occistack("user", "update", "ann", "--role", "admin", "--account", "lab").stdout == "updated user ann\n"
    [user] = occistack.json("user", "list")
    assert (user["role"], user["account"], user["project"]) == ("admin", "lab", "p1")
    occistack("user", "update", "ann", "--no-account")
    assert occistack.json("user", "list")[0]["account"] is None
    assert occistack.refused("user", "update", "ann") == \
        "nothing to change: give one or more of the user's fields role, account"
    assert occistack.refused("user", "update", "bob", "--role", "reader").startswith("no user named 'bob'")
    assert [e["description"] for e in occistack.json("events") if e["action"] == "user.update"] == [
        "user 'ann': account_id", "user 'ann': account_id, role"]


def test_an_affinity_group_changes_its_description(occistack):
    occistack("project", "create", "p1")
    occistack("affinity-group", "create", "--project", "p1", "web", "--kind", "affinity", "--description", "old")
    assert occistack("affinity-group", "update", "--project", "p1", "web", "--description", "front ends").stdout == \
        "updated affinity group web of project p1\n"
    assert occistack.json("affinity-group", "list")[0]["description"] == "front ends"
    occistack("affinity-group", "update", "--project", "p1", "web", "--description", "")
    assert occistack.json("affinity-group", "list")[0]["description"] is None
    assert occistack.refused("affinity-group", "update", "--project", "p1", "db", "--description", "x") == \
        "no affinity group named 'db' in this project; its affinity groups are: web"
