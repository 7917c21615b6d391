"""The real clients' traffic (SPEC-NOTES §6), replayed as they send it: their headers, their
spacing, their ways of reading answers, and their quirks.

Each client is a small class below that does what the client's code does, request by request,
and parses answers the way it parses them (often with str.split): rOCCI-cli 4.3 over rOCCI-api
and rOCCI-core 4.x, DIRAC's VMDIRAC OcciEndpoint, the Infrastructure Manager's OCCI connector,
and the ARGO nagios-promoo probes. One test per client behaviour.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import uuid

import pytest

from tests.api.occi_face import (
    HOST,
    INFRA,
    categories,
    category_values,
    path_of,
)

CORE = "http://schemas.ogf.org/occi/core#"
COMPUTE_ACTIONS = "http://schemas.ogf.org/occi/infrastructure/compute/action#"
OPENSTACK_USER_DATA = "http://schemas.openstack.org/compute/instance#user_data"
OPENSTACK_PUBLIC_KEY = "http://schemas.openstack.org/instance/credentials#public_key"
SSH_KEY = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 user@laptop"
CLOUD_CONFIG = base64.b64encode(b"#cloud-config\nhostname: vm\n").decode()
#: What python-requests sends unless told otherwise (VMDIRAC and IM use requests).
REQUESTS_DEFAULTS = {"User-Agent": "python-requests/2.31.0", "Accept-Encoding": "gzip, deflate", "Accept": "*/*",
                     "Connection": "keep-alive"}


def model_of(text: str) -> dict[str, dict[str, str]]:
    """Identifier → the Category's parameters, from a text/plain /-/ answer."""
    return {c["scheme"] + c["term"]: c for c in (_category(line) for line in text.split("\n")) if c}


def _category(line: str) -> dict[str, str] | None:
    return category_values(line[len("Category: "):]) if line.startswith("Category: ") else None


# =============================================================================================
# rOCCI-cli 4.3 (rOCCI-api 4.3, rOCCI-core 4.x): `occi -e URL -n basic -a … -r …`
# =============================================================================================

class RocciCli:
    """rOCCI-cli with its default media type "text/plain,text/occi", used as Content-Type, with
    Accept "text/plain,text/occi;q=0.2"; rOCCI-core renders without blanks after ';'."""

    HEADERS = {"Accept": "text/plain,text/occi;q=0.2", "User-Agent": "rOCCI-core/4.3.9 rOCCI-api/4.3.9 OCCI/1.1 "
                                                                      "ruby-2.1.5"}
    WRITE = {**HEADERS, "Content-Type": "text/plain,text/occi"}

    def __init__(self, client):
        self.client = client
        self.model = model_of(client.get("/-/", headers=self.HEADERS, status=200).text)

    def category(self, identifier: str, cls: str) -> str:
        """rOCCI-core's Entity#to_text line: kind or mixin, with the location and title it
        learnt from the model."""
        known = self.model[identifier]
        return (f'Category: {known["term"]};scheme="{known["scheme"]}";class="{cls}";'
                f'location="{known.get("location", "")}";title="{known.get("title", "")}"')

    def mixin(self, kind_of_template: str, term: str) -> str:
        """`-M os_tpl#debian-12`: the mixin named by term among those related to os_tpl."""
        for identifier, known in self.model.items():
            if known["term"] == term and known.get("rel") == INFRA + kind_of_template:
                return identifier
        raise AssertionError(f"{kind_of_template}#{term} is not in the model")

    def create_compute(self, os_tpl: str, resource_tpl: str, network: str | None) -> str:
        """`occi -a create -r compute -M os_tpl#… -M resource_tpl#… -t occi.core.title="My rOCCI VM"
        -T user_data=… -T public_key=… -j /network/…` (without `-j` when ``network`` is None)"""
        compute_id, link_id = str(uuid.uuid4()), str(uuid.uuid4())
        body = "\n".join([
            self.category(INFRA + "compute", "kind"),
            self.category(self.mixin("os_tpl", os_tpl), "mixin"),
            self.category(self.mixin("resource_tpl", resource_tpl), "mixin"),
            self.category(OPENSTACK_USER_DATA, "mixin"),
            self.category(OPENSTACK_PUBLIC_KEY, "mixin"),
            f'X-OCCI-Attribute: occi.core.id="{compute_id}"',
            'X-OCCI-Attribute: occi.core.title="My rOCCI VM"',
            'X-OCCI-Attribute: occi.compute.hostname="My rOCCI VM"',
            f'X-OCCI-Attribute: org.openstack.compute.user_data="{CLOUD_CONFIG}"',
            f'X-OCCI-Attribute: org.openstack.credentials.publickey.data="{SSH_KEY}"',
        ] + ([
            # Link#to_string: the link kind's rOCCI-core default location, then its attributes
            f'Link: <{network}>;rel="{INFRA}network";self="/link/networkinterface/{link_id}";'
            f'category="{INFRA}networkinterface";occi.core.id="{link_id}";occi.core.target="{network}";'
            f'occi.core.source="/compute/{compute_id}"',
        ] if network is not None else []))
        response = self.client.post("/compute/", body, headers=self.WRITE)
        assert response.status_int in (200, 201, 202, 204)  # rOCCI-api's OK range
        # The new resource's location: Location, else X-OCCI-Location, else the uri-list body.
        return response.headers.get("Location") or response.text.split("\n")[0].split(": ", 1)[-1]

    def list(self, resource: str) -> list[str]:
        """`occi -a list -r compute`: the kind's location as text/uri-list."""
        response = self.client.get(f"/{resource}/", headers={**self.HEADERS, "Accept": "text/uri-list"})
        assert response.status_int in (200, 204)
        return [line for line in response.text.split("\n") if line and not line.startswith("#")]

    def describe(self, location: str) -> dict[str, str]:
        response = self.client.get(path_of(location), headers=self.HEADERS, status=200)
        found = {}
        for line in response.text.split("\n"):
            if line.startswith("X-OCCI-Attribute: "):
                name, _, value = line[len("X-OCCI-Attribute: "):].partition("=")
                found[name] = value.strip('"')
        found["links"] = "\n".join(line for line in response.text.split("\n") if line.startswith("Link: "))
        return found

    def trigger(self, location: str, action: str) -> None:
        """`occi -a trigger -r /compute/<id> -g start`: ActionInstance#to_text."""
        body = f'Category: {action};scheme="{COMPUTE_ACTIONS}";class="action"'
        self.client.post(path_of(location) + f"?action={action}", body, headers=self.WRITE, status=200)

    def link(self, source: str, target: str) -> str:
        """`occi -a link -r /compute/<id> -j /storage/<id>`: a storagelink entity to the link
        kind's rOCCI 1.x location."""
        link_id = str(uuid.uuid4())
        body = "\n".join([
            f'Category: storagelink;scheme="{INFRA}";class="kind";location="/link/storagelink/";'
            f'title="storage link"',
            f'X-OCCI-Attribute: occi.core.id="{link_id}"',
            f'X-OCCI-Attribute: occi.core.target="{path_of(target)}"',
            f'X-OCCI-Attribute: occi.core.source="{path_of(source)}"',
        ])
        response = self.client.post("/link/storagelink/", body, headers=self.WRITE)
        assert response.status_int in (200, 201, 202, 204)
        return response.headers["Location"]

    def delete(self, location: str) -> None:
        response = self.client.delete(path_of(location), headers=self.HEADERS)
        assert response.status_int in (200, 202, 204)

    def wait_for_active(self, location: str, attempts: int = 5) -> str:
        """`--wait-for-active`: describe until the state is active or online."""
        for _ in range(attempts):
            description = self.describe(location)
            state = next(value for name, value in description.items() if name.endswith(".state"))
            if state in ("active", "online"):
                return state
        raise AssertionError(f"{location} never became active: {state}")


