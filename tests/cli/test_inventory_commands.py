"""The commands that build the infrastructure, in CloudStack's order, with table and JSON output,
their state changes, and refusals that print ``error: …``, exit 1 and change nothing."""

from __future__ import annotations

import pytest


@pytest.fixture
def rack(occistack):
    occistack("zone", "create", "z1", "--guest-cidr", "10.2.0.0/16", "--dns", "8.8.8.8", "--dns", "1.1.1.1")
    occistack("pod", "create", "--zone", "z1", "p1", "--cidr", "10.0.1.0/24", "--gateway", "10.0.1.1",
              "--management-range", "10.0.1.10-10.0.1.50")
    occistack("cluster", "create", "--zone", "z1", "--pod", "p1", "c1", "--hypervisor", "KVM")
    return occistack


def test_regions_and_zones(occistack):
    assert occistack("region", "create", "europe", "--title", "Europe").stdout.startswith("created region europe")
    out = occistack("zone", "create", "z1", "--region", "europe", "--network-type", "basic", "--title", "Zone 1",
                    "--dns", "8.8.8.8,1.1.1.1").stdout
    assert out.startswith("created zone z1 (id ")
    [zone] = occistack.json("zone", "list")
    assert (zone["network_type"], zone["dns"], zone["title"], zone["enabled"]) == \
        ("basic", "8.8.8.8,1.1.1.1", "Zone 1", True)
    table = occistack("zone", "list").stdout.splitlines()
    assert table[0].split() == ["ID", "NAME", "NETWORK_TYPE", "GUEST_CIDR", "ENABLED", "TITLE"]
    assert table[1].split()[1:5] == ["z1", "basic", "10.1.1.0/24", "yes"]
    assert occistack("zone", "disable", "z1").stdout == "zone z1 is disabled\n"
    assert occistack.json("zone", "list")[0]["enabled"] is False
    assert occistack("zone", "enable", "z1").stdout == "zone z1 is enabled\n"
    assert occistack.refused("region", "delete", "europe") == "region 'europe' still has 1 zone; remove them first"
    occistack("zone", "delete", "z1")
    occistack("region", "delete", "europe")
    assert occistack("zone", "list").stdout == "(none)\n" and occistack.json("region", "list") == []


def test_refusals_change_nothing(occistack):
    occistack("zone", "create", "z1")
    assert occistack.refused("zone", "create", "z1") == "a zone named 'z1' already exists"
    assert occistack.refused("zone", "create", "z2", "--guest-cidr", "10.1.1.5/24") == \
        "the guest CIDR '10.1.1.5/24' has host bits set; the network is 10.1.1.0/24"
    assert occistack.refused("pod", "create", "--zone", "z9", "p1", "--cidr", "10.0.1.0/24", "--gateway",
                             "10.0.1.1") == "no zone named 'z9'; zones are: z1"
    # The pod is written before its management range is refused: the whole command is undone.
    assert "is not inside the subnet 10.0.1.0/24 of pod 'p1'" in occistack.refused(
        "pod", "create", "--zone", "z1", "p1", "--cidr", "10.0.1.0/24", "--gateway", "10.0.1.1",
        "--management-range", "10.0.2.10-10.0.2.50")
    assert occistack.json("pod", "list") == [] and occistack.json("ip-range", "list") == []
    assert [z["name"] for z in occistack.json("zone", "list")] == ["z1"]
    assert [e["action"] for e in occistack.json("events")] == ["zone.create"]


def test_usage_errors_are_clicks(occistack):
    occistack("zone", "create", "z1")
    result = occistack("pod", "create", "--zone", "z1", "p1", "--cidr", "10.0.1.0/24", "--gateway", "10.0.1.1",
                       "--management-range", "10.0.1.10", status=2)
    assert "is not FIRST-LAST" in result.stderr
    assert "Missing option '--zone'" in occistack("pod", "create", "p1", status=2).stderr


