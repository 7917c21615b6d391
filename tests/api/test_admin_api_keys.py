"""Users' API key pairs through the admin API (issue 14, point 2): POST /admin/api-keys answers the
secret once; GET never shows it; POST /admin/api-keys/{id}/actions/revoke ends the pair at once,
as the verifier the CloudStack and EC2 faces will call sees it."""

from __future__ import annotations

import itertools

import pytest

from occistack.api.orchestration import server_plane
from occistack.federation.api_keys import ApiKeyRefused, ApiKeyVerifier, SignedRequest, cloudstack_string_to_sign, sign
from tests.api.admin_client import error_of

_numbers = itertools.count(1)


@pytest.fixture
def alice(root):
    name = f"keyholder{next(_numbers)}"
    return root.post_json("/admin/users", {"name": name, "password": "a-long-password", "project": f"{name}-p",
                                           "create_project": True}, status=201).json


@pytest.fixture
def verifier(world):
    registry = world.wsgi_app.registry
    return ApiKeyVerifier(registry["occistack.engine"], server_plane(registry).sealer.open)


def cloudstack_request(access_key: str, secret: str) -> SignedRequest:
    text = cloudstack_string_to_sign([("command", "listZones"), ("apiKey", access_key), ("response", "json")])
    return SignedRequest(access_key, text, sign(secret, text))


def test_a_key_is_created_listed_used_and_revoked(root, alice, verifier):
    answer = root.post_json("/admin/api-keys", {"user": alice["name"]}, status=201)
    created = answer.json
    assert answer.headers["Location"].endswith(f"/admin/api-keys/{created['id']}")
    assert set(created) == {"id", "user_id", "access_key", "created_at", "last_used_at", "revoked_at", "secret"}
    assert (created["user_id"], created["last_used_at"], created["revoked_at"]) == (alice["id"], None, None)
    secret = created.pop("secret")
    assert root.get(f"/admin/api-keys/{created['id']}").json == created  # never the secret again
    assert verifier.verify(cloudstack_request(created["access_key"], secret)).user_id == alice["id"]
    [listed] = root.get("/admin/api-keys", {"user_id": alice["id"]}).json
    assert listed["access_key"] == created["access_key"] and listed["last_used_at"] is not None
    assert "secret" not in listed and secret not in root.get("/admin/api-keys").text
    revoked = root.post(f"/admin/api-keys/{created['id']}/actions/revoke", status=200).json
    assert revoked["revoked_at"] is not None
    with pytest.raises(ApiKeyRefused, match="revoked"):
        verifier.verify(cloudstack_request(created["access_key"], secret))
    actions = [event["action"] for event in root.get("/admin/events", {"limit": 500}).json
               if event["resource_type"] == "api_key" and str(event["resource_id"]) == str(created["id"])]
    assert actions == ["api_key.revoke", "api_key.create"]


def test_refusals_say_what_is_accepted(root, alice):
    assert error_of(root.post_json("/admin/api-keys", {}, status=400), 400) == \
        "missing field 'user': a name (text) or an id (a whole number from 1 to 9223372036854775807)"
    assert error_of(root.post_json("/admin/api-keys", {"user": "nobody-at-all"}, status=404), 404).startswith(
        "no user named 'nobody-at-all'")
    assert error_of(root.post_json("/admin/api-keys", {"user": alice["id"], "secret": "mine"}, status=400),
                    400).startswith("unknown field 'secret'")
    for _ in range(2):
        root.post_json("/admin/api-keys", {"user": alice["id"]}, status=201)
    assert "already holds 2 API keys" in error_of(root.post_json("/admin/api-keys", {"user": alice["id"]},
                                                                 status=409), 409)
    assert error_of(root.get("/admin/api-keys/999999", status=404), 404) == "no API key with id 999999"
    assert "actions are: revoke" in error_of(root.post("/admin/api-keys/999999/actions/delete", status=404), 404)
    root.delete("/admin/api-keys/1", status=405)


def test_a_member_cannot_reach_api_keys(member):
    member.get("/admin/api-keys", status=403)
    member.post_json("/admin/api-keys", {"user": 1}, status=403)


# --- limits of accounts and domains (issue 14, point 3) -----------------------------------------------
# (Beside the API keys for now: both are issue 14's; the integrator may move them.)

def test_limits_of_a_domain_and_an_account_are_set_listed_and_cleared(root):
    domain = root.post_json("/admin/domains", {"name": f"lim{next(_numbers)}"}, status=201).json
    account = root.post_json("/admin/accounts", {"name": "lab", "domain_id": domain["id"]}, status=201).json
    created = root.post_json("/admin/limits", {"domain": domain["id"], "resource": "vms", "limit": 4}, status=201)
    assert created.json == {"id": created.json["id"], "domain_id": domain["id"], "account_id": None,
                            "resource": "vms", "limit": 4.0, "owner": f"domain {domain['path']}", "used": 0.0}
    assert created.headers["Location"].endswith(f"/admin/limits/{created.json['id']}")
    replaced = root.post_json("/admin/limits", {"domain": domain["id"], "resource": "vms", "limit": 5}, status=200)
    assert (replaced.json["id"], replaced.json["limit"]) == (created.json["id"], 5.0)
    refused = error_of(root.post_json("/admin/limits", {"account": account["id"], "resource": "vms", "limit": 6},
                                      status=409), 409)
    assert refused.startswith(f"account 'lab' may not hold more than domain {domain['path']}")
    root.post_json("/admin/limits", {"account": account["id"], "resource": "vms", "limit": 2}, status=201)
    assert [limit["owner"] for limit in root.get("/admin/limits", {"domain_id": domain["id"]}).json] == [
        f"domain {domain['path']}"]
    root.delete(f"/admin/limits/{created.json['id']}", status=200)
    assert error_of(root.get(f"/admin/limits/{created.json['id']}", status=404), 404) == \
        f"no limit with id {created.json['id']}"
    assert error_of(root.post_json("/admin/limits", {"resource": "vms", "limit": 1}, status=400), 400) == \
        "name the domain or the account whose projects the limit is for"