@pytest.fixture
def rocci(client) -> RocciCli:
    return RocciCli(client)


def test_rocci_picks_its_media_type_from_the_servers_accept_header(client):
    # rOCCI-api, without a forced media type: HEAD <endpoint>, then the Accept of the answer.
    response = client.head("/", headers=RocciCli.HEADERS, status=200)
    offered = response.headers["Accept"]
    assert "text/plain" in offered and "text/occi" in offered


def test_rocci_reads_the_model(rocci):
    assert {INFRA + "compute", INFRA + "os_tpl", INFRA + "resource_tpl", OPENSTACK_USER_DATA,
            OPENSTACK_PUBLIC_KEY} <= set(rocci.model)
    assert rocci.model[INFRA + "compute"]["location"] == "/compute/"


def test_rocci_creates_a_contextualized_compute_on_a_network(rocci):
    location = rocci.create_compute("debian-12", "tiny", "/network/public")
    assert location.startswith(HOST + "/compute/")
    described = rocci.describe(location)
    assert described["occi.core.title"] == "My rOCCI VM"
    assert described["org.openstack.compute.user_data"] == CLOUD_CONFIG
    assert described["org.openstack.credentials.publickey.data"] == SSH_KEY
    assert (described["occi.compute.cores"], described["occi.compute.memory"]) == ("1", "0.5")
    assert "</network/public>" in described["links"]


def test_rocci_lists_as_uri_list(rocci):
    location = rocci.create_compute("cirros-0.6", "tiny", "/network/public")
    assert rocci.list("compute") == [location]


def test_rocci_triggers_stop_and_start(rocci):
    location = rocci.create_compute("cirros-0.6", "tiny", "/network/public")
    rocci.trigger(location, "stop")
    assert rocci.describe(location)["occi.compute.state"] == "inactive"
    rocci.trigger(location, "start")
    assert rocci.describe(location)["occi.compute.state"] == "active"


