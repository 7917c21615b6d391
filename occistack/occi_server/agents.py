"""The host agents' HTTP channel: ``POST /agent/v1/messages``, one protocol message per request.

A remote ``occistack-agent`` sends each message of hostagent/protocol.py as the JSON body, with
its host's token as ``Authorization: Bearer <token>``, and gets the reply message back. The
view only carries messages: the management plane's :class:`AgentChannel` checks that the token
belongs to the host the message is about, runs it in a transaction of its own and holds a fetch
open as a long poll (up to the gateway's ``poll_seconds``). pyramid_tm's request transaction
stays empty.
"""

from __future__ import annotations

from dataclasses import replace

from pyramid.authorization import Allow, Everyone
from pyramid.response import Response

from ..hostagent.protocol import Fetch, ProtocolError, decode, encode
from ..orchestrator.gateway import AgentUnauthenticated, GatewayError
from .errors import OCCIError
from .views.support import not_allowed

#: The permission of the channel's views.
AGENT = "agent"
JSON = "application/json"
#: No protocol message comes near this; anything larger is refused unread.
LARGEST_MESSAGE = 4 * 1024 * 1024


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
    token = _bearer_token(request)
    if (request.content_length or 0) > LARGEST_MESSAGE:
        raise OCCIError(f"an agent message may have at most {LARGEST_MESSAGE} bytes", status=413)
    try:
        message = decode(request.body)
    except ProtocolError as error:
        raise OCCIError(f"not an agent message: {error}", status=400) from None
    channel = request.registry["occistack.plane"].channel
    if isinstance(message, Fetch):
        # The server decides how long a request may be held open.
        message = replace(message, wait_seconds=max(0.0, min(message.wait_seconds, channel.settings.poll_seconds)))
    try:
        reply = channel.handle(message, token)
    except AgentUnauthenticated as error:
        raise OCCIError(str(error), status=403) from None
    except GatewayError as error:
        raise OCCIError(str(error), status=409) from None
    return Response(body=encode(reply).encode(), content_type=JSON, charset="utf-8")


def _bearer_token(request) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise OCCIError("an agent authenticates with its host's token: send 'Authorization: Bearer <token>' "
                        "(the token 'occistack host add' printed)", status=401,
                        headers={"WWW-Authenticate": 'Bearer realm="occistack-agents"'})
    return token.strip()


def includeme(config) -> None:
    config.add_view(agent_message, route_name="agent_messages", request_method="POST", permission=AGENT)
    config.add_view(lambda request: not_allowed(request, ["POST"]), route_name="agent_messages",
                    permission=AGENT)
