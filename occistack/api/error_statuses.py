"""The one table from a refusal's kind to the status each HTTP face answers.

Rows are the plane's error kinds (occistack/plane/errors.py), columns the faces. A new face --
the OpenStack-compatible API, CloudStack's, EC2's -- is a new field of :class:`FaceStatuses`
and a value in every row; a face whose answers carry more than a status (CloudStack's
``errorcode``, EC2's error ``Code``) makes its field's type say so. A unit test checks that
every kind has a row and every row a value for each face.

Where the faces differ, the row says why. An action the resource's current state does not
allow (``wrong_state``) is 400 on the OCCI face: GFD.185 §3.6.8, the table the OCCI clients were
written against, answers an unavailable action so, and the face has always done so; the admin
API answers 409, as Nova does for an instance in the wrong state, and so will an OpenStack face.
Quota and capacity refusals are 409 on every face: the same request, sent again once something
has been deleted or freed, may succeed.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Mapping, NamedTuple

from occistack.plane.errors import ErrorKind


class FaceStatuses(NamedTuple):
    """The status each face answers for one kind of refusal."""

    occi: int
    admin: int
    keystone: int
    agents: int


FACES: tuple[str, ...] = FaceStatuses._fields

STATUSES: Mapping[ErrorKind, FaceStatuses] = MappingProxyType({
    ErrorKind.INVALID: FaceStatuses(occi=400, admin=400, keystone=400, agents=400),
    ErrorKind.NOT_FOUND: FaceStatuses(occi=404, admin=404, keystone=404, agents=404),
    ErrorKind.CONFLICT: FaceStatuses(occi=409, admin=409, keystone=409, agents=409),
    ErrorKind.WRONG_STATE: FaceStatuses(occi=400, admin=409, keystone=409, agents=409),
    ErrorKind.FORBIDDEN: FaceStatuses(occi=403, admin=403, keystone=403, agents=403),
    ErrorKind.QUOTA: FaceStatuses(occi=409, admin=409, keystone=409, agents=409),
    ErrorKind.CAPACITY: FaceStatuses(occi=409, admin=409, keystone=409, agents=409),
    ErrorKind.UNAVAILABLE: FaceStatuses(occi=503, admin=503, keystone=503, agents=503),
})

#: Route names start with their face's name (api/routes.py); the OCCI face owns the rest.
_ROUTE_PREFIXES = (("admin", "admin"), ("keystone", "keystone"), ("agent", "agents"))


def face_of(request) -> str:
    """Which face a request came in through, from the route it matched."""
    route = getattr(request, "matched_route", None)
    name = route.name if route is not None else ""
    return next((face for prefix, face in _ROUTE_PREFIXES if name.startswith(prefix)), "occi")


def status_for(kind: ErrorKind, face: str) -> int:
    return getattr(STATUSES[kind], face)
