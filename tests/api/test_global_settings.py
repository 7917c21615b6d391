"""Global settings through the admin API: listed with their defaults and ranges, changed and
reset at run time, refused with what they accept -- and in force at once: a capacity threshold
changed by PATCH decides the very next placement, with no restart."""

from __future__ import annotations

from sqlalchemy import update

from occistack.demo import seed_demo
from occistack.model import Host, Job
from occistack.plane.tunables import TUNABLES
from tests.api.admin_client import error_of
from tests.api.test_management_plane import create

#: The demo's two hosts with 2 GiB of memory each and no memory overcommit: one small
#: compute (1 GiB) takes a quarter of the cluster's memory.
def seed_small_hosts(session) -> None:
    seed_demo(session)
    session.execute(update(Host).values(memory_mib=2048, memory_overcommit=1.0))


WORLD_SEED = seed_small_hosts
WORLD_SETTINGS = {"occistack.placement.capacity_threshold": "0.85", "occistack.jobs.max_attempts": "4"}
THRESHOLD = "/admin/settings/placement.capacity_threshold"


def test_the_settings_are_listed_with_their_ini_defaults_and_ranges(root):
    listed = {setting["name"]: setting for setting in root.get("/admin/settings").json}
    assert list(listed) == [tunable.name for tunable in TUNABLES]
    threshold = listed["placement.capacity_threshold"]
    assert threshold["value"] == threshold["default"] == 0.85 and threshold["changed"] is False
    assert (threshold["minimum"], threshold["maximum"], threshold["type"]) == (0.05, 1.0, "number")
    assert threshold["ini_key"] == "occistack.placement.capacity_threshold" and threshold["description"]
    assert listed["jobs.max_attempts"]["default"] == 4, "the ini file's value is the default"
    assert "settings" in root.get("/admin/").json["resources"]


def test_a_change_is_shown_kept_and_reset(root):
    changed = root.patch_json("/admin/settings/agents.alert_after", {"value": "120"}).json
    assert changed["value"] == 120 and changed["changed"] is True and changed["updated_by"].startswith("admin:")
    assert root.get("/admin/settings/agents.alert_after").json["value"] == 120
    reset = root.delete("/admin/settings/agents.alert_after").json
    assert reset["value"] == reset["default"] == 90 and reset["changed"] is False
    events = root.get("/admin/events", {"resource": "setting"}).json
    assert [event["action"] for event in events[:2]] == ["setting.reset", "setting.update"]


def test_a_wrong_name_or_value_is_refused_with_what_is_accepted(root, member):
    message = error_of(root.patch_json("/admin/settings/placement.nope", {"value": 1}, expect_errors=True), 404)
    assert "no setting 'placement.nope'" in message and "placement.capacity_threshold" in message
    message = error_of(root.patch_json(THRESHOLD, {"value": 1.5}, expect_errors=True), 400)
    assert "out of range" in message and "a number from 0.05 to 1" in message
    message = error_of(root.patch_json("/admin/settings/jobs.max_attempts", {"value": "2.5"}, expect_errors=True), 400)
    assert "not a whole number" in message and "from 1 to 20" in message
    message = error_of(root.patch_json(THRESHOLD, {"value": [1]}, expect_errors=True), 400)
    assert "a number, or text holding one" in message
    error_of(root.patch_json(THRESHOLD, {}, expect_errors=True), 400)
    member.patch_json(THRESHOLD, {"value": 0.5}, status=403)
    member.get("/admin/settings", status=403)
    assert root.get(THRESHOLD).json["changed"] is False


def computes_of(client, *created) -> list[str]:
    return [response.headers["Location"] for response in created]


def test_a_capacity_threshold_changed_at_run_time_decides_the_next_placement(world, client, root):
    made = computes_of(client, create(client))  # a quarter of the cluster's memory is now allocated
    root.patch_json(THRESHOLD, {"value": 0.2})
    refused = create(client, status=409)
    assert "above the 20% capacity threshold" in refused.text
    root.delete(THRESHOLD)
    made += computes_of(client, create(client))  # back to 85%: the cluster (at 25%) takes it
    root.patch_json(THRESHOLD, {"value": 0.45})
    assert "above the 45% capacity threshold" in create(client, status=409).text
    root.delete(THRESHOLD)
    for location in made:
        client.delete(location, status=200)


def test_a_host_s_overcommit_changed_at_run_time_decides_the_next_placement(world, client, root):
    hosts = [host["id"] for host in root.get("/admin/hosts").json]
    made = computes_of(client, create(client))  # 1 GiB of 4 GiB
    root.patch_json(THRESHOLD, {"value": 0.2})
    try:
        assert "above the 20% capacity threshold" in create(client, status=409).text
        for host in hosts:
            root.patch_json(f"/admin/hosts/{host}", {"memory_overcommit": 2.0})
        made += computes_of(client, create(client))  # 1 GiB of 8 GiB: 12.5%
    finally:
        root.delete(THRESHOLD)
        for location in made:
            client.delete(location, status=200)
        for host in hosts:
            root.patch_json(f"/admin/hosts/{host}", {"memory_overcommit": 1.0})


def test_a_host_added_without_overcommit_factors_gets_the_settings(root):
    root.patch_json("/admin/settings/hosts.cpu_overcommit", {"value": 4})
    root.patch_json("/admin/settings/hosts.memory_overcommit", {"value": "1.5"})
    try:
        cluster = root.get("/admin/clusters").json[0]
        added = root.post_json("/admin/hosts", {"cluster_id": cluster["id"], "name": "defaulted",
                                                "address": "10.0.0.99", "cpu_cores": 4, "cpu_mhz": 2000,
                                                "memory_mib": 4096}, status=201).json
        assert (added["cpu_overcommit"], added["memory_overcommit"]) == (4.0, 1.5)
        given = root.post_json("/admin/hosts", {"cluster_id": cluster["id"], "name": "given", "address": "10.0.0.98",
                                                "cpu_cores": 4, "cpu_mhz": 2000, "memory_mib": 4096,
                                                "cpu_overcommit": 1}, status=201).json
        assert (given["cpu_overcommit"], given["memory_overcommit"]) == (1.0, 1.5)
        for host in (added, given):
            root.delete(f"/admin/hosts/{host['id']}")
    finally:
        root.delete("/admin/settings/hosts.cpu_overcommit")
        root.delete("/admin/settings/hosts.memory_overcommit")


def test_jobs_take_their_attempts_from_the_setting_in_force_when_submitted(world, client, root):
    root.patch_json("/admin/settings/jobs.max_attempts", {"value": 7})
    try:
        made = computes_of(client, create(client))
        with world.session_factory() as session:
            newest = session.query(Job).order_by(Job.id.desc()).first()
        assert newest.max_attempts == 7
        client.delete(made[0], status=200)
    finally:
        root.delete("/admin/settings/jobs.max_attempts")
