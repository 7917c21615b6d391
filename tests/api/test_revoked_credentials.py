"""A user disabled or given a new password in one server process is refused at once by the
others, whose memory of verified credentials would otherwise keep them in for
``occistack.auth.cache_seconds`` (60 s in these tests). Two applications on one PostgreSQL
database stand for two server processes; NOTIFY is PostgreSQL's, so this is its test."""

from __future__ import annotations

import time

import pytest
import transaction

from occistack.model import make_engine
from occistack.model.session import get_tm_session, make_session_factory
from tests.api.admin_client import AdminClient
from tests.conftest import basic, running_app
from tests.factories import ProjectFactory, UserFactory


@pytest.fixture
def two_servers(demo_data_pg):
    engine = make_engine({"sqlalchemy.url": demo_data_pg})
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(make_session_factory(engine), manager)
        project = ProjectFactory(session=session, name="revocations")
        UserFactory(session=session, name="site-admin", password="site-admin", role="admin", project_id=project.id)
        user_id = UserFactory(session=session, name="alice", password="alice-password", project_id=project.id).id
    engine.dispose()
    with running_app(demo_data_pg) as first, running_app(demo_data_pg) as second:
        yield first, second, user_id


def _refused_within(application, credentials: tuple[str, str], seconds: float) -> float | None:
    """How long until ``application`` refuses the credentials (None: still accepted after ``seconds``)."""
    client = AdminClient(application, extra_environ={"HTTP_AUTHORIZATION": basic(*credentials)})
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if client.get("/-/", expect_errors=True).status_int == 401:
            return time.monotonic() - started
        time.sleep(0.05)
    return None


def test_a_user_disabled_on_one_server_is_refused_by_the_other_at_once(two_servers):
    first, second, user_id = two_servers
    alice = AdminClient(second, extra_environ={"HTTP_AUTHORIZATION": basic("alice", "alice-password")})
    alice.get("/-/", status=200)  # now remembered by the second server
    admin = AdminClient(first, extra_environ={"HTTP_AUTHORIZATION": basic("site-admin", "site-admin")})
    admin.post(f"/admin/users/{user_id}/actions/disable", status=200)

    assert _refused_within(second, ("alice", "alice-password"), 5.0) is not None

    admin.post(f"/admin/users/{user_id}/actions/enable", status=200)
    alice.get("/-/", status=200)


def test_an_old_password_stops_working_on_every_server(two_servers):
    first, second, user_id = two_servers
    AdminClient(second, extra_environ={"HTTP_AUTHORIZATION": basic("alice", "alice-password")}).get("/-/", status=200)
    admin = AdminClient(first, extra_environ={"HTTP_AUTHORIZATION": basic("site-admin", "site-admin")})
    admin.post_json(f"/admin/users/{user_id}/actions/password", {"password": "a-new-password"}, status=200)

    assert _refused_within(second, ("alice", "alice-password"), 5.0) is not None
    AdminClient(second, extra_environ={"HTTP_AUTHORIZATION": basic("alice", "a-new-password")}).get("/-/", status=200)
