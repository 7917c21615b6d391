"""Shared fixtures: real databases (SQLite and PostgreSQL), the WSGI application, credentials.

Database tests run on both back ends: every test that asks for ``db_url`` (or anything built on
it, like ``app``) runs once per back end. PostgreSQL is the server on 127.0.0.1:5432 (override
with OCCISTACK_TEST_PG); each test session creates its own database there and drops it after.
When PostgreSQL is unreachable the PostgreSQL variants skip -- except under CI=true, where a
missing component is a failure.

Where fixtures live: here, what every directory uses (databases, the application, credentials);
in the ``conftest.py`` of a directory, what its tests share (``tests/api``: the module-scoped
``world`` and its clients; ``tests/plane``: a rolled-back ``session``; ``tests/federation``: an
OIDC issuer). Fixture modules too large for a conftest are plugins, listed once in
``pytest_plugins`` below (pytest honours that list only in this, the top-level conftest). Rows
that tests need are made with the factories of ``tests/factories.py``.
"""

from __future__ import annotations

import base64
import os
import uuid
from contextlib import contextmanager
from pathlib import Path

import pytest
import transaction
from cryptography.fernet import Fernet
from sqlalchemy import create_engine, text

from occistack.api.orchestration import server_plane
from occistack.demo import seed_demo
from occistack.drivers.fake import FakeDrivers
from occistack.model import Base, make_engine
from occistack.model.session import get_tm_session, make_session_factory
from tests.factories import ProjectFactory, UserFactory

#: The drivers' fixtures for real Open vSwitch, Linux bridges and network namespaces, and for an
#: NFS server.
pytest_plugins = ("tests.drivers.netfixtures", "tests.drivers.nfsfixtures")