def test_rocci_links_a_storage_through_the_link_alias(rocci, client):
    location = rocci.create_compute("cirros-0.6", "tiny", "/network/public")
    storage = client.post("/storage/", f'Category: storage;scheme="{INFRA}";class="kind"\n'
                                       "X-OCCI-Attribute: occi.storage.size=1", headers=RocciCli.WRITE,
                          status=201).headers["Location"]
    assert rocci.wait_for_active(storage) == "online"
    link = rocci.link(location, storage)
    assert rocci.describe(link)["occi.storagelink.state"] == "active"
    assert f"<{path_of(storage)}>" in rocci.describe(location)["links"]


def test_rocci_waits_for_active_then_deletes(rocci):
    location = rocci.create_compute("debian-12", "tiny", "/network/public")
    assert rocci.wait_for_active(location) == "active"
    rocci.delete(location)
    rocci.client.get(path_of(location), status=404)
    assert rocci.list("compute") == []


# =============================================================================================
# VMDIRAC OcciEndpoint (python-requests, Basic "login mode")
# =============================================================================================

class VmDirac:
    """DIRAC's OcciEndpoint, method by method. ``service_url`` is its EndpointUrl."""

    def __init__(self, client, service_url: str = HOST):
        self.client = client
        self.service_url = service_url
        self.compute_url = f"{service_url}/compute/"
        self.scheme: dict[str, dict[str, dict[str, str]]] = {}

    def request(self, method: str, url: str, body: str = "", headers: dict | None = None, status=None):
        return self.client.request(url, method=method, body=body.encode(), headers={**REQUESTS_DEFAULTS,
                                                                                    **(headers or {})},
                                   status=status, expect_errors=True)

    def initialize(self) -> str | None:
        """__getKeystoneUrl: a HEAD of /-/; anything but a 401 means "no Keystone"."""
        result = self.request("HEAD", self.service_url + "/-/", headers={"Content-Type": "text/plain"})
        if result.status_int != 401 or "www-authenticate" not in result.headers:
            return None
        return result.headers["www-authenticate"][14:-1]

    def get_schema_definitions(self) -> None:
        response = self.request("GET", self.service_url + "/-/", headers={"Accept": "text/plain,text/occi"})
        assert response.status_int == 200
        self.scheme = {}
        for category in response.text.split("\n")[1:]:  # the first line is dropped
            if category:
                values = category.split(";")
                name = values[0][values[0].find(":") + 1:].strip()
                scheme = class_name = title = location = None
                for prop in values:
                    if "scheme=" in prop:
                        scheme = prop.strip().replace("scheme=", "").replace('"', "")
                    if "class=" in prop:
                        class_name = prop.strip().replace("class=", "").replace('"', "")
                    if "title=" in prop:
                        title = prop.strip().replace("title=", "").replace('"', "")
                    if "location=" in prop:
                        tmp = prop.strip().replace("https://", "").replace("http://", "").replace('"', "")
                        location = tmp[tmp.find("/"):]
                assert class_name is not None, f"no class for category {name}"  # S_ERROR in VMDIRAC
                entry = self.scheme.setdefault(class_name, {}).setdefault(name, {})
                for key, value in (("scheme", scheme), ("title", title), ("location", location)):
                    if value is not None:
                        entry[key] = value

    def render_category(self, category: str, class_name: str) -> str:
        known = self.scheme[class_name][category]
        output = f'Category: {category}; scheme="{known["scheme"]}"; class="{class_name}"'
        for attribute in ("location", "title"):
            if attribute in known:
                output += f'; {attribute}="{known[attribute]}"'
        return output + "\n"

    def create_instance(self, image: str, flavor: str, instance_id: str) -> tuple[int, str]:
        headers = {"Accept": "text/plain,text/occi", "Content-Type": "text/plain,text/occi", "Connection": "close"}
        data = self.render_category("compute", "kind")
        for category in ("user_data", image, flavor):
            data += self.render_category(category, "mixin")
        data += f'X-OCCI-Attribute: occi.core.id="{uuid.uuid4()}"\n'
        data += f'X-OCCI-Attribute: occi.core.title="{instance_id}"\n'
        data += f'X-OCCI-Attribute: occi.compute.hostname="{instance_id}"\n'
        data += f'X-OCCI-Attribute: org.openstack.compute.user_data="{CLOUD_CONFIG}"'
        result = self.request("POST", self.compute_url, data, headers)
        return result.status_int, result.text.split()[-1] if result.status_int == 201 else result.text

    def get_vm_ids(self) -> list[str]:
        response = self.request("GET", self.compute_url)
        return [line.split()[1] for line in response.text.split("\n") if line.startswith("X-OCCI-Location:")]

    def get_vm_status(self, node_id: str) -> str:
        url = f"{self.compute_url}/{os.path.basename(node_id)}"  # sic: ".../compute//<id>"
        response = self.request("GET", url)
        status = "Unknown"
        for item in response.text.split("\n"):
            if "occi.compute.state" in item:
                status = item.split("=")[1].replace('"', "")
        return status

    def get_vm_networks(self) -> list[str]:
        response = self.request("GET", f"{self.service_url}/network/")
        assert response.status_int == 200
        return [line.split()[1].split("/")[-1] for line in response.text.split("\n")]  # every line

    def assign_floating_ip(self, node_id: str) -> tuple[int, str]:
        network = self.get_vm_networks()[1]
        interface_id = str(uuid.uuid4())[:8]
        headers = {"Accept": "text/plain,text/occi", "Content-Type": "text/plain,text/occi", "Connection": "close"}
        node_ref = f"{self.compute_url}/{os.path.basename(node_id)}".replace("//", "/")  # sic: "http:/host/…"
        data = (f'Category: networkinterface;scheme="{INFRA}";class="kind";location="/link/networkinterface/";'
                'title="networkinterface link"\n')
        data += f'X-OCCI-Attribute: occi.core.source="{node_ref}"\n'
        data += f'X-OCCI-Attribute: occi.core.target="{self.service_url}/network/{network}"\n'
        data += f'X-OCCI-Attribute: occi.core.id="{interface_id}"'
        result = self.request("POST", f"{self.service_url}/link/networkinterface/", data,
                              {**headers, "Content-Length": str(len(data))})
        return result.status_int, result.text.split()[1] if result.status_int == 201 else result.text

    def stop_vm(self, node_id: str) -> int:
        return self.request("DELETE", f"{self.compute_url}/{os.path.basename(node_id)}").status_int

    def delete_floating_ip(self, link_url: str) -> int:
        headers = {"Accept": "text/plain,text/occi", "Content-Type": "text/occi", "Connection": "close"}
        return self.request("DELETE", f"{self.service_url}/link/networkinterface/{os.path.basename(link_url)}",
                            headers=headers).status_int


