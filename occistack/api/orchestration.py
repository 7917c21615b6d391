"""The management plane in the server: what the composition root (occistack/composition.py)
builds is put in the registry while the application is configured, and set going once Pyramid
has made it (``ApplicationCreated``) -- so configuring an application (a test, a script that
only inspects the routes) starts no thread, and a server starts its worker and agents only
when it is about to serve.

The views reach the plane through ``request.plane`` (a :class:`PlaneContext`) or, outside a
request, :func:`plane_services`; the settings are listed in occistack/composition.py.
"""

from __future__ import annotations

import logging
import sys

from pyramid.events import ApplicationCreated

from occistack.composition import ServerPlane, compose_server
from occistack.plane.context import PlaneContext, PlaneServices

#: Where the plane's services are kept in the registry (read them with :func:`plane_services`).
PLANE_SERVICES = "occistack.plane_services"
#: Where the server's assembled plane is kept (read it with :func:`server_plane`).
SERVER_PLANE = "occistack.server_plane"


log = logging.getLogger(__name__)
#: The module pserve imports when it serves the application with gunicorn (development.ini's
#: [server:tls]); it is loaded before the application is made.
FORKING_SERVER = "gunicorn.app.pasterapp"


def plane_services(registry) -> PlaneServices:
    return registry[PLANE_SERVICES]


def server_plane(registry) -> ServerPlane:
    return registry[SERVER_PLANE]


def plane_context(request) -> PlaneContext:
    """``request.plane``: the context a view hands to the plane's use cases (behind a permission,
    so the caller is known)."""
    return PlaneContext(request.dbsession, request.caller, plane_services(request.registry))


def start_plane(event: ApplicationCreated) -> None:
    """The application exists: start the plane's background threads (the embedded default's
    worker and agents; nothing when the settings run them elsewhere) -- unless a forking server
    (gunicorn) is about to serve it. Such a server makes the application in its master process
    and forks its workers from there; threads started in the master would keep the SQLite
    database's connections and writer lock busy across the fork, and the worker that serves
    would inherit them mid-use. There the serving worker starts the plane after the fork
    (:func:`start_plane_after_fork`, called by serve.GuardedThreadWorker)."""
    if FORKING_SERVER in sys.modules:
        log.info("a forking server serves this application: its worker process starts the plane")
        return
    server_plane(event.app.registry).start()


def start_plane_after_fork(app) -> None:
    """In a forked server worker: drop the database connections inherited from the master (they
    belong to its process) and start the plane here."""
    registry = app.registry
    registry["occistack.engine"].dispose(close=False)
    server_plane(registry).start()


def includeme(config) -> None:
    registry = config.registry
    composed = compose_server(config.get_settings(), registry["occistack.session_factory"])
    registry[SERVER_PLANE] = composed
    registry[PLANE_SERVICES] = composed.services
    config.add_request_method(plane_context, "plane", reify=True)
    config.add_subscriber(start_plane, ApplicationCreated)
