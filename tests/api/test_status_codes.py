"""Every status code the server gives (GFD.223 §3.6, with the semantics of the 1.1 table the
real clients were written against, SPEC-NOTES §1.1), each rendered in the media type the client
negotiated: text/plain and text/occi carry the message in the body, application/occi+json an
``{"error": {...}}`` object. Every answer's Server and Accept headers and reason phrase are
checked by the client itself (occi_face.OCCIClient).
"""

from __future__ import annotations

import uuid

import pytest
import transaction
from sqlalchemy import update

from occistack.model import Zone
from occistack.model.session import get_tm_session

from tests.conftest import basic
from tests.factories import ZoneFactory
from tests.api.occi_face import (
    HOST,
    INFRA,
    OCCIClient,
    assert_schema,
    attributes,
    occi_header_values,
    path_of,
)

OS_TPL = "http://occistack.local/occi/infrastructure/os_tpl#"
COMPUTE_ACTIONS = "http://schemas.ogf.org/occi/infrastructure/compute/action#"
KIND = f'Category: compute; scheme="{INFRA}"; class="kind"'
COMPUTE = "\n".join([KIND, f'Category: cirros-0.6; scheme="{OS_TPL}"; class="mixin"',
                     'X-OCCI-Attribute: occi.core.title="vm"'])
PLAIN_BODY = {"Content-Type": "text/plain"}
MEDIA = ["text/plain", "text/occi", "application/occi+json"]


@pytest.fixture(params=MEDIA)
def media(request) -> str:
    """The media type the client asks for with Accept."""
    return request.param


def ask(media: str, **headers) -> dict[str, str]:
    return {"Accept": media, **PLAIN_BODY, **headers}


def assert_error(response, status: int, media: str, *words: str) -> str:
    """The answer has ``status``, is rendered in ``media`` exactly, and its message names
    ``words`` (what was wrong and what is accepted); returns the message."""
    assert response.status_int == status
    assert response.headers["Content-Type"] == media
    if media == "application/occi+json":
        error = response.json["error"]
        assert error["code"] == status
        assert error["title"] == response.status.split(" ", 1)[1]
        message = error["message"]
    else:
        message = response.text
    assert message.strip(), "an error says what was wrong"
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    return message


def new_vm(client) -> str:
    return path_of(client.post("/compute/", COMPUTE, headers=ask("text/plain"), status=201).headers["Location"])


# --- 200 and 201 -------------------------------------------------------------------------------

def test_200_renders_the_entity_in_the_negotiated_type(client, media):
    vm = new_vm(client)
    response = client.get(vm, headers={"Accept": media}, status=200)
    assert response.headers["Content-Type"] == media
    if media == "text/plain":
        assert response.text.split("\n")[0].startswith("Category: compute;")
        assert attributes(response.text)["occi.compute.state"] == "active"
    elif media == "text/occi":
        assert response.body == b"OK"
        assert occi_header_values(response, "Category")[0].startswith("compute;")
        assert 'occi.compute.state="active"' in occi_header_values(response, "X-OCCI-Attribute")
    else:
        assert_schema(response.json, "resource")
        assert response.json["attributes"]["occi.compute.state"] == "active"


def test_201_gives_the_absolute_location_in_header_and_body(client, media):
    response = client.post("/compute/", COMPUTE, headers=ask(media), status=201)
    location = response.headers["Location"]
    assert location.startswith(HOST + "/compute/") and len(location) > len(HOST + "/compute/")
    assert response.headers["Content-Type"] == media
    if media == "text/plain":
        assert response.text == f"X-OCCI-Location: {location}"
    elif media == "text/occi":
        assert response.headers["X-OCCI-Location"] == location
        assert response.body == b"OK"
    else:
        assert_schema(response.json, "resource")
        assert HOST + "/compute/" + response.json["id"] == location
    client.get(path_of(location), status=200)


# --- 400 ---------------------------------------------------------------------------------------

def test_400_parse_error_names_line_and_column(client, media):
    body = f'{KIND}\nX-OCCI-Attribute: occi.core.title="never closed'
    response = client.post("/compute/", body, headers=ask(media), status=400)
    message = assert_error(response, 400, media, "line 2", "column")
    assert "parse" in message


def test_400_parse_error_in_a_header_names_the_header(client, media):
    headers = {"Accept": media, "Content-Type": "text/occi", "Category": 'compute; scheme="never closed'}
    response = client.post("/compute/", "", headers=headers, status=400)
    assert_error(response, 400, media, "Category", "column")


def test_400_parse_error_in_json(client, media):
    response = client.post("/compute/", '{"kind": ', headers={"Accept": media,
                                                             "Content-Type": "application/occi+json"}, status=400)
    assert_error(response, 400, media, "JSON")


def test_400_missing_required_attribute(client, media):
    body = f'Category: storage; scheme="{INFRA}"; class="kind"\nX-OCCI-Attribute: occi.core.title="no size"'
    response = client.post("/storage/", body, headers=ask(media), status=400)
    assert_error(response, 400, media, "occi.storage.size", "required")


