"""The discovery fast path (api/occi/discovery.py): ``GET /-/`` answered from the catalog
cache without touching the database, and only when that gives the answer the view would.

The other functional modules run with ``revalidate_seconds = 0``, where the fast path never
answers; this module gives the catalog a lifetime so that it does, and counts the SQL each
request sends to tell which path answered.
"""

from __future__ import annotations

import base64
import time

import pytest
import transaction
from sqlalchemy import event, select

from occistack.model import Project
from occistack.model.session import get_tm_session
from tests.conftest import basic
from tests.factories import OsTemplateFactory
from tests.api.admin_client import new_admin
from tests.api.occi_face import INFRA, OCCIClient, World, categories

#: Long enough that no test crosses it by accident; the one test about it waits it out.
LIFETIME = 1.0
OS_TPL = "http://occistack.local/occi/infrastructure/os_tpl#"
WORLD_SETTINGS = {"occistack.catalog.revalidate_seconds": str(LIFETIME)}


class StatementCounter:
    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args):
        self.count += 1

    def during(self, call):
        before = self.count
        result = call()
        return result, self.count - before


@pytest.fixture
def view_answers(world, monkeypatch):
    """The keys of the discovery renderings the view produced or looked up; the fast path
    answers without the view, so a request it answered adds nothing here."""
    catalog = world.wsgi_app.registry["occistack.catalog"]
    looked_up = []
    original = catalog.rendered

    def recording(key, render):
        looked_up.append(key)
        return original(key, render)

    monkeypatch.setattr(catalog, "rendered", recording)
    return looked_up


@pytest.fixture
def sql(world):
    counter = StatementCounter(world.wsgi_app.registry["occistack.engine"])
    yield counter
    event.remove(world.wsgi_app.registry["occistack.engine"], "before_cursor_execute", counter._seen)


def fresh(world: World) -> None:
    """Make the catalog current now, so the next LIFETIME seconds fall inside its window."""
    world.wsgi_app.registry["occistack.catalog"].invalidate()


@pytest.mark.parametrize("path", ["/-/", "/.well-known/org/ogf/occi/-/"])
@pytest.mark.parametrize("accept", ["text/plain", "application/occi+json", "text/occi", None])
def test_a_repeated_discovery_is_answered_without_sql_and_alike(world, sql, view_answers, path, accept):
    client = world.client()
    headers = {"Accept": accept} if accept else {}
    fresh(world)
    first, first_statements = sql.during(lambda: client.get(path, headers=headers, status=200))
    assert first_statements > 0 and len(view_answers) == 1  # the view: the password, the catalog, their layer
    second, second_statements = sql.during(lambda: client.get(path, headers=headers, status=200))
    assert second_statements == 0 and len(view_answers) == 1
    assert second.body == first.body
    assert list(second.headers.items()) == list(first.headers.items())


def test_head_is_answered_from_the_cache_with_the_headers_of_get(world, sql, view_answers):
    client = world.client()
    fresh(world)
    got = client.get("/-/", headers={"Accept": "text/plain"}, status=200)
    head, statements = sql.during(lambda: client.head("/-/", headers={"Accept": "text/plain"}, status=200))
    assert statements == 0 and len(view_answers) == 1 and head.body == b""
    assert head.headers["Content-Type"] == got.headers["Content-Type"] == "text/plain"


def test_a_wrong_password_never_gets_the_cached_answer(world):
    client = world.client()
    fresh(world)
    client.get("/-/", status=200)
    name = base64.b64decode(client.extra_environ["HTTP_AUTHORIZATION"][6:]).decode().partition(":")[0]
    OCCIClient(world.wsgi_app, extra_environ={"HTTP_AUTHORIZATION": basic(name, "wrong")}).get(
        "/-/", status=401)
    OCCIClient(world.wsgi_app).get("/-/", status=401)


def test_each_user_gets_their_own_mixins(world):
    alice, bob = world.client("alice"), world.client("bob")
    fresh(world)
    alice.post("/-/", 'Category: mine; scheme="http://alice.example/tags#"; class="mixin"; location="/mine/"',
               headers={"Content-Type": "text/plain"}, status=200)
    for _ in range(2):
        alice_sees = {c["scheme"] + c["term"] for c in categories(alice.get("/-/", headers={"Accept": "text/plain"}))}
        bob_sees = {c["scheme"] + c["term"] for c in categories(bob.get("/-/", headers={"Accept": "text/plain"}))}
        assert "http://alice.example/tags#mine" in alice_sees
        assert "http://alice.example/tags#mine" not in bob_sees


