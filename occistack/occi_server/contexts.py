"""Route contexts: what a URL names, with the ACL that guards it.

Every OCCI path is open to any authenticated user; which entities they can see or change is
decided inside, by queries scoped to their project.
"""

from __future__ import annotations

from pyramid.authorization import Allow, Authenticated, DENY_ALL

#: Permissions used by the OCCI views.
READ = "occi.read"
WRITE = "occi.write"


class OCCIContext:
    __acl__ = [(Allow, Authenticated, (READ, WRITE)), DENY_ALL]

    def __init__(self, request):
        self.request = request


def occi_context(request) -> OCCIContext:
    return OCCIContext(request)
