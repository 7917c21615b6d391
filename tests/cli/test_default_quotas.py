"""New projects made by the command line start with the site's default quotas
(``occistack.default_quotas``); the ini file decides what they are."""

from __future__ import annotations

import pytest

from tests.cli.conftest import INI, Occistack

DEFAULTS = {"vms": 20.0, "cores": 40.0, "memory_gib": 80.0, "storage_gib": 500.0, "networks": 5.0,
            "public_ips": 10.0}


def quotas_of(occistack, project: str) -> dict[str, float]:
    return {q["resource"]: q["limit"] for q in occistack.json("quota", "list", "--project", project)}


def with_setting(db_url, tmp_path, line: str) -> Occistack:
    path = tmp_path / "limits.ini"
    path.write_text(INI.format(url=db_url, key_file=tmp_path / "secret.key").replace(
        "[alembic]", f"{line}\n\n[alembic]"))
    return Occistack(path)


def test_project_create_gives_the_default_quotas(occistack):
    occistack("project", "create", "lab")
    assert quotas_of(occistack, "lab") == DEFAULTS
    occistack("quota", "set", "--project", "lab", "public_ips", "3")
    assert quotas_of(occistack, "lab")["public_ips"] == 3


def test_user_add_creating_its_project_gives_the_default_quotas(occistack):
    occistack("user", "add", "alice", "--project", "physics", "--password", "a-long-password-1",
              *(["--create-project"] if "--create-project" in occistack("user", "add", "--help").stdout else []))
    assert quotas_of(occistack, "physics") == DEFAULTS


def test_the_ini_file_sets_the_defaults(db_url, tmp_path):
    occistack = with_setting(db_url, tmp_path, "occistack.default_quotas = vms=2, public_ips=1")
    occistack("project", "create", "small")
    assert quotas_of(occistack, "small") == {"vms": 2.0, "public_ips": 1.0}
    events = occistack.json("events", "--project", "small")
    assert "with quotas vms=2, public_ips=1" in events[0]["description"]


def test_an_empty_setting_gives_no_limits(db_url, tmp_path):
    occistack = with_setting(db_url, tmp_path, "occistack.default_quotas =")
    occistack("project", "create", "free")
    assert quotas_of(occistack, "free") == {}


@pytest.mark.parametrize("setting, message", [
    ("gpus=4", "'gpus=4' is not resource=limit with a resource among vms, cores"),
    ("vms=2.5", "the limit of vms must be a whole number, 0 or more; got '2.5'"),
    ("memory_gib=-1", "the limit of memory_gib must be a number, 0 or more; got '-1'"),
])
def test_a_wrong_setting_is_named(db_url, tmp_path, setting, message):
    occistack = with_setting(db_url, tmp_path, f"occistack.default_quotas = {setting}")
    with pytest.raises(ValueError, match="occistack.default_quotas: " + message.replace("(", r"\(")):
        occistack("project", "create", "wrong")