@pytest.fixture
def vmdirac(client) -> VmDirac:
    endpoint = VmDirac(client)
    assert endpoint.initialize() is None  # Basic credentials pass: no Keystone detour
    endpoint.get_schema_definitions()
    return endpoint


def test_vmdirac_head_probe_finds_no_keystone(client):
    assert VmDirac(client).initialize() is None


def test_vmdirac_keys_the_schema_by_term_after_dropping_the_first_line(vmdirac):
    # Dropping line 1 must lose nothing it needs: the entity kind comes first.
    assert vmdirac.scheme["kind"]["compute"] == {"scheme": INFRA, "title": vmdirac.scheme["kind"]["compute"]["title"],
                                                 "location": "/compute/"}
    assert "entity" not in vmdirac.scheme["kind"]
    for term in ("user_data", "debian-12", "tiny", "small"):
        assert {"scheme", "location"} <= set(vmdirac.scheme["mixin"][term]), term
    # The last user_data in /-/ wins the term; it must be the scheme that VMDIRAC's attribute
    # (org.openstack.compute.user_data) belongs to.
    assert vmdirac.scheme["mixin"]["user_data"]["scheme"] == OPENSTACK_USER_DATA.split("#")[0] + "#"


def test_vmdirac_creates_a_vm_and_reads_its_id_from_the_last_token(vmdirac):
    status, node_id = vmdirac.create_instance("debian-12", "tiny", "a1b2c3d4")
    assert status == 201, node_id
    assert node_id.startswith(HOST + "/compute/")
    assert node_id in vmdirac.get_vm_ids()


def test_vmdirac_polls_the_state_through_its_double_slash_url(vmdirac):
    _, node_id = vmdirac.create_instance("cirros-0.6", "small", "e5f6a7b8")
    assert vmdirac.get_vm_status(node_id) == "active"


def test_vmdirac_splits_every_line_of_the_network_listing(vmdirac, client):
    client.post("/network/", f'Category: network; scheme="{INFRA}"; class="kind"', headers={
        "Content-Type": "text/plain"}, status=201)
    networks = vmdirac.get_vm_networks()  # an empty or trailing line would raise IndexError
    assert len(networks) == 2 and "public" in networks


def test_vmdirac_assigns_and_releases_a_public_ip(vmdirac, client):
    _, node_id = vmdirac.create_instance("cirros-0.6", "tiny", "c9d0e1f2")
    # Its second network is the one it takes: make the project's own network the second.
    client.post("/network/", f'Category: network; scheme="{INFRA}"; class="kind"', headers={
        "Content-Type": "text/plain"}, status=201)
    status, link = vmdirac.assign_floating_ip(node_id)
    assert status == 201, link
    assert link.startswith(HOST + "/networkinterface/")
    assert f"self=\"{path_of(link)}\"" in client.get(path_of(node_id)).text
    assert vmdirac.delete_floating_ip(link) == 200


def test_vmdirac_deletes_a_vm_and_wants_200(vmdirac):
    _, node_id = vmdirac.create_instance("cirros-0.6", "tiny", "a9b8c7d6")
    assert vmdirac.stop_vm(node_id) == 200  # a 204 would be an error to VMDIRAC
    assert node_id not in vmdirac.get_vm_ids()


# =============================================================================================
# IM: the Infrastructure Manager's OCCI connector (python-requests)
# =============================================================================================

