"""Admin views of users' API key pairs: POST /admin/api-keys {"user": …} answers the new pair with
its secret (the only answer that ever holds it); GET lists and shows them without it; POST
/admin/api-keys/{id}/actions/revoke ends one (its row stays, to show when it was last used)."""

from __future__ import annotations

from occistack.plane.admin.cases import api_keys
from occistack.plane.admin.cases.api_keys import ApiKeyFilter, NewApiKey
from occistack.plane.admin.records.api_keys import ApiKeyRecord
from occistack.api.admin.support import AdminResource, add_resource_views, body_as, by_id, fields, query_ref

API_KEY_FIELDS = fields("user:ref!")


def _create(request) -> tuple[ApiKeyRecord, dict]:
    created = api_keys.create_api_key(request.plane, body_as(request, API_KEY_FIELDS, NewApiKey))
    return created.key, {"secret": created.secret}


RESOURCES = (
    AdminResource(
        "api-keys", "API key", by_id(api_keys.show_api_key),
        list_records=lambda request: api_keys.list_api_keys(request.plane, ApiKeyFilter(user=query_ref(request, "user"))),
        create=_create,
        actions={"revoke": by_id(api_keys.revoke_api_key)},
    ),
)


def includeme(config) -> None:
    for resource in RESOURCES:
        add_resource_views(config, resource)
