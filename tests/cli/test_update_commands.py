"""``occistack <resource> update``: the command line's side of the admin API's PATCH (issue 14,
point 1). Only the options given change; "" clears what may be empty; a refusal prints
``error: …``, exits 1 and changes nothing."""

from __future__ import annotations


# --- the inventory beside zones ----------------------------------------------------------------------

def test_a_region_pod_and_cluster_are_updated(occistack):
    occistack("region", "create", "europe", "--title", "Europe")
    assert occistack("region", "update", "europe", "--title", "").stdout == "updated region europe\n"
    assert occistack.json("region", "list")[0]["title"] is None
    occistack("zone", "create", "z1")
    occistack("pod", "create", "--zone", "z1", "p1", "--cidr", "10.0.1.0/24", "--gateway", "10.0.1.1")
    assert occistack("pod", "update", "--zone", "z1", "p1", "--name", "rack1", "--cidr", "10.0.2.0/24",
                     "--gateway", "10.0.2.1").stdout == "updated pod rack1 in zone z1\n"
    [pod] = occistack.json("pod", "list")
    assert (pod["name"], pod["cidr"], pod["gateway"]) == ("rack1", "10.0.2.0/24", "10.0.2.1")
    occistack("cluster", "create", "--zone", "z1", "--pod", "rack1", "c1")
    assert occistack("cluster", "update", "--zone", "z1", "--pod", "rack1", "c1", "--name", "kvm1").stdout == \
        "updated cluster kvm1 in pod rack1 of zone z1\n"
    assert [cluster["name"] for cluster in occistack.json("cluster", "list")] == ["kvm1"]


def test_refused_inventory_updates_change_nothing(occistack):
    occistack("zone", "create", "z1")
    occistack("pod", "create", "--zone", "z1", "p1", "--cidr", "10.0.1.0/24", "--gateway", "10.0.1.1",
              "--management-range", "10.0.1.10-10.0.1.20")
    assert occistack.refused("pod", "update", "--zone", "z1", "p1") == \
        "nothing to change: give one or more of the pod's fields name, cidr, gateway"
    assert occistack.refused("pod", "update", "--zone", "z1", "p1", "--gateway", "10.0.1.2") == (
        "pod 'p1' keeps its subnet 10.0.1.0/24 and gateway 10.0.1.1: 1 management IP range took addresses from them")
    assert occistack.refused("cluster", "update", "--zone", "z1", "--pod", "p1", "c9", "--name", "x").startswith(
        "no cluster named 'c9'")
    assert occistack.json("pod", "list")[0]["gateway"] == "10.0.1.1"


def test_a_host_changes_its_tags_and_overcommit(occistack):
    occistack("zone", "create", "z1")
    occistack("pod", "create", "--zone", "z1", "p1", "--cidr", "10.0.1.0/24", "--gateway", "10.0.1.1")
    occistack("cluster", "create", "--zone", "z1", "--pod", "p1", "c1")
    occistack("host", "add", "--zone", "z1", "--pod", "p1", "--cluster", "c1", "h1", "--address", "10.0.1.20",
              "--cpu-cores", "8", "--cpu-mhz", "2000", "--memory-mib", "16384", "--tag", "ssd")
    assert occistack("host", "update", "h1", "--tag", "gpu,ssd", "--memory-overcommit", "1.5").stdout == \
        "updated host h1\n"
    [host] = occistack.json("host", "list")
    assert (host["tags"], host["memory_overcommit"], host["cpu_overcommit"]) == ("gpu,ssd", 1.5, 1.0)
    occistack("host", "update", "h1", "--tag", "")
    assert occistack.json("host", "list")[0]["tags"] == ""
    assert occistack.refused("host", "update", "h1", "--cpu-overcommit", "0.5") == \
        "the CPU overcommit factor must be at least 1; got 0.5"