class InfrastructureManager:
    """IM's OCCICloudConnector. The cloud's path is "" (the endpoint is the server root)."""

    PRIVATE_NET_MASKS = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "100.64.0.0/10",
                         "192.0.0.0/24", "198.18.0.0/15"]
    READ = {"Accept": "text/plain", "Connection": "close"}
    WRITE = {**READ, "Content-Type": "text/plain,text/occi"}

    def __init__(self, client, path: str = ""):
        self.client = client
        self.path = path

    def request(self, method: str, url: str, headers: dict, body: str = ""):
        if not url.startswith("http://"):
            url = HOST + url
        return self.client.request(url, method=method, body=body.encode(), headers={**REQUESTS_DEFAULTS, **headers},
                                   expect_errors=True)

    # --- discovery ---

    def keystone_uri(self, anonymous) -> str | None:
        """KeyStoneAuth.get_keystone_uri: an unauthenticated HEAD of /-/."""
        response = anonymous.request(HOST + "/-/", method="HEAD", headers={**REQUESTS_DEFAULTS, **self.READ},
                                     expect_errors=True)
        if response.status_int == 200:
            return None
        challenge = response.headers.get("Www-Authenticate")
        if challenge and challenge.startswith("Keystone uri"):
            return challenge.split("=")[1].replace("'", "")
        return None  # → HTTP Basic

    def query_occi(self) -> str:
        response = self.request("GET", self.path + "/-/", self.READ)
        assert response.status_int == 200
        return response.text

    @staticmethod
    def get_scheme(occi_info: str, category: str, ctype: str) -> str:
        for line in occi_info.split("\n"):
            if line.find("Category: " + category) != -1 and line.find(ctype) != -1:
                for part in line.split(";"):
                    kv = part.split("=")
                    if kv[0].strip() == "scheme":
                        return kv[1].replace('"', "").replace("'", "")
        return ""

    @staticmethod
    def get_property_from_category(occi_info: str, category: str, prop_name: str) -> str | None:
        for line in occi_info.split("\n"):
            if line.find("Category: " + category + ";") != -1:
                for elem in line.split(";"):
                    kv = elem.split("=")
                    if len(kv) == 2 and kv[0].strip() == prop_name:
                        return kv[1].strip('"')
        return None

    @staticmethod
    def get_occi_attribute_value(occi_res: str, attr_name: str) -> str | None:
        for line in occi_res.split("\n"):
            if line.find("X-OCCI-Attribute: " + attr_name + "=") != -1:
                return line.split("=")[1].strip('"')
        return None

    def is_private(self, address: str) -> bool:
        return any(ipaddress.ip_address(address) in ipaddress.ip_network(mask) for mask in self.PRIVATE_NET_MASKS)

    def get_net_name(self, is_public: bool) -> str | None:
        response = self.request("GET", self.path + "/network/", self.READ)
        assert response.status_int == 200
        lines = response.text.split("\n")
        if len(lines) == 1 and lines[0].startswith("X-OCCI-Location: "):
            return os.path.basename(lines[0][17:])
        for line in lines:
            if line.startswith("X-OCCI-Location: "):
                net_url = line[17:]
                described = self.request("GET", net_url, self.READ)
                address = self.get_occi_attribute_value(described.text, "occi.network.address")
                if described.status_int == 200 and address:
                    if self.is_private(address.split("/")[0]) != is_public:
                        return os.path.basename(net_url)
        return None

    # --- volumes ---

    def create_volume(self, size: int, name: str) -> str:
        volume_id = f"im-vol-{uuid.uuid1()}"
        body = f'Category: storage; scheme="{INFRA}"; class="kind"\n'
        body += f'X-OCCI-Attribute: occi.core.id="{volume_id}"\n'
        body += f'X-OCCI-Attribute: occi.core.title="{name}"\n'
        body += f"X-OCCI-Attribute: occi.storage.size={size}\n"
        response = self.request("POST", self.path + "/storage/", self.WRITE, body)
        assert response.status_int in (200, 201), response.text
        return os.path.basename(response.text)

    def wait_volume_state(self, volume_id: str, wait_state: str = "online") -> bool:
        for _ in range(3):
            response = self.request("GET", self.path + "/storage/" + volume_id, self.READ)
            if response.status_int == 200 and self.get_occi_attribute_value(response.text,
                                                                             "occi.storage.state") == wait_state:
                return True
        return False

    # --- compute ---

    def launch(self, os_tpl: str, instance_type: str, volumes: list[tuple[str, str]]) -> tuple[list[int], str]:
        """Create a compute with inline storage links; on 409, retry with network links.
        Returns the statuses seen and the new compute's id."""
        occi_info = self.query_occi()
        os_tpl_scheme = self.get_scheme(occi_info, os_tpl, "os_tpl")
        instance_type_uri = self.get_scheme(occi_info, instance_type, "resource_tpl") + instance_type
        instance_scheme, instance_name = instance_type_uri.split("#")
        body = f'Category: compute; scheme="{INFRA}"; class="kind"\n'
        body += f'Category: {os_tpl}; scheme="{os_tpl_scheme}"; class="mixin"\n'
        body += 'Category: user_data; scheme="http://schemas.openstack.org/compute/instance#"; class="mixin"\n'
        body += ('Category: public_key; scheme="http://schemas.openstack.org/instance/credentials#";'
                 ' class="mixin"\n')
        body += f'Category: {instance_name}; scheme="{instance_scheme}#"; class="mixin"\n'
        compute_id = f"im-{uuid.uuid1()}"
        body += f'X-OCCI-Attribute: occi.core.id="{compute_id}"\n'
        body += 'X-OCCI-Attribute: occi.core.title="im_userimage"\n'
        body += 'X-OCCI-Attribute: occi.compute.hostname="vnode-0"\n'
        body += f'X-OCCI-Attribute: org.openstack.compute.user_data="{CLOUD_CONFIG}"\n'
        body += f'X-OCCI-Attribute: org.openstack.credentials.publickey.data="{SSH_KEY}"\n'
        for device, volume_id in volumes:
            link_id = f"im-{uuid.uuid1()}"
            body += (f'Link: <{self.path}/storage/{volume_id}>; rel="{INFRA}storage"; self="/storagelink/{link_id}"; '
                     f'category="{INFRA}storagelink"; occi.core.target="{self.path}/storage/{volume_id}"; '
                     f'occi.core.source="{self.path}/compute/{compute_id}"; occi.core.id="{link_id}"')
            body += f';occi.storagelink.deviceid="/dev/{device}"\n'
        statuses = []
        response = self.request("POST", self.path + "/compute/", self.WRITE, body)
        statuses.append(response.status_int)
        if response.status_int == 409:
            net_ids = [self.get_net_name(True)]  # the RADL asks for a public network
            private = self.get_net_name(False)
            if private and private not in net_ids:
                net_ids.append(private)
            for net_id in net_ids:
                link_id = f"im-{uuid.uuid1()}"
                body += (f'Link: <{self.path}/network/{net_id}>; rel="{INFRA}network"; '
                         f'self="/networkinterface/{link_id}"; category="{INFRA}networkinterface"; '
                         f'occi.core.target="{self.path}/network/{net_id}"; '
                         f'occi.core.source="{self.path}/compute/{compute_id}"; occi.core.id="{link_id}"\n')
            response = self.request("POST", self.path + "/compute/", self.WRITE, body)
            statuses.append(response.status_int)
        assert response.status_int in (200, 201), response.text
        if "location" in response.headers:
            return statuses, os.path.basename(response.headers["location"])
        return statuses, os.path.basename(response.text)

    def update_vm_info(self, vm_id: str) -> dict:
        response = self.request("GET", self.path + "/compute/" + vm_id, self.READ)
        assert response.status_int == 200
        text = response.text
        return {"state": self.get_occi_attribute_value(text, "occi.compute.state"),
                "title": self.get_occi_attribute_value(text, "occi.core.title"),
                "cores": self.get_occi_attribute_value(text, "occi.compute.cores"),
                "memory": self.get_occi_attribute_value(text, "occi.compute.memory"),
                "nets": self.get_net_info(text), "volumes": self.get_attached_volumes_from_info(text)}

    def get_net_info(self, occi_res: str) -> tuple[bool, list]:
        res, link_to_public = [], False
        for line in occi_res.split("\n"):
            if "Link:" in line and "/network/public" in line:
                link_to_public = True
            if "Link:" in line and ("/network/" in line or "/networklink/" in line):
                number = address = link = None
                for part in line.split(";"):
                    kv = part.split("=")
                    if kv[0].strip() == "occi.networkinterface.address":
                        address = kv[1].strip('"')
                    elif kv[0].strip() == "occi.networkinterface.interface":
                        number = "".join(character for character in kv[1] if character.isdigit())
                    elif kv[0].strip() == "self":
                        link = kv[1].strip('"')
                if number and address:
                    res.append((number, address, not self.is_private(address), link))
        return link_to_public, res

    @staticmethod
    def get_attached_volumes_from_info(occi_res: str) -> list[tuple[str, str, str]]:
        res = []
        for line in occi_res.split("\n"):
            if "Link:" in line and "/storage/" in line:
                link = storage = device = None
                for part in line.split(";"):
                    kv = part.split("=")
                    if kv[0].strip() == "self":
                        link = kv[1].strip('"')
                    elif kv[0].strip() == "occi.storagelink.deviceid":
                        device = kv[1].strip('"')
                    elif kv[0].strip() == "occi.core.target":
                        storage = kv[1].strip('"')
                if link and storage:
                    res.append((link, storage, device))
        return res

    def vm_action(self, vm_id: str, action: str) -> int:
        body = f'Category: {action};scheme="{COMPUTE_ACTIONS}";class="action"\n'
        return self.request("POST", f"{self.path}/compute/{vm_id}?action={action}", self.WRITE, body).status_int

    def attach_volume(self, vm_id: str, volume_id: str, device: str) -> int:
        url = self.get_property_from_category(self.query_occi(), "storagelink", "location")
        assert url, "No location for storagelink category."
        body = f'Category: storagelink;scheme="{INFRA}";class="kind"\n'
        body += f'X-OCCI-Attribute: occi.core.id="imdisk-{uuid.uuid1()}"\n'
        body += f'X-OCCI-Attribute: occi.core.target="{self.path}/storage/{volume_id}"\n'
        body += f'X-OCCI-Attribute: occi.core.source="{self.path}/compute/{vm_id}"'
        body += f'\nX-OCCI-Attribute: occi.storagelink.deviceid="/dev/{device}"'
        return self.request("POST", url, self.WRITE, body).status_int

    def add_public_ip(self, vm_id: str) -> int:
        network_name = self.get_net_name(True)
        url = self.get_property_from_category(self.query_occi(), "networkinterface", "location")
        assert url, "No location for networkinterface category."
        body = f'Category: networkinterface;scheme="{INFRA}";class="kind"\n'
        body += f'X-OCCI-Attribute: occi.core.id="imnet-{uuid.uuid1()}"\n'
        body += f'X-OCCI-Attribute: occi.core.target="{self.path}/network/{network_name}"\n'
        body += f'X-OCCI-Attribute: occi.core.source="{self.path}/compute/{vm_id}"'
        return self.request("POST", url, self.WRITE, body).status_int

    def finalize(self, vm_id: str) -> None:
        """Detach the volumes (by their link's self, joined with a '/': "//storagelink/…"),
        delete the compute, then the volumes."""
        volumes = self.update_vm_info(vm_id)["volumes"]
        for link, _, _ in volumes:
            url = link if link.startswith("http") else self.path + "/" + link
            assert self.request("GET", url, self.READ).status_int == 200
            assert self.request("DELETE", url, self.READ).status_int in (204, 200)
            assert self.request("GET", url, self.READ).status_int == 404
        assert self.request("DELETE", self.path + "/compute/" + vm_id, self.READ).status_int in (200, 204)
        for _, storage, _ in volumes:
            assert self.request("GET", storage, self.READ).status_int == 200
            assert self.request("DELETE", storage, self.READ).status_int in (200, 204)
            assert self.request("GET", storage, self.READ).status_int == 404


