"""A user's own SSH key pairs, at ``/user/keypairs`` beside the OCCI paths: plain JSON, not OCCI
(OCCI has no kind for a key pair, and a key pair is no entity of a project but a user's own).

Why here and not under ``/keystone``: the Keystone face exists only where the site runs the
built-in token service, and key pairs are for every user however they sign in (a password, a
Keystone token, OIDC, a certificate). Whoever may use the OCCI paths may use these, with the
same credentials and roles: a reader lists and shows, a member or admin also creates, imports
and deletes. A compute created through OCCI names a key pair of the caller's in its ``ssh_key``
or ``public_key`` mixin (api/occi/kinds/compute.py).

    GET    /user/keypairs          the caller's key pairs
    POST   /user/keypairs          {"name", "public_key"}: import; {"name", "key_type"?, "bits"?}: generate
                                   (the answer carries "private_key", this once)
    GET    /user/keypairs/{name}   one of them
    DELETE /user/keypairs/{name}   forget it (computes given the key keep it)
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from pyramid.response import Response

from occistack.api.errors import not_allowed
from occistack.api.occi.contexts import READ, WRITE
from occistack.plane.admin.records.keypairs import KeypairRecord
from occistack.plane.errors import InvalidRequest
from occistack.plane.tenant.keypairs import (
    KeypairImport,
    NewKeypair,
    create_keypair,
    delete_keypair,
    import_keypair,
    list_keypairs,
    show_keypair,
)

#: The routes, which api/routes.py adds.
KEYPAIRS_ROUTE, KEYPAIR_ROUTE = "user_keypairs", "user_keypair"
KEYPAIRS_PATH = "/user/keypairs"
#: field → what it must be, in the words of a 400 answer.
_FIELDS = {"name": "text", "public_key": "text", "key_type": "text", "bits": "a whole number"}


def keypair_json(record: KeypairRecord) -> dict[str, Any]:
    return {"name": record.name, "key_type": record.key_type, "public_key": record.public_key,
            "fingerprint": record.fingerprint, "fingerprint_md5": record.fingerprint_md5,
            "created_at": record.created_at.isoformat(), "user_id": record.user_id, "user_name": record.user_name}


def _json(document: Any, status: int = 200, location: str | None = None) -> Response:
    response = Response(json_body=document, status=status)
    if location is not None:
        response.headers["Location"] = location
    return response


def _location(request, name: str) -> str:
    return request.application_url + KEYPAIRS_PATH + "/" + quote(name, safe="@")


def list_own(request):
    return _json([keypair_json(record) for record in list_keypairs(request.plane)])


def add_own(request):
    body = _body(request)
    name = body.get("name")
    if name is None:
        raise InvalidRequest("missing field 'name': the key pair's name (text)")
    if "public_key" in body:
        if "key_type" in body or "bits" in body:
            raise InvalidRequest("give public_key to import your key, or key_type and bits to have one generated; "
                                 "not both")
        record = import_keypair(request.plane, KeypairImport(name, body["public_key"]))
        return _json(keypair_json(record), 201, _location(request, record.name))
    made = create_keypair(request.plane, NewKeypair(name, body.get("key_type", "ssh-ed25519"), body.get("bits")))
    return _json({**keypair_json(made.keypair), "private_key": made.private_key}, 201,
                 _location(request, made.keypair.name))


def show_own(request):
    return _json(keypair_json(show_keypair(request.plane, request.matchdict["name"])))


def delete_own(request):
    name = request.matchdict["name"]
    delete_keypair(request.plane, name)
    return _json({"removed": {"type": "key pair", "name": name}})


def _body(request) -> dict[str, Any]:
    try:
        document = json.loads(request.body.decode("utf-8")) if request.body else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise InvalidRequest("the body is not JSON: send a JSON object such as "
                             '{"name": "laptop", "public_key": "ssh-ed25519 AAAA..."}') from None
    if not isinstance(document, dict):
        raise InvalidRequest("send a JSON object: {\"name\": ..., \"public_key\": ...} to import a key, "
                             "{\"name\": ..., \"key_type\": \"ssh-ed25519\" or \"ssh-rsa\"} to have one generated")
    for key, value in document.items():
        if key not in _FIELDS:
            raise InvalidRequest(f"unknown field {key!r}; the accepted fields are: {', '.join(_FIELDS)}")
        is_whole = isinstance(value, int) and not isinstance(value, bool)
        if (key == "bits" and not is_whole) or (key != "bits" and not isinstance(value, str)):
            raise InvalidRequest(f"field {key!r} must be {_FIELDS[key]}")
        if isinstance(value, str) and "\x00" in value:
            raise InvalidRequest(f"field {key!r} contains a NUL character, which no field may hold")
    return document


def includeme(config) -> None:
    config.add_view(list_own, route_name=KEYPAIRS_ROUTE, request_method="GET", permission=READ)
    config.add_view(add_own, route_name=KEYPAIRS_ROUTE, request_method="POST", permission=WRITE)
    config.add_view(lambda request: not_allowed(request, ("GET", "HEAD", "POST")), route_name=KEYPAIRS_ROUTE,
                    permission=READ)
    config.add_view(show_own, route_name=KEYPAIR_ROUTE, request_method="GET", permission=READ)
    config.add_view(delete_own, route_name=KEYPAIR_ROUTE, request_method="DELETE", permission=WRITE)
    config.add_view(lambda request: not_allowed(request, ("GET", "HEAD", "DELETE")), route_name=KEYPAIR_ROUTE,
                    permission=READ)
