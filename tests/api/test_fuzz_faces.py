"""No request to the admin API, the token service or the agents' channel produces a 500.

The companion of test_fuzz.py (which throws OCCI renderings at the OCCI face), with its value
strategies: property tests that send each of the other faces its own kind of input, valid
documents with fields replaced by values of the wrong type, numbers beyond 64 bits, NaN,
unicode, NUL and lone surrogates, fields dropped and added -- the admin API's JSON bodies and
query filters (as an admin), the token service's v3 and v2.0 bodies and token headers (with a
real token now and then), and the agents' messages (with a real host's id and token, so they
get past the authentication into the gateway). Whatever arrives, the answer is a 2xx or a 4xx
with a message.
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from urllib.parse import quote, urlencode

import pytest
from hypothesis import event, given
from hypothesis import strategies as st
from sqlalchemy import select

from occistack.hostagent.protocol import PROTOCOL_VERSION
from occistack.model import User
from occistack.api.admin import catalog, hosts, inventory, networks, tenancy
from occistack.api.orchestration import server_plane
from tests.api.admin_client import add_host_with_token
from tests.api.test_fuzz import JSON_VALUES, NUMBERS, TEXT_PIECES, fuzz_settings, rarely

pytestmark = pytest.mark.slow

WORLD_SETTINGS = {"occistack.keystone.builtin": "true"}
JSON_TYPE = {"Content-Type": "application/json"}

ODD_VALUES = st.one_of(
    JSON_VALUES,
    st.sampled_from([2 ** 63, 2 ** 64, 2 ** 70, -(2 ** 63) - 1, 10 ** 40, 1e300, -1e308, float("nan"), float("inf"),
                     "\x00", "a\x00b", "\ud800", "9" * 40, "", [], {}, [[[[[[[[]]]]]]]], True, None]),
).map(copy.deepcopy)


def send(client, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None,
         answers: frozenset[int] = frozenset()) -> None:
    response = client.request(path, method=method, body=body, headers=headers or {}, expect_errors=True)
    event(f"answered {response.status_int}")
    assert response.status_int in answers, \
        f"{method} {path} {body[:300]!r} → {response.status}: {response.body[:400]!r}"
    if response.status_int >= 400:
        assert response.content_type == "application/json", response.content_type
        assert json.loads(response.body)["error"]["message"], response.body


@st.composite
def mutated_tree(draw, seeds: list) -> object:
    """One of ``seeds`` (JSON documents) with a few nodes replaced, dropped or added."""
    document = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(0, 3))):
        places, pending = [], [document]
        while pending:
            node = pending.pop()
            children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
            for key, child in children:
                places.append((node, key))
                pending.append(child)
        if not places:
            break
        parent, key = draw(st.sampled_from(places))
        edit = draw(st.sampled_from(("replace", "replace", "drop", "add")))
        if edit == "replace":
            parent[key] = draw(ODD_VALUES)
        elif edit == "drop":
            del parent[key]
        elif isinstance(parent, dict):
            parent[draw(TEXT_PIECES)] = draw(ODD_VALUES)
        else:
            parent.append(draw(ODD_VALUES))
    return document


def as_json(document) -> bytes:
    return json.dumps(document).encode("utf-8", "surrogatepass")


# --- the admin API ---------------------------------------------------------------------------------------

ADMIN_ANSWERS = frozenset({200, 201, 400, 404, 409})
#: The admin API's bodies, by the path they are posted to ({host} is a host of the world's).
ADMIN_BODIES = {
    "/admin/regions": inventory.REGION_FIELDS, "/admin/zones": inventory.ZONE_FIELDS,
    "/admin/pods": inventory.POD_FIELDS, "/admin/clusters": inventory.CLUSTER_FIELDS,
    "/admin/hosts": hosts.HOST_FIELDS, "/admin/storage-pools": hosts.STORAGE_POOL_FIELDS,
    "/admin/secondary-storage": hosts.SECONDARY_STORAGE_FIELDS, "/admin/hosts/{host}/actions/bmc": hosts.BMC_FIELDS,
    "/admin/physical-networks": networks.PHYSICAL_NETWORK_FIELDS, "/admin/ip-ranges": networks.IP_RANGE_FIELDS,
    "/admin/physical-networks/1/vlan-ranges": networks.VLAN_RANGE_FIELDS,
    "/admin/offerings": tenancy.OFFERING_FIELDS, "/admin/domains": tenancy.DOMAIN_FIELDS,
    "/admin/accounts": tenancy.ACCOUNT_FIELDS, "/admin/projects": tenancy.PROJECT_FIELDS,
    "/admin/users": tenancy.USER_FIELDS, "/admin/quotas": tenancy.QUOTA_FIELDS,
    "/admin/templates": catalog.TEMPLATE_FIELDS, "/admin/affinity-groups": catalog.AFFINITY_GROUP_FIELDS,
}
SANE_TEXTS = st.sampled_from(["fuzz", "zone1", "demo", "10.0.0.0/24", "10.0.0.1", "10.0.0.200", "nfs", "/export",
                              "http://example.org/x.img", "sha256:" + "0" * 64, "guest", "public", "management",
                              "kvm", "vlan", "instances", "cores", "member", "admin", "affinity", "qcow2"])
SANE_BY_KIND = {
    "text": st.one_of(SANE_TEXTS, TEXT_PIECES),
    "integer": st.integers(-2, 5000),
    "number": st.floats(0, 100, allow_nan=False),
    "boolean": st.booleans(),
    "ref": st.one_of(st.integers(1, 4), SANE_TEXTS),
    "texts": st.one_of(SANE_TEXTS, st.lists(SANE_TEXTS, max_size=3)),
    "object": st.dictionaries(SANE_TEXTS, JSON_VALUES, max_size=2),
    "vlan_ranges": st.lists(st.one_of(st.just("100-200"), st.tuples(NUMBERS, NUMBERS).map(list)), max_size=2),
}


@st.composite
def admin_bodies(draw, accepted) -> dict:
    body = {}
    for field in accepted:
        if field.required or draw(st.booleans()):
            name = field.name + ("_id" if field.kind == "ref" and draw(st.integers(1, 4)) == 1 else "")
            body[name] = rarely(draw, ODD_VALUES, SANE_BY_KIND[field.kind], one_in=4)
    if draw(st.integers(1, 8)) == 1:
        body[draw(TEXT_PIECES)] = draw(ODD_VALUES)
    return body


@pytest.fixture(scope="module")
def host(root) -> dict:
    return add_host_with_token(root, "fuzz", 251)


@fuzz_settings(examples=100)
@given(data=st.data())
def test_admin_bodies_are_answered_never_failed(root, host, data):
    path = data.draw(st.sampled_from(sorted(ADMIN_BODIES)))
    body = data.draw(admin_bodies(ADMIN_BODIES[path]))
    if data.draw(st.integers(1, 8)) == 1:
        body = data.draw(mutated_tree([body]))
    send(root, "POST", path.replace("{host}", str(host["id"])), as_json(body), JSON_TYPE, ADMIN_ANSWERS)


ADMIN_LISTINGS = sorted({path for path in ADMIN_BODIES if "{" not in path} | {"/admin/events", "/admin/capacity"})
FILTERS = ("zone", "zone_id", "pod", "pod_id", "cluster", "cluster_id", "project", "project_id", "resource",
           "action", "since", "limit", "under", "under_id", "domain", "domain_id", "account", "account_id",
           "purpose", "format")
FILTER_VALUES = st.one_of(
    st.sampled_from(["1", "2", "zone1", "demo", "0", "-1", "9" * 40, "2026-12-01T10:00:00Z", "yesterday", "10"]),
    TEXT_PIECES, NUMBERS.map(str),
)


@fuzz_settings(examples=100)
@given(data=st.data())
def test_admin_query_filters_are_answered_never_failed(root, data):
    path = data.draw(st.sampled_from(ADMIN_LISTINGS))
    chosen = data.draw(st.dictionaries(st.sampled_from(FILTERS), FILTER_VALUES, max_size=3))
    query = urlencode(chosen, quote_via=quote, encoding="utf-8", errors="surrogatepass")
    if data.draw(st.integers(1, 6)) == 1:
        query += data.draw(st.sampled_from(["&zone=%ff", "&project=%00", "&limit=%d9%a3", "&x", "&=&", "&since=%"]))
    send(root, "GET", f"{path}?{query}", answers=ADMIN_ANSWERS)


# --- the token service -----------------------------------------------------------------------------------

KEYSTONE_ANSWERS = frozenset({200, 201, 400, 401, 403, 404})


@pytest.fixture(scope="module")
def unscoped_token(world, root) -> str:
    """A real unscoped token of a user who has a project, as the federation dance would end."""
    with world.session_factory() as session:
        user_id = session.scalar(select(User.id).where(User.name == "demo"))
    return world.wsgi_app.registry["occistack.keystone_tokens"].issue(user_id, None, ("oidc",))[0]


def keystone_seeds(token: str) -> dict[str, list]:
    identity = {"methods": ["token"], "token": {"id": token}}
    return {
        "/keystone/v3/auth/tokens": [
            {"auth": {"identity": identity}},
            {"auth": {"identity": identity, "scope": {"project": {"id": "1"}}}},
            {"auth": {"identity": identity, "scope": {"project": {"name": "demo", "domain": {"id": "default"}}}}},
            {"auth": {"identity": {"methods": ["oidc", "mapped"]}, "scope": {"project": {"name": "demo"}}}},
        ],
        "/keystone/v2.0/tokens": [
            {"auth": {"voms": True, "tenantName": "demo"}},
            {"auth": {"token": {"id": token}, "tenantName": "demo"}},
            {"auth": {"token": {"id": token}, "tenantId": "1"}},
        ],
    }


@fuzz_settings(examples=100)
@given(data=st.data())
def test_token_service_bodies_are_answered_never_failed(world, unscoped_token, data):
    seeds = keystone_seeds(unscoped_token)
    path = data.draw(st.sampled_from(sorted(seeds)))
    body = as_json(data.draw(mutated_tree(seeds[path])))
    headers = dict(JSON_TYPE)
    if data.draw(st.integers(1, 4)) == 1:
        headers["X-Auth-Token"] = data.draw(st.one_of(st.just(unscoped_token), TEXT_PIECES.map(_header_safe)))
    send(world.anonymous(), "POST", path, body, headers, KEYSTONE_ANSWERS)


@fuzz_settings(examples=50)
@given(data=st.data())
def test_token_headers_are_answered_never_failed(world, unscoped_token, data):
    path = data.draw(st.sampled_from(["/keystone/v3/auth/projects", "/keystone/v2.0/tenants",
                                      "/keystone/v3/auth/tokens"]))
    token = data.draw(st.one_of(st.just(unscoped_token), TEXT_PIECES.map(_header_safe),
                                st.just(unscoped_token[:-3] + "AAA"), st.just(unscoped_token + "=")))
    name = data.draw(st.sampled_from(["X-Auth-Token", "X-Subject-Token"]))
    send(world.anonymous(), "GET", path, headers={name: token}, answers=KEYSTONE_ANSWERS | {405})


def _header_safe(text: str) -> str:
    return text.encode("utf-8", "surrogatepass").decode("latin-1").replace("\r", " ").replace("\n", " ")


# --- the agents' channel ---------------------------------------------------------------------------------

AGENT_ANSWERS = frozenset({200, 400, 401, 403, 409})


@pytest.fixture(scope="module")
def agent_world(world, host):
    """The world's channel without long polls (a fetch that waits would hold each example for the
    poll's length); restored afterwards."""
    channel = server_plane(world.wsgi_app.registry).plane.channel
    kept = channel.settings
    channel.settings = replace(kept, poll_seconds=0.0)
    yield world
    channel.settings = kept