def test_physical_networks_and_vlan_ranges(occistack):
    occistack("zone", "create", "z1")
    out = occistack("physical-network", "create", "--zone", "z1", "pn1", "--traffic-type", "guest",
                    "--traffic-type", "public", "--bridge", "cloudbr0", "--vlan", "100-199", "--vlan", "300-309").stdout
    assert "created physical network pn1 in zone z1" in out and "added VLAN range 300-309" in out
    assert occistack.refused("physical-network", "add-vlan", "--zone", "z1", "pn1", "5000-5100") == \
        "VLAN range 5000-5100 is out of range: VLAN ids are 1 to 4094"
    occistack("physical-network", "create", "--zone", "z1", "pn2", "--traffic-type", "guest,storage")
    assert occistack.refused("physical-network", "add-vlan", "--zone", "z1", "pn2", "150-250") == \
        "VLAN range 150-250 overlaps the range 100-199 of physical network 'pn1' in zone 'z1'"
    occistack("physical-network", "add-vlan", "--zone", "z1", "pn2", "400-499")
    networks = {n["name"]: n for n in occistack.json("physical-network", "list", "--zone", "z1")}
    assert networks["pn1"]["vlan_ranges"] == "100-199, 300-309" and networks["pn2"]["vlan_ranges"] == "400-499"
    assert networks["pn1"]["traffic_types"] == "guest,public" and networks["pn1"]["bridge"] == "cloudbr0"
    assert "has no VLAN range 1-2; its ranges are: 400-499" in occistack.refused(
        "physical-network", "remove-vlan", "--zone", "z1", "pn2", "1-2")
    occistack("physical-network", "remove-vlan", "--zone", "z1", "pn2", "400-499")
    occistack("physical-network", "delete", "--zone", "z1", "pn2")
    assert [n["name"] for n in occistack.json("physical-network", "list")] == ["pn1"]


def test_pods_and_clusters(rack):
    occistack = rack
    [pod] = occistack.json("pod", "list", "--zone", "z1")
    assert (pod["zone"], pod["cidr"], pod["gateway"]) == ("z1", "10.0.1.0/24", "10.0.1.1")
    [management] = occistack.json("ip-range", "list", "--purpose", "management")
    assert (management["pod"], management["size"]) == ("p1", 41)
    [cluster] = occistack.json("cluster", "list", "--zone", "z1", "--pod", "p1")
    assert (cluster["pod"], cluster["hypervisor"]) == ("p1", "KVM")
    assert occistack.refused("cluster", "create", "--zone", "z1", "--pod", "p1", "c1") == \
        "a cluster named 'c1' already exists in pod 'p1'"
    assert occistack("pod", "disable", "--zone", "z1", "p1").stdout == "pod p1 is disabled\n"
    assert occistack("pod", "enable", "--zone", "z1", "p1").stdout == "pod p1 is enabled\n"
    assert occistack("cluster", "disable", "--zone", "z1", "--pod", "p1", "c1").stdout == "cluster c1 is disabled\n"
    occistack("cluster", "enable", "--zone", "z1", "--pod", "p1", "c1")
    assert occistack.refused("pod", "delete", "--zone", "z1", "p1") == "pod 'p1' still has 1 cluster; remove them first"
    occistack("cluster", "delete", "--zone", "z1", "--pod", "p1", "c1")
    occistack("pod", "delete", "--zone", "z1", "p1")
    assert occistack.json("pod", "list") == [] and occistack.json("ip-range", "list") == []


