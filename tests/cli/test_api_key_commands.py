"""occistack user api-key create|list|revoke (issue 14, point 2): the secret is printed once."""

from __future__ import annotations


def test_a_key_is_created_listed_and_revoked(occistack):
    occistack("user", "add", "alice", "--project", "p1", "--create-project", "--password", "a-long-password")
    created = occistack("user", "api-key", "create", "alice")
    first, keys, secrets = created.stdout.splitlines()
    access_key = keys.split()[-1]
    secret = secrets.split()[-1]
    assert first == f"created API key {access_key} for user alice" and len(secret) == 40
    [listed] = occistack.json("user", "api-key", "list", "alice")
    assert (listed["access_key"], listed["user_name"], listed["last_used_at"], listed["revoked_at"]) == (
        access_key, "alice", None, None)
    table = occistack("user", "api-key", "list").stdout
    assert access_key in table and secret not in table
    assert occistack("user", "api-key", "revoke", access_key).stdout == \
        f"API key {access_key} of user alice is revoked\n"
    assert occistack.json("user", "api-key", "list", "--active") == []
    assert occistack.json("user", "api-key", "list")[0]["revoked_at"] is not None
    as_json = occistack.json("user", "api-key", "create", "alice")
    assert as_json["user_name"] == "alice" and len(as_json["secret"]) == 40
    assert occistack.refused("user", "api-key", "create", "bob").startswith("no user named 'bob'")
    assert occistack.refused("user", "api-key", "revoke", "OSNOPE") == "no API key 'OSNOPE'"


def test_limits_of_accounts_and_domains(occistack):
    """(issue 14, point 3: beside the API keys for now.)"""
    occistack("domain", "create", "sci")
    occistack("account", "create", "lab", "--domain", "/sci/")
    assert occistack("quota", "set", "--domain", "/sci/", "vms", "8").stdout == \
        "the projects of domain /sci/ may hold 8 virtual machines together\n"
    assert occistack("quota", "set", "--account", "lab", "--domain", "/sci/", "vms", "3").stdout == \
        "the projects of account lab may hold 3 virtual machines together\n"
    assert occistack.refused("quota", "set", "--account", "lab", "--domain", "/sci/", "vms", "9").startswith(
        "account 'lab' may not hold more than domain /sci/")
    assert [(limit["owner"], limit["used"], limit["limit"]) for limit in occistack.json("quota", "limits")] == [
        ("domain /sci/", 0.0, 8.0), ("account 'lab'", 0.0, 3.0)]
    assert occistack("quota", "clear", "--domain", "/sci/", "vms").stdout == "domain /sci/ has no vms limit now\n"
    assert "give --project, --account or --domain" in occistack("quota", "set", "vms", "1", status=2).stderr