ROOT = Path(__file__).resolve().parents[1]
PG_SERVER = os.environ.get("OCCISTACK_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
BACKENDS = ("sqlite", "postgresql")
#: Seals BMC passwords in tests; a fresh one per test session, never written anywhere.
TEST_SECRET_KEY = Fernet.generate_key().decode()


def missing_component(reason: str) -> None:
    """Skip a test whose real component is absent -- or fail it under CI, which proves all."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing component is a failure)")
    pytest.skip(reason)


# --- databases -----------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def postgres_database():
    """A fresh PostgreSQL database for this test session, migrated to the newest revision."""
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("select 1"))
    except Exception as error:  # noqa: BLE001 - any failure to connect means "no server"
        admin.dispose()
        yield None, f"PostgreSQL is not reachable at {PG_SERVER}: {error.__class__.__name__}"
        return
    name = f"occistack_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_SERVER.rsplit("/", 1)[0] + "/" + name
    migrate(url)
    try:
        yield url, None
    finally:
        with admin.connect() as connection:
            connection.execute(text(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def sqlite_database(tmp_path_factory):
    path = tmp_path_factory.mktemp("sqlite") / "occistack.sqlite"
    url = f"sqlite:///{path}"
    migrate(url)
    return url


def migrate(url: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "development.ini"))
    config.attributes["url"] = url
    command.upgrade(config, "head")


def backend_url(request, sqlite_database: str) -> str:
    """The session's migrated database of the back end a fixture parametrised over BACKENDS
    stands for (PostgreSQL missing: skip, or fail under CI)."""
    if request.param == "sqlite":
        return sqlite_database
    url, problem = request.getfixturevalue("postgres_database")
    if problem:
        missing_component(problem)
    return url


@pytest.fixture(params=BACKENDS)
def db_url(request, sqlite_database):
    """The URL of an empty, migrated database: once SQLite, once PostgreSQL."""
    url = backend_url(request, sqlite_database)
    yield url
    empty_database(url)


#: Rows the migrations create and every database must keep.
_SEEDED_BY_MIGRATIONS = ("catalog_generation", "inventory_generation")


def empty_database(url: str) -> None:
    """Delete every row the tests made, keeping the schema and what the migrations seed (the
    generation counters, the root domain)."""
    engine = create_engine(url)
    with engine.begin() as connection:
        tables = [table for table in reversed(Base.metadata.sorted_tables)
                  if table.name not in _SEEDED_BY_MIGRATIONS + ("domains",)]
        if engine.dialect.name == "postgresql":
            connection.execute(text("TRUNCATE " + ", ".join(t.name for t in tables) + " RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(table.delete())
        connection.execute(text("DELETE FROM domains WHERE id <> 1"))
        for name in _SEEDED_BY_MIGRATIONS:
            connection.execute(text(f"UPDATE {name} SET generation = 0"))
    engine.dispose()


@pytest.fixture
def engine(db_url):
    engine = make_engine({"sqlalchemy.url": db_url})
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine):
    return make_session_factory(engine)


@pytest.fixture
def tm_session(session_factory):
    """A session committed or aborted through ``transaction``, as the CLI and server use them."""
    manager = transaction.TransactionManager(explicit=True)
    manager.begin()
    session = get_tm_session(session_factory, manager)
    try:
        yield session
    finally:
        try:
            manager.abort()  # whatever the test left uncommitted
        except transaction.interfaces.NoTransaction:
            pass  # the test committed or aborted it itself


@pytest.fixture
def demo_data(session_factory):
    """The demo catalog and the user demo/demo, plus a second project with user other/other."""
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        session = get_tm_session(session_factory, manager)
        seed_demo(session)
        UserFactory(session=session, name="other", password="other",
                    project_id=ProjectFactory(session=session, name="other").id)
    return None


@pytest.fixture
def demo_data_pg(request):
    """The URL of the session's PostgreSQL database with the demo catalog, emptied after the
    test (tests of row locks, which only PostgreSQL takes as these tests need)."""
    url, problem = request.getfixturevalue("postgres_database")
    if problem:
        missing_component(problem)
    engine = make_engine({"sqlalchemy.url": url})
    manager = transaction.TransactionManager(explicit=True)
    with manager:
        seed_demo(get_tm_session(make_session_factory(engine), manager))
    engine.dispose()
    yield url
    empty_database(url)


# --- the application -----------------------------------------------------------------------------

def app_settings(db_url: str, **extra) -> dict:
    """The server's settings in tests: no background threads; every host of the database gets
    an in-process agent, and the test clients settle the plane after each request."""
    return {
        "sqlalchemy.url": db_url,
        "occistack.auth.cache_seconds": "60",
        "occistack.catalog.revalidate_seconds": "0",
        "occistack.worker": "none",
        "occistack.agents.inprocess": "*",
        "occistack.secret_key": TEST_SECRET_KEY,
        "occistack.power": "fake",
        **extra,
    }


class SettlingTestApp:
    """Mixed into WebTest's TestApp: after each request, run the management plane's jobs and
    agent commands to the end, so a test sees the outcome of what it asked for -- as a client
    that polls until the state settles would."""

    def do_request(self, req, status=None, expect_errors=None):
        response = super().do_request(req, status=status, expect_errors=expect_errors)
        registry = getattr(self.app, "registry", None)  # None: a WSGI middleware in front of the application
        if registry is not None:
            server_plane(registry).plane.settle()
        return response


@pytest.fixture
def drivers():
    return FakeDrivers()


def make_app(db_url: str, drivers: FakeDrivers | None = None, **settings):
    """The server application of a test: ``app_settings`` plus ``settings``; with ``drivers``,
    the in-process agents drive those instances instead of the ones the settings name. Close it
    with ``close_app`` (or use ``running_app``)."""
    from occistack.api.app import main

    instances = {} if drivers is None else {"occistack.driver_instances": drivers}
    return main({}, **app_settings(db_url, **settings), **instances)


@contextmanager
def running_app(db_url: str, drivers: FakeDrivers | None = None, **settings):
    """``make_app``'s application, closed when the block ends."""
    application = make_app(db_url, drivers, **settings)
    try:
        yield application
    finally:
        close_app(application)


@pytest.fixture
def wsgi_app(db_url, demo_data, drivers):
    with running_app(db_url, drivers) as application:
        yield application


def close_app(application) -> None:
    """Stop an application made in a test and let go of its database connections. The plane
    stops while its database is still there (it would otherwise stop at exit, and fail to wake
    long polls in a database that is gone)."""
    server_plane(application.registry).stop()
    application.registry["occistack.engine"].dispose()


def settling_test_app():
    from webtest import TestApp

    return type("SettlingApp", (SettlingTestApp, TestApp), {})


@pytest.fixture
def app(wsgi_app):
    """WebTest around the real WSGI stack, authenticated as demo/demo."""
    return settling_test_app()(wsgi_app, extra_environ={"HTTP_AUTHORIZATION": basic("demo", "demo")})


@pytest.fixture
def anonymous(wsgi_app):
    return settling_test_app()(wsgi_app)


@pytest.fixture
def other_user(wsgi_app):
    """The same application, as the user of another project."""
    return settling_test_app()(wsgi_app, extra_environ={"HTTP_AUTHORIZATION": basic("other", "other")})


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