def agent_seeds(host: dict) -> list[dict]:
    host_id = host["id"]
    facts = {"cpu_sockets": 1, "cpu_cores": 4, "cpu_mhz": 2000, "memory_mib": 4096, "hypervisor": "KVM",
             "bridges": ["br0"], "storage_pools": ["default"]}
    answer = {"host_id": host_id, "command_id": 1, "ok": False, "result": {"size_gib": 1.5}, "error": "failed"}
    return [
        {"type": "Register", "host_name": host["name"], "token": host["agent_token"],
         "protocol_version": PROTOCOL_VERSION,
         "facts": facts},
        {"type": "Heartbeat", "host_id": host_id, "guests": {"i-1": "running", "i-2": "stopped"}},
        {"type": "Heartbeat", "host_id": host_id},
        {"type": "Fetch", "host_id": host_id, "limit": 5, "wait_seconds": 0},
        {"type": "Answer", **answer},
        {"type": "Answers", "host_id": host_id, "answers": [answer, {**answer, "command_id": 2, "ok": True}]},
        {"type": "Commands", "commands": [{"id": 1, "name": "deploy_guest", "payload": {}}]},
    ]


@fuzz_settings(examples=100)
@given(data=st.data())
def test_agent_messages_are_answered_never_failed(agent_world, host, data):
    body = as_json(data.draw(mutated_tree(agent_seeds(host))))
    token = rarely(data.draw, TEXT_PIECES.map(_header_safe), st.just(host["agent_token"]))
    send(agent_world.anonymous(), "POST", "/agent/v1/messages", body,
         {**JSON_TYPE, "Authorization": f"Bearer {token}"}, AGENT_ANSWERS)