def test_a_filter_goes_to_the_view(world, view_answers):
    client = world.client()
    fresh(world)
    everything = client.get("/-/", status=200)
    category = f'resource_tpl; scheme="{INFRA}"; class="mixin"'
    filtered = client.get("/-/", headers={"Category": category}, status=200)
    assert len(view_answers) == 2
    assert len(categories(filtered)) < len(categories(everything))
    assert categories(filtered)[0]["term"] == "resource_tpl"


def test_an_accept_we_cannot_render_is_406_not_a_cached_answer(world):
    client = world.client()
    fresh(world)
    client.get("/-/", status=200)
    client.get("/-/", headers={"Accept": "image/png"}, status=406)


def test_a_catalog_change_in_another_process_shows_once_the_lifetime_is_over(world, view_answers):
    client = world.client()
    fresh(world)
    client.get("/-/", status=200)
    client.get("/-/", status=200)
    assert len(view_answers) == 1  # the second came from the fast path
    # Another management server registers a template: same database, not this process.
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(world.session_factory, manager)
        OsTemplateFactory(session=session, term="late-arrival", title="Registered elsewhere", os_family="linux",
                          os_name="debian", os_version="13", architecture="x64", min_cores=1, min_memory_gib=1,
                          size_gib=2, state="ready")
    time.sleep(LIFETIME + 0.1)
    seen = {c["scheme"] + c["term"] for c in categories(client.get("/-/", status=200))}
    assert OS_TPL + "late-arrival" in seen


def test_a_change_made_here_shows_at_once(world):
    client = world.client()
    fresh(world)
    client.get("/-/", status=200)
    client.post("/-/", 'Category: now; scheme="http://here.example/tags#"; class="mixin"; location="/now/"',
                headers={"Content-Type": "text/plain"}, status=200)
    seen = {c["scheme"] + c["term"] for c in categories(client.get("/-/", headers={"Accept": "text/plain"}))}
    assert "http://here.example/tags#now" in seen


def test_credentials_are_checked_again_when_the_cache_forgets_them(world, sql):
    client = world.client()
    fresh(world)
    client.get("/-/", status=200)
    world.wsgi_app.registry["occistack.credential_cache"].forget_user(
        client.get("/-/").request.environ["occistack.identity"].user_id)
    _, statements = sql.during(lambda: client.get("/-/", status=200))
    assert statements > 0  # the user row was read again to verify the password


def test_basic_credentials_of_an_unknown_user_are_401(world):
    OCCIClient(world.wsgi_app, extra_environ={"HTTP_AUTHORIZATION": basic("nobody", "x")}).get(
        "/-/", status=401)


def test_a_share_shows_and_goes_at_once_and_costs_no_query_more(world, sql):
    """Sharing a private template (or ending the share) moves the catalog generation, so the
    project it names sees the change at its next request despite the lifetime; and a project
    with a shared template builds its layer with as many statements as the owning one."""
    owner, friend, plain = world.client("owner"), world.client("friend"), world.client("plain")
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(world.session_factory, manager)
        template = OsTemplateFactory(session=session, term=f"shared-{owner.user_name}", title="Shared",
                                     os_family="linux", os_name="debian", os_version="13", architecture="x64",
                                     min_cores=1, min_memory_gib=1, size_gib=2, state="ready",
                                     project_id=_project_id(session, owner.user_name))
        template_id, term = template.id, template.term
    root = new_admin(world)
    fresh(world)
    assert OS_TPL + term not in {c["scheme"] + c["term"] for c in categories(friend.get("/-/", status=200))}
    owner.get("/-/", status=200)
    plain.get("/-/", status=200)  # the callers' credentials are cached from here on
    root.post_json(f"/admin/templates/{template_id}/actions/share", {"project": friend.user_name}, status=200)
    plain.get("/-/", status=200)  # rebuilds the site's layer, since the share moved the generation
    # The project the template is shared with builds its layer with the statements of the
    # project owning it (its private templates and their zones): sharing adds none.
    _, with_share = sql.during(lambda: friend.get("/-/", status=200))
    _, owning = sql.during(lambda: owner.get("/-/", status=200))
    assert with_share == owning
    assert OS_TPL + term in {c["scheme"] + c["term"] for c in categories(friend.get("/-/", status=200))}
    _, cached = sql.during(lambda: friend.get("/-/", status=200))
    assert cached == 0
    root.post_json(f"/admin/templates/{template_id}/actions/unshare", {"project": friend.user_name}, status=200)
    assert OS_TPL + term not in {c["scheme"] + c["term"] for c in categories(friend.get("/-/", status=200))}


def _project_id(session, name: str) -> int:
    return session.scalar(select(Project.id).where(Project.name == name))
