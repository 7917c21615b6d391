"""Admin views of the global settings and the alerts.

    GET    /admin/settings            every setting: value, default, type, range, description
    GET    /admin/settings/{name}     one
    PATCH  /admin/settings/{name}     {"value": 0.7}: change it, in force at once
    DELETE /admin/settings/{name}     back to its default (the ini file's value)
    GET    /admin/alerts[?kind=...]   the alerts standing, newest first
    DELETE /admin/alerts/{id}         clear one
    DELETE /admin/alerts              clear every one
"""

from __future__ import annotations

from occistack.plane.admin.cases import operations
from occistack.plane.admin.cases.operations import SettingChange
from occistack.api.admin.context import ADMIN
from occistack.api.admin.support import add_method_not_allowed, fields, json_response, path_id, read_body, record_json

SETTING_FIELDS = fields("value:scalar!")


def list_settings(request):
    return json_response([record_json(record) for record in operations.list_settings(request.plane)])


def show_setting(request):
    return json_response(record_json(operations.show_setting(request.plane, request.matchdict["name"])))


def change_setting(request):
    value = read_body(request, SETTING_FIELDS)["value"]
    return json_response(record_json(operations.change_setting(
        request.plane, SettingChange(request.matchdict["name"], value))))


def reset_setting(request):
    return json_response(record_json(operations.reset_setting(request.plane, request.matchdict["name"])))


def list_alerts(request):
    kind = request.params.get("kind")
    return json_response([record_json(alert) for alert in operations.list_alerts(request.plane, kind)])


def clear_alert(request):
    return json_response({"cleared": [record_json(operations.clear_alert(request.plane, path_id(request)))]})


def clear_all_alerts(request):
    return json_response({"cleared": operations.clear_all_alerts(request.plane).count})


def includeme(config) -> None:
    views = (
        ("admin_settings", {"GET": list_settings}),
        ("admin_settings_item", {"GET": show_setting, "PATCH": change_setting, "DELETE": reset_setting}),
        ("admin_alerts", {"GET": list_alerts, "DELETE": clear_all_alerts}),
        ("admin_alerts_item", {"DELETE": clear_alert}),
    )
    for route, by_method in views:
        for method, view in by_method.items():
            config.add_view(view, route_name=route, request_method=method, permission=ADMIN)
        add_method_not_allowed(config, route, list(by_method))
