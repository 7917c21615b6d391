"""No route answers a malformed request with a 500.

The requests are generated from the application's route table: every route gets a concrete path
(an existing entity for the OCCI entity routes, rows that do not exist for the admin API's item
routes) and then every kind of malformed request the attack battery sent -- bodies that are not
JSON, nest 50,000 deep, carry numbers beyond any column, arrive under a wrong or form content
type, are larger than the site accepts; paths and query strings that are not UTF-8 once
percent-decoded or hold a NUL; ids of 40 digits -- with each method the route might take. Each
face is called by the caller it is for (a member for OCCI, an admin for the admin API, a host's
token for the agents' channel, nobody for the token service), so the request gets past the
authentication into the views. Every answer is a status a client understands, with a message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from pyramid.interfaces import IRoutesMapper

from occistack.api.occi.paths import KIND_ROUTES
from tests.api.admin_client import add_host_with_token
from tests.api.occi_face import OCCIClient
from tests.occi import TEXT, compute_body, link_line, network_body, path_of, storage_body

#: The token service's routes exist only when it runs; a small body limit keeps the oversize
#: requests cheap (the default's 413 has a test of its own, in test_hostile_input.py).
BODY_LIMIT = 65536
WORLD_SETTINGS = {"occistack.keystone.builtin": "true", "occistack.max_request_body_bytes": str(BODY_LIMIT)}

JSON_TYPE = "application/json"
FORTY_NINES = "9" * 40


@dataclass(frozen=True)
class Malformed:
    """One kind of malformed request: what it does to the path and query, its body and type."""

    name: str
    methods: tuple[str, ...]
    body: bytes = b""
    content_type: str | None = None
    path_suffix: str = ""
    query: str = ""
    #: replace every id (digits or an entity's id) in the path with this
    id_in_path: str | None = None


_DEEP = b"[" * 50_000 + b"]" * 50_000
_HUGE_NUMBERS = json.dumps({"id": 10 ** 40, "cores": 1e300, "limit": -(10 ** 30), "host_id": 2 ** 70,
                            "wait_seconds": 1e308, "occi.compute.speed": 1e308}).encode()
_BODY_METHODS = ("POST", "PUT", "PATCH")
_PATH_METHODS = ("GET", "HEAD", "DELETE")

MALFORMED = (
    Malformed("not JSON", _BODY_METHODS, b'{"auth": {"identity": ', JSON_TYPE),
    Malformed("deep JSON", _BODY_METHODS, _DEEP, JSON_TYPE),
    Malformed("deep JSON object", ("POST",), b'{"a":' * 30_000 + b"1" + b"}" * 30_000, JSON_TYPE),
    Malformed("huge numbers", _BODY_METHODS, _HUGE_NUMBERS, JSON_TYPE),
    Malformed("huge numbers in text/plain", ("POST", "PUT"),
              b'Category: compute; scheme="http://schemas.ogf.org/occi/infrastructure#"; class="kind"\n'
              b"X-OCCI-Attribute: occi.compute.cores=" + b"9" * 40 + b", occi.compute.speed=1e308", "text/plain"),
    Malformed("NUL in JSON", ("POST",), b'{"name": "a\\u0000b", "type": "Heartbeat", "host_id": 1}', JSON_TYPE),
    Malformed("not UTF-8 body", ("POST",), b'{"name": "\xff\xfe"}', JSON_TYPE),
    Malformed("form type, not UTF-8", ("POST", "PUT"), b"name=%ff&zone=%00", "application/x-www-form-urlencoded"),
    Malformed("multipart junk", ("POST",), b"--x\r\nContent-Disposition: form-data\r\n\r\n\xff",
              "multipart/form-data; boundary=x"),
    Malformed("wrong type", ("POST", "PUT"), b"<xml/>", "application/xml"),
    Malformed("oversize body", ("POST", "PUT"), b"x" * (BODY_LIMIT + 1), JSON_TYPE),
    Malformed("path not UTF-8", _PATH_METHODS + ("POST",), path_suffix="%c3%28"),
    Malformed("NUL in path", _PATH_METHODS, path_suffix="%00"),
    Malformed("query not UTF-8", _PATH_METHODS + ("POST",), query="?project=%ff&zone=%c3%28"),
    Malformed("NUL in query", _PATH_METHODS, query="?resource=%00&action=%00"),
    Malformed("huge numbers in query", ("GET",),
              query=f"?zone_id={FORTY_NINES}&limit={FORTY_NINES}&page={FORTY_NINES}&number=-1"),
    Malformed("40-digit id", _PATH_METHODS + ("POST",), id_in_path=FORTY_NINES),
)

#: What a client may be answered. 500 and 503 (the database is there) mean a bug.
ANSWERS = {200, 201, 300, 400, 401, 403, 404, 405, 406, 409, 413, 415}


def concrete_path(name: str, pattern: str, entities: dict[str, str]) -> str:
    """The route's pattern with its placeholders filled in."""
    path = pattern
    if "{kind}/{entity_id}" in path:  # the admin API's view of any project's resource
        path = path.replace("{kind}/{entity_id}", "compute/" + entities["compute"])
    if "{vm_id}" in path:  # the admin API's view of any project's guest
        path = path.replace("{vm_id}", entities["compute"])
    if "{entity_id}" in path:
        path = path.replace("{entity_id}", entities[KIND_ROUTES[name].kind.term])
    path = re.sub(r"\{\w*id:\\d\+\}", "999999", path)
    replacements = {"{action}": "enable", "{slash:/?}": "/", "{identity_provider}": "egi.eu",
                    "{protocol}": "mapped", "*rest": "nothing", "*location": "nothing/here/",
                    "{name}": "placement.capacity_threshold"}
    for placeholder, value in replacements.items():
        path = path.replace(placeholder, value)
    assert "{" not in path and "*" not in path, f"route {name} has a placeholder this test cannot fill: {pattern}"
    return path


