"""The attack battery's bad-input findings, each pinned down through the real WSGI stack: every
one was a 500 (or a 10 MB summary stored and listed); each is now a 4xx that says what was wrong
and what is accepted.
"""

from __future__ import annotations

import json

import pytest
from pyramid.exceptions import ConfigurationError
from webob import Request

from occistack.api.settings import ServerSettings
from tests.occi import (INFRA, JSON, OPENSTACK_USER_DATA, OS_TPL, TEXT, attribute, compute_body, mixin, path_of,
                        storage_body)

WORLD_SETTINGS = {"occistack.keystone.builtin": "true"}
AGENT = "/agent/v1/messages"
DEEP = b"[" * 100_000 + b"]" * 100_000
FACTS = {"cpu_sockets": 1, "cpu_cores": 4, "cpu_mhz": 2000, "memory_mib": 4096}
ONE_MIB = 1024 * 1024


def error(response) -> str:
    return response.json["error"]["message"]


# --- the agents' channel: any caller with a Bearer header reaches the parser -------------------------

@pytest.mark.parametrize(("message", "named"), [
    ({"type": "Register", "host_name": "h", "token": 5, "protocol_version": 1, "facts": FACTS},
     "Register.token must be text"),
    ({"type": "Register", "host_name": "h", "token": "t\u00e9\u0000", "protocol_version": 1, "facts": FACTS},
     "Register.token must be text"),
    ({"type": "Register", "host_name": ["h"], "token": "t", "protocol_version": 1, "facts": FACTS},
     "Register.host_name must be text"),
    ({"type": "Register", "host_name": "h", "token": "t", "protocol_version": 1, "facts": {**FACTS, "cpu_mhz": "x"}},
     "Register.facts.cpu_mhz must be a whole number from 0 to 9223372036854775807"),
    ({"type": "Register", "host_name": "h", "token": "t", "protocol_version": 1,
      "facts": {**FACTS, "agent_version": "v" * 33}}, "Register.facts.agent_version must be at most 32 characters"),
    ({"type": "Register", "host_name": "h", "token": "t", "protocol_version": 1,
      "facts": {**FACTS, "memory_mib": 2 ** 31}},
     "Register.facts.memory_mib must be a whole number of at most 2147483647"),
    ({"type": "Fetch", "host_id": 1, "wait_seconds": "x"}, "Fetch.wait_seconds must be a finite number"),
    ({"type": "Fetch", "host_id": 1, "wait_seconds": float("nan")}, "Fetch.wait_seconds must be a finite number"),
    ({"type": "Heartbeat", "host_id": 2 ** 70},
     "Heartbeat.host_id must be a whole number from 1 to 9223372036854775807"),
    ({"type": "Heartbeat", "host_id": True}, "Heartbeat.host_id must be a whole number"),
    ({"type": "Heartbeat", "host_id": 1, "guests": ["a"]}, "Heartbeat.guests must be an object"),
    ({"type": "Answers", "host_id": 1, "answers": "x"}, "Answers.answers must be an array"),
    ({"type": "Answers", "host_id": 1, "answers": ["x"]}, "Answers.answers[0] must be an object (Answer)"),
    ({"type": "Answers", "host_id": 1, "answers": [{"host_id": 1, "command_id": 0, "ok": True}]},
     "Answers.answers[0].command_id must be a whole number from 1"),
    ({"type": "Answer", "host_id": 1, "command_id": 1, "ok": "yes"}, "Answer.ok must be true or false"),
    ({"type": "Answer", "host_id": 1, "command_id": 1, "ok": True, "result": {"a": json.loads("[" * 40 + "]" * 40)}},
     "Answer.result['a'] nests deeper than 32 levels"),
    ({"type": "Fetch"}, "Fetch lacks the field host_id"),
    ({"type": "Fetch", "host_id": 1, "hostid": 1}, "Fetch has no field 'hostid'"),
])
def test_an_agent_message_of_the_wrong_shape_is_400_naming_the_field(world, message, named):
    response = world.anonymous().post(AGENT, json.dumps(message), headers={"Authorization": "Bearer junk",
                                                                            "Content-Type": "application/json"},
                                      status=400)
    assert named in error(response), error(response)


def test_a_deeply_nested_agent_message_is_400(world):
    response = world.anonymous().post(AGENT, DEEP, headers={"Authorization": "Bearer junk"}, status=400)
    assert "nests too deeply" in error(response)


