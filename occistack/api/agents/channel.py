"""The host agents' HTTP channel: ``POST /agent/v1/messages``, one protocol message per request.

A remote ``occistack-agent`` sends each message of hostagent/protocol.py as the JSON body and
gets the reply message back. It authenticates as its host with either

* the host's certificate, in mutual TLS (production): verified as users' certificates are
  (gunicorn's TLS or a trusted terminator's headers, the site's CA directory and CRLs; never a
  proxy), it stands for the host whose name it carries -- a DNS SubjectAltName, or for a
  certificate without one its CN, equal to the host's name as ``occistack host add`` gave it
  (compared without regard to case). A host certificate therefore never speaks for another
  host, and a personal certificate, whose CN is a person's name, for none;
* or the host's token as ``Authorization: Bearer <token>`` (development).

``occistack.agents.credentials`` says which the site accepts (default ``certificate token``;
``certificate`` alone in production). When an agent presents a certificate, the certificate
decides and a token is not looked at.

A message is checked against its typed definition in hostagent/protocol.py (each field of its
type, ids and numbers in range, no NUL) and refused with 400 saying which field is wrong; its
size is bounded by the site's ``occistack.max_request_body_bytes``, as every request's is. The
view only carries messages: the management plane's :class:`AgentChannel` checks that the
credential belongs to the host the message is about, runs it in a transaction of its own and
holds a fetch open as a long poll (up to the gateway's ``poll_seconds``). pyramid_tm's request
transaction stays empty.
"""

from __future__ import annotations

from dataclasses import replace

from pyramid.authorization import Allow, Everyone
from pyramid.response import Response

from pyramid.exceptions import ConfigurationError

from occistack.federation import AuthenticationFailed
from occistack.hostagent.protocol import Fetch, ProtocolError, decode, encode
from occistack.plane.agents.channel import HostCertificate
from occistack.api.client_certificates import presented_certificate
from occistack.plane.errors import InvalidRequest
from occistack.api.errors import HTTPRefusal
from occistack.api.errors import not_allowed
from occistack.api.orchestration import server_plane

#: The permission of the channel's views.
AGENT = "agent"
JSON = "application/json"
AGENT_CREDENTIALS = ("certificate", "token")


class AgentChannelContext:
    # Open to every caller at the route: agents are hosts, not users, so the security policy
    # knows nothing of them. Each message is authenticated in the view by its host's token.
    __acl__ = [(Allow, Everyone, AGENT)]

    def __init__(self, request):
        self.request = request


def agent_context(request) -> AgentChannelContext:
    request.environ["HTTP_ACCEPT"] = JSON  # refusals in JSON, whatever the agent accepts
    # The agent's bearer token is its host's, not a user's OIDC token: the security policy's
    # sources must not try it (nor ask an issuer about it). No user is behind an agent.
    request.environ["occistack.identity"] = None
    return AgentChannelContext(request)


def agent_message(request) -> Response:
    certificate = _host_certificate(request)
    token = None if certificate is not None else _bearer_token(request)
    try:
        message = decode(request.body)
    except ProtocolError as error:
        raise InvalidRequest(f"not an agent message: {error}") from None
    channel = server_plane(request.registry).plane.channel
    if isinstance(message, Fetch):
        # The server decides how long a request may be held open.
        message = replace(message, wait_seconds=max(0.0, min(message.wait_seconds, channel.settings.poll_seconds)))
    reply = channel.handle(message, token, certificate)
    return Response(body=encode(reply).encode(), content_type=JSON, charset="utf-8")


def _host_certificate(request) -> HostCertificate | None:
    """The verified certificate the agent presented, or None when it presented none."""
    accepted = request.registry["occistack.agent_credentials"]
    authenticator = request.registry["occistack.x509"]
    if "certificate" not in accepted or authenticator is None:
        return None
    try:
        presented = presented_certificate(request.environ, request.registry["occistack.x509_settings"])
        if presented is None:
            return None
        if not presented.chain:
            raise HTTPRefusal("the TLS terminator forwarded only the agent's DN; an agent's certificate is checked "
                              "here, so forward the certificate itself", status=401)
        verified, names = authenticator.host_certificate(presented.chain)
    except AuthenticationFailed as failure:
        raise HTTPRefusal(f"the agent's certificate is not accepted: {failure.message}", status=401) from None
    return HostCertificate(verified.dn, names, request.registry["occistack.credential_cache"]
                           .certificate_fingerprint(presented.chain))


def _bearer_token(request) -> str:
    accepted = request.registry["occistack.agent_credentials"]
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if "token" not in accepted:
        raise HTTPRefusal("this site accepts agents only with their host's certificate (occistack.agents.credentials "
                          "= certificate): configure the agent's cert_file and key_file, and connect over https",
                          status=401)
    if scheme.lower() != "bearer" or not token.strip():
        also = (" or present the host's certificate over TLS" if "certificate" in accepted
                and request.registry["occistack.x509"] is not None else "")
        raise HTTPRefusal("an agent authenticates with its host's token: send 'Authorization: Bearer <token>' "
                          f"(the token 'occistack host add' printed){also}", status=401,
                          headers={"WWW-Authenticate": 'Bearer realm="occistack-agents"'})
    return token.strip()


def agent_credentials(settings) -> tuple[str, ...]:
    """``occistack.agents.credentials``: what agents may authenticate with."""
    accepted = tuple((settings.get("occistack.agents.credentials") or " ".join(AGENT_CREDENTIALS)).split())
    if not accepted or set(accepted) - set(AGENT_CREDENTIALS):
        raise ConfigurationError(f"occistack.agents.credentials = {' '.join(accepted)!r}; it lists one or both of "
                                 f"{', '.join(AGENT_CREDENTIALS)} (certificate needs occistack.x509.ca_dir)")
    if accepted == ("certificate",) and not (settings.get("occistack.x509.ca_dir") or "").strip():
        raise ConfigurationError("occistack.agents.credentials = certificate, but occistack.x509.ca_dir is not set: "
                                 "host certificates are verified against the CAs of that directory")
    return accepted


def includeme(config) -> None:
    config.registry["occistack.agent_credentials"] = agent_credentials(config.get_settings())
    config.add_view(agent_message, route_name="agent_messages", request_method="POST", permission=AGENT)
    config.add_view(lambda request: not_allowed(request, ["POST"]), route_name="agent_messages",
                    permission=AGENT)