@pytest.fixture
def im(client) -> InfrastructureManager:
    return InfrastructureManager(client)


def private_network(client) -> str:
    """A network of the project's own besides the shared public one (the ordinary use of issue 12)."""
    body = "\n".join([f'Category: network; scheme="{INFRA}"; class="kind"',
                      'Category: ipnetwork; scheme="http://schemas.ogf.org/occi/infrastructure/network#"; '
                      'class="mixin"', 'X-OCCI-Attribute: occi.network.address="10.20.0.0/24"'])
    return path_of(client.post("/network/", body, headers={"Content-Type": "text/plain"}, status=201)
                   .headers["Location"])


def test_im_falls_back_to_basic_when_there_is_no_keystone(im, world):
    assert im.keystone_uri(world.anonymous()) is None


def test_im_finds_the_template_schemes(im):
    occi_info = im.query_occi()
    assert im.get_scheme(occi_info, "debian-12", "os_tpl") == "http://occistack.local/occi/infrastructure/os_tpl#"
    assert im.get_scheme(occi_info, "small", "resource_tpl") == \
        "http://schemas.ogf.org/occi/infrastructure/compute/template/1.1#"


def test_im_creates_a_volume_and_waits_for_it(im):
    volume_id = im.create_volume(1, f"im-disk-{uuid.uuid1()}")
    assert volume_id.startswith("im-vol-")
    assert im.wait_volume_state(volume_id)


