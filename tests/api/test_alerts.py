"""Alerts, each raised through the real code path that sees what it reports -- the worker's
sweep finding a silent host, a fencing job that fails, the sweep finding a zone past its
capacity alert threshold, a template download that fails -- then listed and cleared through
the admin API."""

from __future__ import annotations

from tests.api.admin_client import error_of
from tests.api.test_global_settings import seed_small_hosts
from tests.api.test_high_availability import agent_goes_silent, new_compute, plane_of, revive  # noqa: F401
from tests.api.test_management_plane import create

WORLD_SEED = seed_small_hosts


def alerts(root, **filters) -> list[dict]:
    return root.get("/admin/alerts", filters).json


def test_a_silent_host_that_cannot_be_fenced_raises_host_down_and_fence_failed(world, client, root, revive):
    vm, host_id = new_compute(world, client, ha=True)
    agent_goes_silent(world, host_id)  # the sweep: Up -> Disconnected -> Alert, then the fencing job

    down = [alert for alert in alerts(root, kind="host.down") if alert["resource_id"] == str(host_id)]
    assert len(down) == 1 and "stopped answering" in down[0]["message"] and down[0]["resource_type"] == "host"
    failed = [alert for alert in alerts(root, kind="host.fence_failed") if alert["resource_id"] == str(host_id)]
    assert len(failed) == 1 and "no BMC is recorded" in failed[0]["message"]
    # Swept again while they stand: recorded once.
    plane_of(world).worker.sweep()
    plane_of(world).settle()
    assert len([a for a in alerts(root, kind="host.down") if a["resource_id"] == str(host_id)]) == 1

    cleared = root.delete(f"/admin/alerts/{down[0]['id']}").json["cleared"]
    assert [alert["id"] for alert in cleared] == [down[0]["id"]]
    assert down[0]["id"] not in [alert["id"] for alert in alerts(root)]
    root.delete("/admin/alerts")
    assert alerts(root) == []
    client.delete(f"/compute/{vm}", status=200)


def test_a_zone_past_its_capacity_alert_threshold_raises_zone_capacity(world, client, root):
    root.patch_json("/admin/settings/alerts.capacity_threshold", {"value": 0.2})
    try:
        plane_of(world).worker.sweep()
        assert alerts(root, kind="zone.capacity") == [], "an empty zone is below any threshold"
        vm = create(client).headers["Location"]  # a quarter of the zone's memory
        plane_of(world).worker.sweep()
        found = alerts(root, kind="zone.capacity")
        assert len(found) == 1 and found[0]["resource_type"] == "zone"
        assert "above the 20% capacity alert threshold: memory 25% allocated" in found[0]["message"]
        assert found[0]["zone_id"] == int(found[0]["resource_id"])
        client.delete(vm, status=200)
    finally:
        root.delete("/admin/settings/alerts.capacity_threshold")
        root.delete("/admin/alerts")


def test_a_failed_template_download_raises_template_download_failed(world, root):
    world.drivers.secondary.failures.fail_next("download_template", "cannot download http://x/y: refused")
    created = root.post_json("/admin/templates", {"term": "broken-img", "url": "http://x/y.qcow2",
                                                  "checksum": "sha256:" + "2" * 64, "zone": "zone1"}, status=201).json
    assert root.get(f"/admin/templates/{created['id']}").json["state"] == "error"
    found = alerts(root, kind="template.download_failed")
    assert len(found) == 1 and found[0]["resource_type"] == "template-copy"
    assert "'broken-img' could not be downloaded into zone 'zone1': cannot download http://x/y: refused" \
        in found[0]["message"]
    root.delete(f"/admin/alerts/{found[0]['id']}")
    root.delete(f"/admin/templates/{created['id']}")


def test_unknown_alerts_and_kinds_are_refused_with_what_exists(root, member):
    assert "no alert 999999" in error_of(root.delete("/admin/alerts/999999", expect_errors=True), 404)
    message = error_of(root.get("/admin/alerts", {"kind": "disk.full"}, expect_errors=True), 400)
    assert "host.down" in message and "zone.capacity" in message
    member.get("/admin/alerts", status=403)
    member.delete("/admin/alerts", status=403)


def test_the_sweep_reads_the_heartbeat_timings_in_force(world, client, root, revive):
    vm, host_id = new_compute(world, client, ha=True)
    root.patch_json("/admin/settings/agents.disconnected_after", {"value": 3600})
    root.patch_json("/admin/settings/agents.alert_after", {"value": 7200})
    try:
        agent_goes_silent(world, host_id)  # 10 minutes of silence: within an hour
        assert root.get(f"/admin/hosts/{host_id}").json["status"] == "up"
        assert alerts(root, kind="host.down") == []
    finally:
        root.delete("/admin/settings/agents.disconnected_after")
        root.delete("/admin/settings/agents.alert_after")
    agent_goes_silent(world, host_id)  # back to 30 and 90 seconds
    assert root.get(f"/admin/hosts/{host_id}").json["status"] == "alert"
    assert [alert["resource_id"] for alert in alerts(root, kind="host.down")] == [str(host_id)]
    root.delete("/admin/alerts")
    client.delete(f"/compute/{vm}", status=200)