def test_hosts_get_a_token_once_and_go_into_maintenance(rack):
    occistack = rack
    out = occistack("host", "add", "--zone", "z1", "--pod", "p1", "--cluster", "c1", "h1", "--address", "10.0.1.21",
                    "--cpu-cores", "16", "--cpu-mhz", "2400", "--memory-mib", "65536", "--memory-overcommit", "1.5",
                    "--tag", "ssd", "--tag", "gpu").stdout
    assert out.startswith("added host h1 to cluster c1 (id ")
    token = out.rsplit(": ", 1)[1].strip()
    assert len(token) >= 40
    added = occistack.json("host", "add", "--zone", "z1", "--pod", "p1", "--cluster", "c1", "h2", "--address",
                           "10.0.1.22", "--cpu-cores", "4", "--cpu-mhz", "2000", "--memory-mib", "8192")
    assert len(added["agent_token"]) >= 40 and "agent_token_hash" not in added
    hosts = {h["name"]: h for h in occistack.json("host", "list", "--zone", "z1")}
    assert token not in str(hosts) and hosts["h1"]["tags"] == "ssd,gpu"
    assert (hosts["h1"]["cpu"], hosts["h1"]["memory"]) == ("0/38400 MHz", "0/65536 MiB")
    assert "h1" in occistack("host", "list").stdout
    assert occistack("host", "disable", "h1").stdout == "host h1 is disabled\n"
    assert occistack("host", "maintenance", "h1").stdout == "host h1 is in maintenance\n"
    assert occistack.refused("host", "enable", "h1") == \
        "host 'h1' is in maintenance: it cannot be enabled now; possible: cancel-maintenance"
    assert occistack("host", "cancel-maintenance", "h1").stdout == "host h1 is enabled\n"
    assert occistack.refused("host", "add", "--zone", "z1", "--pod", "p1", "--cluster", "c1", "h3", "--address",
                             "10.0.1.23", "--cpu-cores", "0", "--cpu-mhz", "1", "--memory-mib", "1") == \
        "the number of CPU cores must be at least 1; got 0"
    occistack("host", "delete", "h2")
    assert [h["name"] for h in occistack.json("host", "list")] == ["h1"]
    assert [e["action"] for e in occistack.json("events", "--resource", "host", "--limit", "3")] == \
        ["host.remove", "host.cancel_maintenance", "host.maintenance"]


def test_a_host_s_bmc_password_is_read_unechoed_and_sealed(rack):
    occistack = rack
    occistack("host", "add", "--zone", "z1", "--pod", "p1", "--cluster", "c1", "h1", "--address", "10.0.1.21",
              "--cpu-cores", "4", "--cpu-mhz", "2000", "--memory-mib", "8192")
    out = occistack("host", "bmc", "h1", "--address", "10.0.2.21", "--username", "ipmiadmin",
                    input="bmc-pass\n").stdout
    assert "host h1 is fenced through the BMC at 10.0.2.21:623" in out and "bmc-pass" not in out
    shown = next(h for h in occistack.json("host", "list") if h["name"] == "h1")
    assert "bmc_password_sealed" not in shown and "bmc-pass" not in str(shown)
    key_file = occistack.ini.parent / "secret.key"
    assert key_file.stat().st_mode & 0o077 == 0, "the secret key must be readable by its owner only"
    password_file = occistack.ini.parent / "bmc.pass"
    password_file.write_text("from-a-file\n")
    assert occistack.refused("host", "bmc", "nope", "--address", "10.0.2.21", "--username", "u",
                             "--password-file", str(password_file)) == "no host named 'nope'; hosts are: h1"
    assert occistack("host", "clear-bmc", "h1").stdout == "host h1 has no BMC any more\n"


