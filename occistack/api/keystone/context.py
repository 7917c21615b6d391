"""The route context of the built-in token service.

Its views are open to every caller at the route, because each one is itself a way to
authenticate: it reads the credential its Keystone counterpart reads (a federated credential
for OS-FEDERATION and ``voms: true``, a token in the body or in ``X-Auth-Token``) and refuses
in Keystone's words. The security policy's sources are not run for the route's principals:
they would validate credentials the views then validate again, and a Keystone token meant for
a view (an unscoped one) is not one the policy accepts.
"""

from __future__ import annotations

from pyramid.authorization import Allow, Everyone

#: The permission of every view of the service.
KEYSTONE = "keystone"
JSON = "application/json"


class KeystoneContext:
    __acl__ = [(Allow, Everyone, KEYSTONE)]

    def __init__(self, request):
        self.request = request


def keystone_context(request) -> KeystoneContext:
    # Keystone answers and refuses in JSON; the shared error views render
    # {"error": {"code", "title", "message"}}, which is Keystone's error document.
    request.environ["HTTP_ACCEPT"] = JSON
    request.environ["occistack.identity"] = None
    return KeystoneContext(request)
