"""Admin views of users' SSH key pairs: an administrator lists anyone's (``?user=`` for one
user's), imports or generates one for a user, shows and deletes them. Users manage their own at
``/user/keypairs`` (api/occi/views/keypairs.py) without the admin role."""

from __future__ import annotations

from occistack.plane.admin.cases import keypairs
from occistack.plane.admin.cases.keypairs import KeypairFilter, KeypairImport, NewKeypair
from occistack.plane.admin.records.keypairs import KeypairRecord
from occistack.plane.errors import InvalidRequest
from occistack.api.admin.support import AdminResource, add_resource_views, by_id, fields, query_ref, read_body, \
    record_json

#: public_key imports the user's key; without it the server generates one (key_type, bits).
KEYPAIR_FIELDS = fields("user:ref!", "name!", "public_key", "key_type", "bits:integer")


def _create(request):
    body = read_body(request, KEYPAIR_FIELDS)
    user = body.pop("user")
    if "public_key" in body:
        if "key_type" in body or "bits" in body:
            raise InvalidRequest("give public_key to import the user's key, or key_type and bits to have one "
                                 "generated; not both")
        return keypairs.import_keypair(request.plane, user, KeypairImport(**body))
    made = keypairs.create_keypair(request.plane, user, NewKeypair(**body))
    # The private key is in this answer only: the server keeps the public half alone.
    return made.keypair, {"private_key": made.private_key}


def _keypair_json(record: KeypairRecord) -> dict:
    return record_json(record, user_name=record.user_name)


RESOURCES = (
    AdminResource(
        "keypairs", "key pair", by_id(keypairs.show_keypair),
        list_records=lambda request: keypairs.list_keypairs(request.plane, KeypairFilter(user=query_ref(request,
                                                                                                        "user"))),
        create=_create,
        remove=by_id(keypairs.remove_keypair),
        render=_keypair_json,
    ),
)


def includeme(config) -> None:
    for resource in RESOURCES:
        add_resource_views(config, resource)