def test_primary_and_secondary_storage(rack):
    occistack = rack
    occistack("storage", "add", "--zone", "z1", "--pod", "p1", "--cluster", "c1", "ps1", "--protocol", "nfs",
              "--server", "10.0.1.5", "--path", "/export/primary", "--capacity-gib", "1000", "--overprovisioning", "2",
              "--tag", "fast")
    out = occistack("storage", "add", "--zone", "z1", "shared", "--protocol", "sharedmountpoint", "--path",
                    "/mnt/shared", "--capacity-gib", "500").stdout
    assert "added primary storage shared for all of zone z1" in out
    pools = {p["name"]: p for p in occistack.json("storage", "list", "--zone", "z1")}
    assert (pools["ps1"]["scope"], pools["ps1"]["used"], pools["ps1"]["tags"]) == ("c1", "0/2000 GiB", "fast")
    assert pools["shared"]["scope"] == "zone"
    assert occistack("storage", "maintenance", "--zone", "z1", "ps1").stdout == "primary storage ps1 is maintenance\n"
    assert "it cannot disable now" in occistack.refused("storage", "disable", "--zone", "z1", "ps1")
    assert occistack("storage", "cancel-maintenance", "--zone", "z1", "ps1").stdout == "primary storage ps1 is up\n"
    occistack("storage", "disable", "--zone", "z1", "ps1")
    occistack("storage", "enable", "--zone", "z1", "ps1")
    assert occistack.refused("storage", "add", "--zone", "z1", "ps3", "--protocol", "nfs", "--path", "/x",
                             "--capacity-gib", "1") == "NFS primary storage needs its server (an address or host name)"
    occistack("storage", "delete", "--zone", "z1", "shared")
    occistack("secondary-storage", "add", "--zone", "z1", "ss1", "--url", "nfs://10.0.1.5/export/secondary",
              "--capacity-gib", "2000")
    [store] = occistack.json("secondary-storage", "list")
    assert (store["zone"], store["url"], store["used"], store["enabled"]) == \
        ("z1", "nfs://10.0.1.5/export/secondary", "0/2000 GiB", True)
    assert occistack("secondary-storage", "disable", "--zone", "z1", "ss1").stdout == \
        "secondary storage ss1 is disabled\n"
    occistack("secondary-storage", "enable", "--zone", "z1", "ss1")
    assert "is not NFS" in occistack.refused("secondary-storage", "add", "--zone", "z1", "ss2", "--url",
                                             "http://x/y", "--capacity-gib", "1")
    occistack("secondary-storage", "delete", "--zone", "z1", "ss1")
    assert occistack.json("secondary-storage", "list") == []


def test_ip_ranges(rack):
    occistack = rack
    out = occistack("ip-range", "add", "--zone", "z1", "--purpose", "public", "203.0.113.10-203.0.113.250",
                    "--gateway", "203.0.113.1", "--prefix-length", "24", "--vlan", "30").stdout
    assert out.startswith("added public IP range 203.0.113.10-203.0.113.250 to zone z1")
    occistack("ip-range", "add", "--zone", "z1", "--purpose", "management", "--pod", "p1", "10.0.1.60-10.0.1.70")
    assert occistack.refused("ip-range", "add", "--zone", "z1", "--purpose", "public", "203.0.113.100-203.0.113.120",
                             "--gateway", "203.0.113.1", "--prefix-length", "24") == \
        "IP range 203.0.113.100-203.0.113.120 overlaps the public range 203.0.113.10-203.0.113.250 of zone 'z1'"
    assert occistack.refused("ip-range", "add", "--zone", "z1", "--purpose", "public", "198.51.100.10-198.51.100.20",
                             "--gateway", "198.51.99.1", "--prefix-length", "24") == \
        "IP range 198.51.100.10-198.51.100.20 is not inside the subnet 198.51.99.0/24 of its gateway"
    ranges = occistack.json("ip-range", "list", "--zone", "z1")
    assert [(r["purpose"], r["size"]) for r in ranges] == [("management", 41), ("management", 11), ("public", 241)]
    public = [r for r in ranges if r["purpose"] == "public"][0]
    assert public["vlan"] == 30
    assert occistack("ip-range", "delete", str(public["id"])).stdout == f"removed IP range {public['id']}\n"
    assert occistack.refused("ip-range", "delete", str(public["id"])) == f"no IP range with id {public['id']}"


def test_offerings(occistack):
    occistack("offering", "create", "m1.large", "--title", "Large", "--cores", "4", "--memory-gib", "8",
              "--disk-gib", "80", "--speed-ghz", "2.4", "--architecture", "x64", "--host-tag", "ssd", "--ha")
    [offering] = occistack.json("offering", "list")
    assert (offering["term"], offering["cores"], offering["memory_gib"], offering["disk_gib"], offering["host_tags"],
            offering["ha_enabled"]) == ("m1.large", 4, 8.0, 80.0, "ssd", True)
    assert "m1.large" in occistack("offering", "list").stdout
    assert "the term 'small' is taken by the CRTP resource template" in occistack.refused(
        "offering", "create", "small", "--cores", "1", "--memory-gib", "1")
    assert occistack.refused("offering", "create", "m2", "--cores", "1", "--memory-gib", "0") == \
        "the memory in GiB must be greater than 0; got 0"
    occistack("offering", "delete", "m1.large")
    assert occistack.json("offering", "list") == []