def test_primary_and_secondary_storage_are_updated(occistack):
    occistack("zone", "create", "z1")
    occistack("storage", "add", "--zone", "z1", "ps1", "--protocol", "nfs", "--server", "10.0.1.5", "--path",
              "/export/primary", "--capacity-gib", "100", "--tag", "ssd")
    assert occistack("storage", "update", "--zone", "z1", "ps1", "--name", "fast", "--tag", "",
                     "--capacity-gib", "250").stdout == "updated primary storage fast\n"
    [pool] = occistack.json("storage", "list")
    assert (pool["name"], pool["tags"], pool["capacity_gib"]) == ("fast", "", 250.0)
    assert occistack.refused("storage", "update", "--zone", "z1", "fast", "--overprovisioning", "0.5") == \
        "the overprovisioning factor must be at least 1; got 0.5"
    occistack("secondary-storage", "add", "--zone", "z1", "ss1", "--url", "nfs://10.0.1.5/export/secondary",
              "--capacity-gib", "500")
    assert occistack("secondary-storage", "update", "--zone", "z1", "ss1", "--url",
                     "nfs://10.0.1.6/export/secondary").stdout == "updated secondary storage ss1\n"
    assert occistack.json("secondary-storage", "list")[0]["url"] == "nfs://10.0.1.6/export/secondary"
    assert occistack.refused("secondary-storage", "update", "--zone", "z1", "ss1") == \
        "nothing to change: give one or more of the secondary storage's fields name, url, capacity_gib"


def test_ip_ranges_and_physical_networks_are_updated(occistack):
    occistack("zone", "create", "z1")
    occistack("ip-range", "add", "--zone", "z1", "--purpose", "public", "203.0.113.10-203.0.113.20",
              "--gateway", "203.0.113.1", "--prefix-length", "24", "--vlan", "30")
    [ip_range] = occistack.json("ip-range", "list")
    assert occistack("ip-range", "update", str(ip_range["id"]), "--addresses", "203.0.113.10-203.0.113.50",
                     "--untagged").stdout == f"updated IP range {ip_range['id']}\n"
    [ip_range] = occistack.json("ip-range", "list")
    assert (ip_range["last_address"], ip_range["vlan"]) == ("203.0.113.50", None)
    assert "give --vlan or --untagged, not both" in occistack(
        "ip-range", "update", str(ip_range["id"]), "--vlan", "3", "--untagged", status=2).stderr
    occistack("physical-network", "create", "--zone", "z1", "pn1", "--bridge", "cloudbr0")
    assert occistack("physical-network", "update", "--zone", "z1", "pn1", "--name", "guests", "--traffic-type",
                     "guest,storage", "--bridge", "").stdout == "updated physical network guests in zone z1\n"
    [network] = occistack.json("physical-network", "list")
    assert (network["name"], network["traffic_types"], network["bridge"]) == ("guests", "guest,storage", None)
    assert occistack.refused("physical-network", "update", "--zone", "z1", "guests") == \
        "nothing to change: give one or more of the physical network's fields name, traffic_types, bridge"


# --- zones ---------------------------------------------------------------------------------------------

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


def test_a_user_is_disabled_and_enabled_again(occistack):
    occistack("user", "add", "alice", "--project", "p1", "--create-project", "--password", "a-long-password")
    assert occistack("user", "disable", "alice").stdout == "user alice is disabled\n"
    assert occistack.json("user", "list")[0]["enabled"] is False
    assert occistack("user", "enable", "alice").stdout == "user alice is enabled\n"
    assert occistack.json("user", "list")[0]["enabled"] is True
    assert [e["action"] for e in occistack.json("events") if e["action"].startswith("user.")][:2] == [
        "user.enable", "user.disable"]
    assert occistack.refused("user", "disable", "bob").startswith("no user named 'bob'")


def test_an_account_is_disabled_and_enabled_as_a_whole(occistack):
    occistack("account", "create", "ops")
    occistack("user", "add", "alice", "--project", "p1", "--create-project", "--account", "ops",
              "--password", "a-long-password")
    assert occistack("account", "disable", "ops").stdout == "account ops is disabled\n"
    assert [a["enabled"] for a in occistack.json("account", "list") if a["name"] == "ops"] == [False]
    assert occistack("account", "enable", "ops").stdout == "account ops is enabled\n"
    assert [e["action"] for e in occistack.json("events") if e["action"].startswith("account.")][:2] == [
        "account.enable", "account.disable"]


def test_a_domain_is_disabled_and_enabled_as_a_whole_but_never_the_root(occistack):
    occistack("domain", "create", "lab")
    assert occistack("domain", "disable", "/lab/").stdout == "domain /lab/ is disabled\n"
    assert [d["enabled"] for d in occistack.json("domain", "list") if d["path"] == "/lab/"] == [False]
    assert occistack("domain", "enable", "lab").stdout == "domain /lab/ is enabled\n"
    assert [e["action"] for e in occistack.json("events") if e["action"].startswith("domain.")][:2] == [
        "domain.enable", "domain.disable"]
    assert occistack.refused("domain", "disable", "/").startswith("the root domain / cannot be disabled")