def test_400_action_not_available_in_the_current_state(client, media):
    vm = new_vm(client)  # active: start is not available
    response = client.post(vm + "?action=start", f'Category: start; scheme="{COMPUTE_ACTIONS}"; class="action"',
                           headers=ask(media), status=400)
    assert_error(response, 400, media, "start", "active")


def test_400_uri_list_of_something_that_is_not_a_listing(client):
    vm = new_vm(client)
    response = client.get(vm, headers={"Accept": "text/uri-list"}, status=400)
    assert "text/uri-list" in response.text


# --- 401 ---------------------------------------------------------------------------------------

def test_401_without_credentials(anonymous_client, media):
    response = anonymous_client.get("/-/", headers={"Accept": media}, status=401)
    assert_error(response, 401, media, "authentication")
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_401_with_wrong_credentials(world, media):
    intruder = OCCIClient(world.wsgi_app, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "wrong")})
    response = intruder.get("/compute/", headers={"Accept": media}, status=401)
    assert_error(response, 401, media)
    assert response.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_401_for_an_unknown_user(world):
    stranger = OCCIClient(world.wsgi_app, extra_environ={"HTTP_AUTHORIZATION": basic("nobody", "nothing")})
    stranger.post("/compute/", COMPUTE, headers=ask("text/plain"), status=401)


# --- 403 ---------------------------------------------------------------------------------------

def test_403_mixin_that_does_not_apply(client, media):
    body = "\n".join([f'Category: storage; scheme="{INFRA}"; class="kind"',
                      f'Category: debian-12; scheme="{OS_TPL}"; class="mixin"', "X-OCCI-Attribute: occi.storage.size=1"])
    response = client.post("/storage/", body, headers=ask(media), status=403)
    assert_error(response, 403, media, "debian-12", "storage")


def test_403_changing_an_immutable_attribute(client, media):
    vm = new_vm(client)
    response = client.post(vm, 'X-OCCI-Attribute: occi.compute.state="inactive"', headers=ask(media), status=403)
    assert_error(response, 403, media, "occi.compute.state", "immutable")
    assert attributes(client.get(vm).text)["occi.compute.state"] == "active"


def test_403_deleting_a_provider_mixin(client, media):
    response = client.delete("/-/", f'Category: debian-12; scheme="{OS_TPL}"; class="mixin"', headers=ask(media),
                             status=403)
    assert_error(response, 403, media, "debian-12", "user-defined")
    client.get("/os_tpl/debian-12/", status=200)


def test_403_changing_the_os_tpl_of_a_compute(client, media):
    vm = new_vm(client)
    response = client.post(vm, f'Category: ubuntu-24.04; scheme="{OS_TPL}"; class="mixin"', headers=ask(media),
                           status=403)
    assert_error(response, 403, media, "os_tpl")


# --- 404 ---------------------------------------------------------------------------------------

def test_404_unknown_kind(client, media):
    body = 'Category: spaceship; scheme="http://example.org/kinds#"; class="kind"'
    response = client.post("/compute/", body, headers=ask(media), status=404)
    assert_error(response, 404, media, "http://example.org/kinds#spaceship", "/-/")


def test_404_unknown_mixin(client, media):
    body = COMPUTE + '\nCategory: spoiler; scheme="http://example.org/tags#"; class="mixin"'
    response = client.post("/compute/", body, headers=ask(media), status=404)
    assert_error(response, 404, media, "spoiler")


def test_400_unknown_os_tpl_in_a_create(client, media):
    # A create asking for a template the site does not offer is malformed, not a missing
    # resource (issue 12; it was a 404 before).
    body = COMPUTE + f'\nCategory: windows-95; scheme="{OS_TPL}"; class="mixin"'
    response = client.post("/compute/", body, headers=ask(media), status=400)
    assert_error(response, 400, media, "windows-95", "/os_tpl/")


def test_404_unknown_action(client, media):
    vm = new_vm(client)
    response = client.post(vm + "?action=fly", "", headers=ask(media), status=404)
    assert_error(response, 404, media, "fly", "start")


def test_404_unknown_attribute(client, media):
    vm = new_vm(client)
    response = client.post(vm, "X-OCCI-Attribute: occi.compute.wings=2", headers=ask(media), status=404)
    assert_error(response, 404, media, "occi.compute.wings")


@pytest.mark.parametrize("path", ["/nowhere/at/all/", "/compute/no-such-compute", "/link/storagelink/none"])
def test_404_unknown_location(client, media, path):
    response = client.get(path, headers={"Accept": media}, status=404)
    assert_error(response, 404, media)


def test_404_for_another_projects_entity(client, other_client, media):
    vm = new_vm(client)
    response = other_client.get(vm, headers={"Accept": media}, status=404)
    assert_error(response, 404, media, vm)


# --- 405 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [("PUT", "/compute/"), ("PUT", "/-/"), ("PATCH", "/compute/x"),
                                          ("PUT", "/.well-known/org/ogf/occi/-/")])
def test_405_with_allow(client, media, method, path):
    response = client.request(path, method=method, body=KIND.encode(), headers=ask(media), status=405)
    assert_error(response, 405, media, method)
    allowed = {name.strip() for name in response.headers["Allow"].split(",")}
    assert method not in allowed and "GET" in allowed


