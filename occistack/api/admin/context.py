"""The admin API's route context: who may use it at all.

Only users whose role is ``admin`` hold the ``admin`` permission; the security policy gives
every identity the principal ``role:<role>``. Anyone else authenticated is answered 403, and an
anonymous request 401, by the forbidden view.
"""

from __future__ import annotations

from pyramid.authorization import DENY_ALL, Allow

#: The permission every admin view requires.
ADMIN = "admin"
ADMIN_ROLE_PRINCIPAL = "role:admin"
JSON = "application/json"


class AdminContext:
    __acl__ = [(Allow, ADMIN_ROLE_PRINCIPAL, ADMIN), DENY_ALL]

    def __init__(self, request):
        self.request = request


def admin_context(request) -> AdminContext:
    # The admin API speaks JSON only. The shared error views render in the media type the
    # request accepts, so an admin request is made to accept JSON before any of them (or the
    # forbidden view, which runs after this factory) can answer it.
    request.environ["HTTP_ACCEPT"] = JSON
    return AdminContext(request)