def test_im_creates_without_links_after_a_private_network(im, client):
    """Issue 12: a user's own private network no longer makes the IM's link-less create a 409;
    the compute joins the zone's public network (the project chose no default)."""
    private_network(client)
    volume_id = im.create_volume(1, "im-disk")
    statuses, vm_id = im.launch("ubuntu-24.04", "small", [("vdb", volume_id)])
    assert statuses == [201]
    info = im.update_vm_info(vm_id)
    assert info["state"] == "active" and info["title"] == "im_userimage"
    assert (info["cores"], float(info["memory"]) * 1024) == ("1", 1024.0)
    link_to_public, addresses = info["nets"]
    assert link_to_public
    assert [is_public for _, _, is_public, _ in addresses] == [True]
    assert {link.split("/")[1] for _, _, _, link in addresses} == {"networkinterface"}
    [(link, storage, device)] = info["volumes"]
    assert link.startswith("/storagelink/im-") and storage == f"/storage/{volume_id}" and device == "/dev/vdb"


def test_im_drives_the_compute_lifecycle(im, client):
    _, vm_id = im.launch("cirros-0.6", "small", [])  # one network only: no 409
    for action, state in (("suspend", "suspended"), ("start", "active"), ("restart", "active"),
                          ("stop", "inactive"), ("start", "active")):
        assert im.vm_action(vm_id, action) == 200
        assert im.update_vm_info(vm_id)["state"] == state


