"""An administrator of the functional ``world``: a user whose role is admin, with a client that,
like the OCCI clients, lets the worker and agents finish each request's jobs before it returns.

The fixture ``root`` (tests/api/conftest.py) is one of them.
"""

from __future__ import annotations

from webtest import TestApp

from tests.conftest import basic, SettlingTestApp


class AdminClient(SettlingTestApp, TestApp):
    pass


def error_of(response, status: int) -> str:
    """The message of the admin API's JSON error answer, checked to be of ``status``."""
    assert response.status_int == status, response.text
    assert response.content_type == "application/json"
    assert response.json["error"]["code"] == status
    return response.json["error"]["message"]


def new_admin(world, prefix: str = "admin") -> AdminClient:
    """A site administrator of a project of their own, as a client of the admin API."""
    name, password = world.new_project_user(prefix, role="admin")
    return AdminClient(world.wsgi_app, extra_environ={"HTTP_AUTHORIZATION": basic(name, password)})


def add_host_with_token(root: AdminClient, prefix: str, subnet: int) -> dict:
    """A host of a zone, pod and cluster of its own (``10.<subnet>.0.0/24``), as the admin API
    answers it: with its agent token, shown this once."""
    zone = root.post_json("/admin/zones", {"name": f"{prefix}-zone"}, status=201).json
    pod = root.post_json("/admin/pods", {"zone_id": zone["id"], "name": f"{prefix}-pod", "cidr": f"10.{subnet}.0.0/24",
                                         "gateway": f"10.{subnet}.0.1"}, status=201).json
    cluster = root.post_json("/admin/clusters", {"pod_id": pod["id"], "name": f"{prefix}-cluster"}, status=201).json
    return root.post_json("/admin/hosts", {"cluster_id": cluster["id"], "name": f"{prefix}-host",
                                           "address": f"10.{subnet}.0.9", "cpu_cores": 4, "cpu_mhz": 2000,
                                           "memory_mib": 4096}, status=201).json
