"""The application's composition: every OCCI path comes from a kind's location (or is declared
as a route of no kind), and configuring an application starts nothing -- the plane's threads
start when Pyramid has made the application (``ApplicationCreated``), and stop with it."""

from __future__ import annotations

import threading

from pyramid.interfaces import IRoutesMapper

from occistack.api.app import make_config
from occistack.api.mounts import BUILTIN_KEYSTONE_PATH, HEALTH_PATH, METRICS_PATH
from occistack.api.occi.paths import CLIENT_ALIASES, KIND_ROUTES, SERVED_KINDS, SERVED_PATHS, kind_at, paths_of
from occistack.api.orchestration import plane_services, server_plane
from occistack.api.routes import OCCI_ROUTES_OF_NO_KIND
from occistack.model.occi import infrastructure as infra
from occistack.plane.context import PlaneServices
from tests.conftest import app_settings, close_app

#: Where the faces other than OCCI have their routes.
OTHER_FACES = ("/admin", "/agent/", BUILTIN_KEYSTONE_PATH, HEALTH_PATH, METRICS_PATH)


def _configured(db_url: str, **extra):
    config = make_config(app_settings(db_url, **{"occistack.keystone.builtin": "true", **extra}))
    config.commit()
    return config


def _routes(registry) -> list:
    return registry.getUtility(IRoutesMapper).get_routes()


def test_every_route_is_a_kind_location_or_declared_as_of_no_kind(sqlite_database):
    config = _configured(sqlite_database)
    try:
        routes = _routes(config.registry)
        served_by_routes = set()
        for route in routes:
            if route.name in KIND_ROUTES:
                kind_route = KIND_ROUTES[route.name]
                assert route.pattern == kind_route.pattern
                collection = next(path for path in paths_of(kind_route.kind)
                                  if route.pattern in (path, path.rstrip("/"), path + "{entity_id}"))
                served_by_routes.add(collection)
            elif route.name not in OCCI_ROUTES_OF_NO_KIND:
                assert route.pattern.startswith(OTHER_FACES), \
                    f"route {route.name} ({route.pattern}) is neither a kind's nor declared as of no kind"
                assert not route.pattern.startswith(tuple(SERVED_PATHS)), route.name
        # Each kind at its location, and each alias clients hard-code, has its routes.
        assert served_by_routes == set(SERVED_PATHS)
        assert {kind.location for kind in SERVED_KINDS} | {a for aliases in CLIENT_ALIASES.values() for a in aliases} \
            == served_by_routes
    finally:
        close_app(config.make_wsgi_app())


def test_a_route_knows_its_kind_without_parsing_its_name():
    assert KIND_ROUTES["entity_networkinterface_alias1"].kind is infra.NETWORKINTERFACE
    assert KIND_ROUTES["collection_storagelink_alias1_bare"].pattern == "/link/storagelink"
    assert kind_at("/link/networkinterface/abc") == (infra.NETWORKINTERFACE, "abc")
    assert kind_at("/network/public") == (infra.NETWORK, "public")
    assert kind_at("/network/") is None and kind_at("/network/a/b") is None and kind_at("/nothing/1") is None


def _plane_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate()
            if thread.name.startswith(("occistack-worker", "occistack-local-agents", "agent-"))}


def test_configuring_starts_no_thread_and_the_created_application_starts_the_plane(db_url, demo_data):
    before = _plane_threads()
    config = _configured(db_url, **{"occistack.worker": "thread", "occistack.drivers": "fake",
                                    "occistack.agents.inprocess_check_seconds": "0.1"})
    assert _plane_threads() == before, "configuring the application started threads"
    composed = server_plane(config.registry)
    assert not composed.started
    # The views' services are there already, typed.
    assert isinstance(plane_services(config.registry), PlaneServices)
    assert plane_services(config.registry).dispatcher is composed.plane.dispatcher

    application = config.make_wsgi_app()
    try:
        assert composed.started
        started = {thread.name for thread in _plane_threads() - before}
        assert "occistack-worker" in started and "occistack-local-agents" in started
    finally:
        close_app(application)
    for thread in _plane_threads() - before:
        thread.join(timeout=10)
    assert not {thread for thread in _plane_threads() - before if thread.is_alive()}, "the plane did not stop"
