"""The built-in Keystone-compatible token service, for sites without a Keystone of their own:
what rOCCI, VMDIRAC and IM do after the ``Keystone uri='…'`` challenge works against this
server alone.

Below ``/keystone`` (the URL the challenge names):

* ``GET /keystone`` -- the version document (300, v3 and v2.0); ``GET /keystone/v3``,
  ``GET /keystone/v2.0`` -- each version's own;
* ``GET|POST /keystone/v3/OS-FEDERATION/identity_providers/<idp>/protocols/<mapped|oidc|openid>/auth``
  -- the request's federated credential (an OIDC access token today, an X.509/VOMS proxy once
  that source is in the security policy) for an unscoped token, in ``X-Subject-Token``;
* ``GET /keystone/v3/auth/projects`` -- the projects an ``X-Auth-Token`` may be scoped to;
* ``POST /keystone/v3/auth/tokens`` -- a token for a token (methods ``token``), or for the
  federated credential (``mapped``, ``openid``, ``oidc``), scoped to a project or not;
* ``POST /keystone/v2.0/tokens`` -- ``{"auth": {"voms": true}}`` (the federated credential) or
  ``{"auth": {"token": {"id": …}}}``, with ``tenantName`` or ``tenantId`` for a scoped token;
* ``GET /keystone/v2.0/tenants`` -- the v2.0 name of the projects' list;
* ``POST /keystone/v3/users/<id>/password`` -- a local user changes their own password, giving
  the one they have (204).

The tokens are federation/keystone_tokens.py's. The service runs when
``occistack.keystone.builtin`` says so (federation/keystone.py); routes and views are added
only then.
"""


def includeme(config) -> None:
    config.include(".views")
