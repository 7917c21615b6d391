"""Route contexts: what a URL names, with the ACL that guards it.

Roles are permissions (model.tenancy.ROLES): a reader may read every OCCI path, a member and
an admin may also write. Which entities a caller can see or change is decided inside, by
queries scoped to their project, so another project's entity is a 404, never a 403 that would
tell it exists.
"""

from __future__ import annotations

from pyramid.authorization import DENY_ALL, Allow

#: Permissions used by the OCCI views.
READ = "occi.read"
WRITE = "occi.write"

#: role → the OCCI permissions it holds.
ROLE_PERMISSIONS = {"reader": (READ,), "member": (READ, WRITE), "admin": (READ, WRITE)}


class OCCIContext:
    __acl__ = [*((Allow, f"role:{role}", granted) for role, granted in ROLE_PERMISSIONS.items()), DENY_ALL]

    def __init__(self, request):
        self.request = request


def occi_context(request) -> OCCIContext:
    return OCCIContext(request)


def user_json_context(request) -> OCCIContext:
    """The user's own JSON paths beside OCCI (``/user/keypairs``): the OCCI paths' roles, and
    answers, errors included, in JSON whatever the client accepts."""
    request.environ["HTTP_ACCEPT"] = "application/json"
    return OCCIContext(request)