def malformed_path(path: str, malformed: Malformed, entities: dict[str, str]) -> str:
    if malformed.id_in_path is not None:
        path = re.sub(r"/\d+(?=/|$)", "/" + malformed.id_in_path, path)
        for entity_id in entities.values():
            path = path.replace(entity_id, malformed.id_in_path)
    return path + malformed.path_suffix + malformed.query


@pytest.fixture(scope="module")
def member(world) -> OCCIClient:
    return world.client("walker")


@pytest.fixture(scope="module")
def entities(member) -> dict[str, str]:
    """kind → the id of an entity of that kind the member owns."""
    network = path_of(member.post("/network/", network_body(address=None), headers=TEXT, status=201)
                      .headers["Location"])
    volume = path_of(member.post("/storage/", storage_body(1), headers=TEXT, status=201).headers["Location"])
    compute = path_of(member.post("/compute/", compute_body(link_line(network, "network", "networkinterface"),
                                                            link_line(volume, "storage", "storagelink")),
                                  headers=TEXT, status=201).headers["Location"])
    ids = {"compute": compute, "network": network, "storage": volume}
    for link in member.get(compute, headers={"Accept": "application/occi+json"}).json["links"]:
        ids[link["kind"].rsplit("#", 1)[1]] = f"/x/{link['id']}"
    return {kind: location.rsplit("/", 1)[1] for kind, location in ids.items()}


@pytest.fixture(scope="module")
def agent_token(root) -> str:
    """A host's token: the agents' channel reads a message only from a credential."""
    return add_host_with_token(root, "walk", 250)["agent_token"]


def routes_of(wsgi_app) -> list[tuple[str, str]]:
    return [(route.name, route.pattern) for route in wsgi_app.registry.getUtility(IRoutesMapper).get_routes()]


def caller_for(name: str, world, member, root, agent_token):
    """(the client, extra headers) of the caller the route is for."""
    if name.startswith("admin") or name == "metrics":
        return root, {}
    if name == "healthz":
        return world.anonymous(), {}
    if name == "agent_messages":
        return world.anonymous(), {"Authorization": f"Bearer {agent_token}"}
    if name.startswith("keystone"):
        return world.anonymous(), {}
    return member, {}


def test_no_route_answers_a_malformed_request_with_a_500(world, member, entities, root, agent_token):
    routes = routes_of(world.wsgi_app)
    assert any(name.startswith("keystone") for name, _ in routes) and any(name == "agent_messages"
                                                                          for name, _ in routes)
    failures, sent = [], 0
    for name, pattern in routes:
        client, headers = caller_for(name, world, member, root, agent_token)
        base = concrete_path(name, pattern, entities)
        for malformed in MALFORMED:
            path = malformed_path(base, malformed, entities)
            for method in malformed.methods:
                request_headers = dict(headers)
                if malformed.content_type is not None:
                    request_headers["Content-Type"] = malformed.content_type
                response = client.request(path, method=method, body=malformed.body, headers=request_headers,
                                          expect_errors=True)
                sent += 1
                problem = None if _is_health_answer(name, response) else _problem(method, response)
                if problem:
                    failures.append(f"{method} {path[:120]} [{name}, {malformed.name}] → {problem}")
    assert not failures, f"{len(failures)} of {sent} malformed requests:\n" + "\n".join(failures[:40])


def _is_health_answer(route: str, response) -> bool:
    """/healthz answers 503 when a required check fails -- in the world, no worker ever beats --
    and that is its answer, not an error, when it says which checks failed."""
    if route != "healthz" or response.status_int != 503:
        return False
    if response.request.method == "HEAD":
        return True
    checks = json.loads(response.body).get("checks", {})
    return checks.get("database", {}).get("status") == "ok" and checks.get("workers", {}).get("status") == "failing"


def _problem(method: str, response) -> str | None:
    status = response.status_int
    if status not in ANSWERS:
        return f"{response.status}: {response.body[:300]!r}"
    if status >= 400 and method != "HEAD":
        if not response.body.strip():
            return f"{response.status} without a message"
        if response.content_type in ("application/json", "application/occi+json"):
            error = json.loads(response.body).get("error", {})
            if not (isinstance(error, dict) and error.get("message")):
                return f"{response.status} whose JSON names no error message: {response.body[:200]!r}"
    return None