# --- 406 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("accept", ["application/xml", "text/html", "text/plain;q=0"])
def test_406_when_no_acceptable_rendering_exists(client, accept):
    response = client.get("/compute/", headers={"Accept": accept}, status=406)
    # Nothing the client accepts can carry the message, so it comes as text/plain.
    assert_error(response, 406, "text/plain", "text/plain", "application/occi+json")


# --- 409 ---------------------------------------------------------------------------------------

def test_409_when_a_link_crosses_zones(world, client, media):
    # Issue 12: this was the 409 of a link-less create once the project owned a network of its
    # own (the compute now joins /network/public); a network of another zone is a 409 instead.
    zone = f"elsewhere-{uuid.uuid4().hex[:6]}"
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        ZoneFactory(session=get_tm_session(world.session_factory, manager), name=zone, network_type="advanced")
    network = path_of(client.post("/network/", "\n".join([
        f'Category: network; scheme="{INFRA}"; class="kind"',
        f'Category: {zone}; scheme="http://occistack.local/occi/infrastructure/availability_zone#"; class="mixin"']),
        headers=ask("text/plain"), status=201).headers["Location"])
    with manager:
        get_tm_session(world.session_factory, manager).execute(
            update(Zone).where(Zone.name == zone).values(enabled=False))  # nothing else of the module lands there
    zone1 = 'Category: zone1; scheme="http://occistack.local/occi/infrastructure/availability_zone#"; class="mixin"'
    response = client.post("/compute/", COMPUTE + f'\n{zone1}\nLink: <{network}>; rel="{INFRA}network"',
                           headers=ask(media), status=409)
    assert_error(response, 409, media, network.rsplit("/", 1)[1], f"zone {zone}", "zone zone1")
    assert client.get("/compute/", headers={"Accept": "text/plain"}).body == b""


def test_200_deleting_a_network_in_use_unplugs_it_and_the_compute_keeps_running(client, media):
    """Issue 12: a delete is always accepted (it was a 409 naming the computes): the computes'
    interfaces on the network are unplugged first, then the network goes; they keep running."""
    vm = new_vm(client)  # joins the only network it can see: /network/public is the cloud's
    network = path_of(client.post("/network/", f'Category: network; scheme="{INFRA}"; class="kind"',
                                  headers=ask("text/plain"), status=201).headers["Location"])
    nic = path_of(client.post("/networkinterface/", "\n".join([
        f'Category: networkinterface; scheme="{INFRA}"; class="kind"',
        f'X-OCCI-Attribute: occi.core.source="{vm}"', f'X-OCCI-Attribute: occi.core.target="{network}"']),
        headers=ask("text/plain"), status=201).headers["Location"])
    client.delete(network, headers={"Accept": media}, status=200)
    client.get(network, status=404)
    client.get(nic, status=404)
    rendered = client.get(vm, headers={"Accept": "text/plain"}).text
    assert 'occi.compute.state="active"' in rendered and network not in rendered


def test_409_duplicate_occi_core_id(client, media):
    chosen = f"dup-{uuid.uuid4()}"
    client.post("/compute/", COMPUTE + f'\nX-OCCI-Attribute: occi.core.id="{chosen}"', headers=ask("text/plain"),
                status=201)
    response = client.post("/compute/", COMPUTE + f'\nX-OCCI-Attribute: occi.core.id="{chosen}"',
                           headers=ask(media), status=409)
    assert_error(response, 409, media, chosen)


# --- 413, 415 ----------------------------------------------------------------------------------

def test_413_page_too_large(client, media):
    response = client.get("/compute/?page=1&number=1000000", headers={"Accept": media}, status=413)
    assert_error(response, 413, media, "number")


@pytest.mark.parametrize("content_type", ["application/xml", "image/png"])
def test_415_body_of_an_unknown_type(client, media, content_type):
    response = client.post("/compute/", "<compute/>", headers={"Accept": media, "Content-Type": content_type},
                           status=415)
    assert_error(response, 415, media, content_type, "text/plain")
    assert client.get("/compute/", headers={"Accept": "text/plain"}).body == b""


# --- 501 ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("user_agent", ["occi-client/1.1 (linux) libcurl/7.19.4 OCCI/1.3", "x OCCI/2.0"])
def test_501_for_a_newer_occi_version(client, media, user_agent):
    response = client.get("/-/", headers={"Accept": media, "User-Agent": user_agent}, status=501)
    assert_error(response, 501, media, "OCCI 1.2", user_agent.rsplit(" ", 1)[1])


@pytest.mark.parametrize("user_agent", ["rOCCI-core/4.3.9 rOCCI-api/4.3.9 OCCI/1.1 ruby-2.1.5",
                                        "occi-client/1.1 (linux) libcurl/7.19.4 OCCI/1.2", "OCCI/1.0",
                                        "python-requests/2.31.0"])
def test_older_and_current_occi_versions_work(client, user_agent):
    client.get("/-/", headers={"User-Agent": user_agent}, status=200)
    client.post("/compute/", COMPUTE, headers=ask("text/plain", **{"User-Agent": user_agent}), status=201)
