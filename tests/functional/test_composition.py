"""The application's composition: configuring an application starts nothing -- the plane's
threads start when Pyramid has made the application (``ApplicationCreated``), and stop with it."""

from __future__ import annotations

import threading

from occistack.api.app import make_config
from occistack.api.orchestration import plane_services, server_plane
from occistack.plane.context import PlaneServices
from tests.conftest import app_settings, close_app


def _configured(db_url: str, **extra):
    config = make_config(app_settings(db_url, **{"occistack.keystone.builtin": "true", **extra}))
    config.commit()
    return config


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
