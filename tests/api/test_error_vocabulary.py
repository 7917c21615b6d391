"""One error vocabulary (issue 13, point 4): every plane error has a kind, every face a status
for every kind in one table (api/error_statuses.py), and an action the resource's state does
not allow answers the same status whether the view or the plane's transition table refuses it.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import SimpleNamespace

import pytest

import occistack.plane
from occistack.api.error_statuses import FACES, STATUSES, FaceStatuses, face_of, status_for
from occistack.model.states import Event, IllegalTransition, TransitionTable
from occistack.plane.agents.gateway import AgentUnauthenticated, GatewayError
from occistack.plane.errors import MODEL_ERROR_KINDS, REFUSALS, ErrorKind, PlaneError, kind_of
from occistack.plane.sealing import SealingError
from tests.api.occi_face import (
    INFRA,
    path_of,
)
from tests.occi import CRTP, OS_TPL, TEXT

# --- the table ----------------------------------------------------------------------------------


def test_every_kind_has_a_status_on_every_face():
    assert set(STATUSES) == set(ErrorKind)
    for kind, statuses in STATUSES.items():
        assert isinstance(statuses, FaceStatuses)
        for face in FACES:
            assert 400 <= status_for(kind, face) <= 599, (kind, face)


def _subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_every_plane_error_class_has_a_kind():
    for module in pkgutil.walk_packages(occistack.plane.__path__, "occistack.plane."):
        importlib.import_module(module.name)  # every class of the tree is defined
    classes = _subclasses(PlaneError)
    assert len(classes) >= 9
    for cls in classes:
        assert isinstance(getattr(cls, "kind", None), ErrorKind), f"{cls.__qualname__} has no kind"
    for cls, kind in MODEL_ERROR_KINDS.items():
        assert isinstance(kind, ErrorKind) and cls in REFUSALS


def test_the_sealer_s_and_the_agent_gateway_s_refusals_are_in_the_tree():
    """They reach the faces as every other refusal does: the agents' channel answers a refused
    message 409 and an agent speaking for another host 403 from the table, as it did when it
    translated them itself."""
    assert kind_of(SealingError("opened with another key")) is ErrorKind.CONFLICT
    assert status_for(kind_of(GatewayError("speaks 99")), "agents") == 409
    assert status_for(kind_of(AgentUnauthenticated("not this host's token")), "agents") == 403


def test_the_model_refusals_have_their_kinds_without_importing_the_plane():
    refused = IllegalTransition("compute", "active", Event.START, ["stop"])
    assert kind_of(refused) is ErrorKind.WRONG_STATE
    assert kind_of(ValueError("a bug")) is None


@pytest.mark.parametrize(("route", "face"), [
    ("admin_hosts_action", "admin"), ("keystone_v3_tokens", "keystone"), ("agent_messages", "agents"),
    ("kind_compute_item", "occi"), (None, "occi"),
])
def test_the_face_of_a_request_is_its_route_s(route, face):
    request = SimpleNamespace(matched_route=SimpleNamespace(name=route) if route else None)
    assert face_of(request) == face


def test_an_action_in_the_wrong_state_is_400_on_occi_and_409_on_the_admin_api():
    # GFD.185 §3.6.8 for the OCCI clients; Nova's 409 for the admin API (and an OpenStack face).
    assert status_for(ErrorKind.WRONG_STATE, "occi") == 400
    assert status_for(ErrorKind.WRONG_STATE, "admin") == 409


# --- an action the state does not allow, on each kind --------------------------------------------

ACTIONS = {
    "compute": "http://schemas.ogf.org/occi/infrastructure/compute/action#",
    "storage": "http://schemas.ogf.org/occi/infrastructure/storage/action#",
    "network": "http://schemas.ogf.org/occi/infrastructure/network/action#",
}
BODIES = {
    "compute": [f'Category: cirros-0.6; scheme="{OS_TPL}"; class="mixin"',
                f'Category: small; scheme="{CRTP}"; class="mixin"'],
    "storage": ["X-OCCI-Attribute: occi.storage.size=1"],
    "network": ['Category: ipnetwork; scheme="http://schemas.ogf.org/occi/infrastructure/network#"; class="mixin"',
                'X-OCCI-Attribute: occi.network.address="10.32.0.0/24"'],
}
#: kind → (an action its new entity does not offer, one it does, and that action's event)
REFUSED_AND_OFFERED = {
    "compute": ("start", "stop", Event.STOP),
    "storage": ("online", "offline", Event.OFFLINE),
    "network": ("up", "down", Event.DOWN),
}
#: kind → its new entity's state and the actions it offers in it
OFFERED = {"compute": ("active", "stop, restart, suspend, save"), "storage": ("online", "offline, snapshot, backup, resize"),
           "network": ("active", "down")}


def new_entity(client, kind: str) -> str:
    body = "\n".join([f'Category: {kind}; scheme="{INFRA}"; class="kind"', *BODIES[kind]])
    return path_of(client.post(f"/{kind}/", body, headers=TEXT, status=201).headers["Location"])


def act(client, path: str, kind: str, term: str, status: int):
    body = f'Category: {term}; scheme="{ACTIONS[kind]}"; class="action"'
    return client.post(f"{path}?action={term}", body, headers=TEXT, status=status)


@pytest.mark.parametrize("kind", ["compute", "storage", "network"])
def test_an_action_the_state_does_not_offer_is_refused_with_what_is_possible(client, kind):
    path = new_entity(client, kind)
    refused, offered, _ = REFUSED_AND_OFFERED[kind]
    answer = act(client, path, kind, refused, status=status_for(ErrorKind.WRONG_STATE, "occi"))
    state, available = OFFERED[kind]
    assert offered in available
    assert answer.text == f"the action {refused} is not available while the {kind} is {state}; available now: {available}"


@pytest.mark.parametrize("kind", ["compute", "storage", "network"])
def test_the_transition_table_refusing_an_offered_action_answers_the_same(client, kind, monkeypatch):
    """The state changed between the rendering of the offered actions and the use case (another
    request moved it): the plane's IllegalTransition answers as the view's check does."""
    path = new_entity(client, kind)
    _, offered, event = REFUSED_AND_OFFERED[kind]
    real_next_state = TransitionTable.next_state

    def moved_meanwhile(table, state, asked):
        if asked is event:
            raise IllegalTransition(table.what, "changing", asked, [])
        return real_next_state(table, state, asked)

    monkeypatch.setattr(TransitionTable, "next_state", moved_meanwhile)
    answer = act(client, path, kind, offered, status=status_for(ErrorKind.WRONG_STATE, "occi"))
    assert f"cannot {event.value} the" in answer.text and "while it is changing; possible now: none" in answer.text