def test_im_attaches_a_volume_and_adds_a_public_ip_later(im, client):
    private_network(client)
    statuses, vm_id = im.launch("cirros-0.6", "small", [])
    assert statuses == [201]  # on the public network, the project's own network notwithstanding
    volume_id = im.create_volume(2, "im-disk-later")
    assert im.attach_volume(vm_id, volume_id, "vdc") in (200, 201)
    assert im.update_vm_info(vm_id)["volumes"][0][1:] == (f"/storage/{volume_id}", "/dev/vdc")
    assert im.add_public_ip(vm_id) in (200, 201)
    link_to_public, addresses = im.update_vm_info(vm_id)["nets"]
    assert link_to_public and len(addresses) == 2


def test_im_finalizes_by_detaching_deleting_and_cleaning_up(im):
    volume_id = im.create_volume(1, "im-disk")
    _, vm_id = im.launch("cirros-0.6", "small", [("vdb", volume_id)])
    im.finalize(vm_id)
    assert im.request("GET", "/compute/" + vm_id, im.READ).status_int == 404


# =============================================================================================
# ARGO nagios-promoo OCCI probes (over rOCCI-api)
# =============================================================================================

PROBE = {"Accept": "text/plain,text/occi;q=0.2", "Content-Type": "text/plain,text/occi",
         "User-Agent": "rOCCI-core/4.3.9 rOCCI-api/4.3.9 OCCI/1.1 nagios-promoo/1.4.0"}


def test_argo_kinds_probe(client):
    model = model_of(client.get("/-/", headers=PROBE, status=200).text)
    assert {CORE + "entity", CORE + "resource", CORE + "link"} <= set(model)
    for kind in ("compute", "storage", "network", "storagelink", "networkinterface"):
        assert model[INFRA + kind]["class"] == "kind"
        client.get(model[INFRA + kind]["location"], headers=PROBE, status=200)


def test_argo_mixins_probe(client):
    model = model_of(client.get("/-/", headers=PROBE, status=200).text)
    for mixin in (INFRA + "os_tpl", INFRA + "resource_tpl", OPENSTACK_PUBLIC_KEY, OPENSTACK_USER_DATA):
        assert mixin in model, f"{mixin} is missing"


def smallest_resource_tpl(client) -> tuple[str, str]:
    """What the probe learns from AppDB: the smallest template by memory + 1000 × CPUs."""
    sizes = []
    for mixin in client.get("/-/", headers={"Accept": "application/occi+json"}).json["mixins"]:
        if INFRA + "resource_tpl" in mixin.get("depends", ()):
            defaults = {name: spec.get("default") for name, spec in mixin["attributes"].items()}
            sizes.append((float(defaults["occi.compute.memory"]) + 1000 * int(defaults["occi.compute.cores"]),
                          mixin["scheme"], mixin["term"]))
    _, scheme, term = min(sizes)
    return scheme, term


@pytest.mark.parametrize("with_storage", [False, True], ids=["compute", "compute-with-storage"])
def test_argo_compute_probe(client, with_storage):
    def create(path: str, body: str) -> str:
        response = client.post(path, body, headers=PROBE)
        assert response.status_int in (200, 201)
        return response.headers["Location"]

    def wait_for(location: str, wanted: str) -> None:
        for _ in range(5):
            state = next(line.split("=", 1)[1].strip('"') for line in client.get(path_of(location), headers=PROBE)
                         .text.split("\n") if line.startswith("X-OCCI-Attribute: ") and ".state=" in line)
            assert state != "error"
            if state == wanted:
                return
        raise AssertionError(f"{location} never became {wanted}")

    for _ in range(2):  # clean-up of earlier runs' leftovers
        client.delete("/compute/", headers=PROBE, status=200)
    scheme, term = smallest_resource_tpl(client)
    assert term == "tiny"
    compute = create("/compute/", "\n".join([
        f'Category: compute;scheme="{INFRA}";class="kind"',
        'Category: cirros-0.6;scheme="http://occistack.local/occi/infrastructure/os_tpl#";class="mixin"',
        f'Category: {term};scheme="{scheme}";class="mixin"',
        'X-OCCI-Attribute: occi.core.title="sam-nagios-promoo-1700000000"',
        'X-OCCI-Attribute: occi.compute.hostname="sam-nagios-promoo-1700000000"']))
    wait_for(compute, "active")
    storage = None
    if with_storage:
        storage = create("/storage/", "\n".join([f'Category: storage;scheme="{INFRA}";class="kind"',
                                                  'X-OCCI-Attribute: occi.core.title="sam-nagios-promoo-block-1"',
                                                  "X-OCCI-Attribute: occi.storage.size=1"]))
        wait_for(storage, "online")
        link = create("/storagelink/", "\n".join([f'Category: storagelink;scheme="{INFRA}";class="kind"',
                                                   f'X-OCCI-Attribute: occi.core.source="{path_of(compute)}"',
                                                   f'X-OCCI-Attribute: occi.core.target="{path_of(storage)}"']))
        wait_for(link, "active")
    for location in filter(None, (compute, storage)):
        client.delete(path_of(location), headers=PROBE, status=200)
        client.get(path_of(location), headers=PROBE, status=404)
    assert categories(client.get("/-/", headers=PROBE))[0]["term"] == "entity"