def test_a_non_ascii_token_is_refused_not_crashed_on(world):
    message = {"type": "Register", "host_name": "h", "token": "t\u00e9", "protocol_version": 1, "facts": FACTS}
    response = world.anonymous().post(AGENT, json.dumps(message), headers={"Authorization": "Bearer t"}, status=403)
    assert "differ" in error(response)


# --- the token service ---------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/keystone/v3/auth/tokens", "/keystone/v2.0/tokens"])
def test_deeply_nested_json_at_the_token_service_is_400(world, path):
    for body in (DEEP, b'{"auth":' * 50_000 + b"{}" + b"}" * 50_000):
        response = world.anonymous().post(path, body, headers={"Content-Type": "application/json"}, status=400)
        assert "nests too deeply" in error(response)


# --- OCCI: numbers in range, lengths limited -----------------------------------------------------------

@pytest.mark.parametrize("speed", ["1e308", "1e400", "101", "-1"])
def test_a_compute_speed_out_of_range_is_400_naming_the_range(client, speed):
    response = client.post("/compute/", compute_body(attribute("occi.compute.speed", speed), size=None),
                           headers=TEXT, status=400)
    assert "occi.compute.speed" in response.text and ("from 0 to 100" in response.text
                                                       or "finite" in response.text)


def test_a_compute_speed_of_1e308_in_json_is_400(client):
    document = {"kind": INFRA + "compute", "mixins": [OS_TPL + "debian-12"],
                "attributes": {"occi.compute.speed": 1e308}}
    response = client.post("/compute/", json.dumps(document), headers=JSON, status=400)
    assert "from 0 to 100" in error(response)


def test_a_10_mb_summary_is_refused_unread_with_413_naming_the_limit(client):
    body = storage_body(1, attribute("occi.core.summary", "x" * (10 * ONE_MIB)))
    response = client.post("/storage/", body, headers=TEXT, status=413)
    assert "at most 1048576 bytes" in response.text and "occistack.max_request_body_bytes" in response.text
    assert client.get("/storage/", headers=TEXT).text == ""


def test_a_body_without_content_length_is_read_only_up_to_the_limit(world, client):
    """A chunked body (no Content-Length; the server marks the input terminated) is read up to one
    byte past the limit: above it 413, within it the request is served."""
    def chunked(body: bytes) -> Request:
        request = Request.blank("/storage/", method="POST", headers={**TEXT, "Authorization":
                                                                     client.extra_environ["HTTP_AUTHORIZATION"]})
        request.environ["wsgi.input"] = _CountingInput(body)
        request.environ.pop("CONTENT_LENGTH", None)
        request.environ["HTTP_TRANSFER_ENCODING"] = "chunked"
        request.environ["wsgi.input_terminated"] = True
        return request

    oversize = chunked(storage_body(1, attribute("occi.core.summary", "x" * (2 * ONE_MIB))).encode())
    response = oversize.get_response(world.wsgi_app)
    assert response.status_int == 413 and "at most 1048576 bytes" in response.text
    assert oversize.environ["wsgi.input"].read_so_far == ONE_MIB + 1
    assert client.get("/storage/", headers=TEXT).text == ""
    fitting = chunked(storage_body(1, attribute("occi.core.summary", "sent in chunks")).encode())
    response = fitting.get_response(world.wsgi_app)
    assert response.status_int == 201, response.text
    assert 'occi.core.summary="sent in chunks"' in client.get(path_of(response.headers["Location"]), headers=TEXT).text


class _CountingInput:
    """A WSGI input that remembers how much of it was read."""

    def __init__(self, data: bytes):
        self.data, self.read_so_far = data, 0

    def read(self, size: int = -1) -> bytes:
        end = len(self.data) if size is None or size < 0 else self.read_so_far + size
        chunk = self.data[self.read_so_far:end]
        self.read_so_far += len(chunk)
        return chunk


def test_an_attribute_longer_than_the_site_allows_is_400_naming_it_and_the_limit(client):
    response = client.post("/storage/", storage_body(1, attribute("occi.core.summary", "s" * 4097)), headers=TEXT,
                           status=400)
    assert "occi.core.summary is 4097 characters long" in response.text and "at most 4096" in response.text
    assert "occistack.max_attribute_length" in response.text
    client.post("/storage/", storage_body(1, attribute("occi.core.summary", "s" * 4096)), headers=TEXT, status=201)
    document = {"kind": INFRA + "storage", "attributes": {"occi.storage.size": 1, "occi.core.summary": ["s" * 5000]}}
    response = client.post("/storage/", json.dumps(document), headers=JSON, status=400)
    assert "occi.core.summary" in error(response)


