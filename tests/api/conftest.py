"""What the tests of the faces share: one application per test module and back end (the
``world``, see occi_face.py for why), clients of it as a user in a fresh project, as a user of
another project, anonymously and as the site's administrator, and the application's plane.

A test module adds to its world's server settings with ``WORLD_SETTINGS = {...}`` and seeds its
database otherwise than with the demo catalog with ``WORLD_SEED = <function of a session>``.
"""

from __future__ import annotations

import pytest
from webtest import TestApp

from occistack.demo import seed_demo
from occistack.api.orchestration import server_plane
from tests.api.admin_client import AdminClient, new_admin
from tests.api.occi_face import OCCIClient, world_on
from tests.conftest import BACKENDS, backend_url, basic


@pytest.fixture(scope="module", params=BACKENDS)
def world(request, sqlite_database):
    """The application on one back end for a whole test module, seeded with the module's
    ``WORLD_SEED`` (the demo catalog by default) and with its ``WORLD_SETTINGS`` added to the
    server's settings."""
    seed = getattr(request.module, "WORLD_SEED", seed_demo)
    settings = getattr(request.module, "WORLD_SETTINGS", {})
    with world_on(backend_url(request, sqlite_database), seed, **settings) as built:
        yield built


@pytest.fixture
def client(world) -> OCCIClient:
    """A user alone in a fresh project: what it lists is what the test made (plus the shared
    public network)."""
    return world.client()


@pytest.fixture
def other_client(world) -> OCCIClient:
    """A user of another project."""
    return world.client("other")


@pytest.fixture
def anonymous_client(world) -> OCCIClient:
    return world.anonymous()


@pytest.fixture(scope="module")
def root(world) -> AdminClient:
    """The site's administrator, a client of the admin API."""
    return new_admin(world)


@pytest.fixture(scope="module")
def member(world) -> TestApp:
    """A user without the admin role."""
    return TestApp(world.wsgi_app, extra_environ={"HTTP_AUTHORIZATION": basic(*world.new_project_user("member"))})


@pytest.fixture
def plane(world):
    """The world's management plane."""
    return server_plane(world.wsgi_app.registry).plane


@pytest.fixture
def plain(world, client) -> TestApp:
    """The test's user, through a client that lets no job run by itself."""
    return TestApp(world.wsgi_app, extra_environ=client.extra_environ)