def test_user_data_may_be_as_long_as_nova_allows_but_no_longer(client):
    def with_user_data(length: int) -> str:
        return compute_body(mixin("user_data", OPENSTACK_USER_DATA),
                            attribute("org.openstack.compute.user_data", "QUFB" * (length // 4)))

    client.post("/compute/", with_user_data(60_000), headers=TEXT, status=201)
    response = client.post("/compute/", with_user_data(65_536), headers=TEXT, status=400)
    assert "org.openstack.compute.user_data" in response.text and "65535" in response.text


# --- the admin API ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/admin/hosts/" + "9" * 40, "/admin/zones/9223372036854775808",
                                  "/admin/hosts/" + "9" * 40 + "/actions/enable",
                                  "/admin/physical-networks/1/vlan-ranges/" + "9" * 30])
def test_an_id_beyond_64_bits_in_an_admin_path_is_400_naming_the_range(root, path):
    response = root.request(path, method="POST" if "actions" in path else "GET", status=400)
    assert "ids are whole numbers from 1 to 9223372036854775807" in error(response)


@pytest.mark.parametrize(("body", "named"), [
    ({"term": "huge", "cores": 1e300, "memory_gib": 1}, "field 'cores' must be a whole number from"),
    ({"term": "huge", "cores": 2 ** 40, "memory_gib": 1}, "field 'cores' must be a whole number from"),
    ({"term": "huge", "cores": 1, "memory_gib": 1e300}, "field 'memory_gib' must be a number from"),
    ({"term": "huge", "cores": 1, "memory_gib": 1, "title": "a\u0000b"}, "field 'title' contains a NUL"),
    ({"term": "huge\ud800", "cores": 1, "memory_gib": 1}, "field 'term' contains a lone UTF-16 surrogate"),
])
def test_numbers_beyond_the_columns_and_unstorable_text_in_an_admin_body_are_400(root, body, named):
    response = root.post("/admin/offerings", json.dumps(body), headers={"Content-Type": "application/json"},
                         status=400)
    assert named in error(response), error(response)


def test_a_reference_id_beyond_64_bits_is_400(root):
    response = root.post_json("/admin/pods", {"zone_id": 2 ** 70, "name": "p", "cidr": "10.0.0.0/24",
                                              "gateway": "10.0.0.1"}, status=400)
    assert "must be an id (a whole number from 1 to 9223372036854775807)" in error(response)


@pytest.mark.parametrize(("query", "named"), [
    ("?project=%ff", "not UTF-8"), ("?resource=%00", "NUL"), ("?project=a%c3%28", "not UTF-8"),
    ("?project_id=" + "9" * 40, "must be an id (a whole number from 1 to 9223372036854775807)"),
    ("?limit=" + "9" * 40, "from 0 to 2147483647"), ("?limit=%d9%a3", "from 0 to 2147483647"),
])
def test_an_admin_query_that_cannot_be_decoded_or_is_out_of_range_is_400(root, query, named):
    response = root.get("/admin/events" + query, status=400)
    assert response.content_type == "application/json" and named in error(response), response.text


def test_deeply_nested_json_at_the_admin_api_is_400(root):
    response = root.post("/admin/zones", DEEP, headers={"Content-Type": "application/json"}, status=400)
    assert "nests too deeply" in error(response)


def test_an_oversize_admin_body_is_413_in_json(root):
    response = root.post("/admin/zones", b" " * (ONE_MIB + 1), headers={"Content-Type": "application/json"},
                         status=413)
    assert "at most 1048576 bytes" in error(response)


# --- the settings ---------------------------------------------------------------------------------------

def test_the_limits_are_site_settings_with_defaults():
    defaults = ServerSettings.from_ini({})
    assert (defaults.max_request_body_bytes, defaults.max_attribute_length) == (ONE_MIB, 4096)
    chosen = ServerSettings.from_ini({"occistack.max_request_body_bytes": "2048",
                                      "occistack.max_attribute_length": " 100 "})
    assert (chosen.max_request_body_bytes, chosen.max_attribute_length) == (2048, 100)
    for wrong in ("0", "-5", "lots", "1.5"):
        with pytest.raises(ConfigurationError, match="occistack.max_attribute_length"):
            ServerSettings.from_ini({"occistack.max_attribute_length": wrong})
