"""The Pyramid application: every face of occistack over HTTP, composed.

Configured by inclusion, in this order (each module's ``includeme`` wires one concern):
settings, database session, the management plane (assembled by occistack/composition.py, its
threads started only once the application is made), the category catalog, security, the OCCI
protocol tween, the discovery fast path, error views (shared, then OCCI's), routes, the OCCI views, the admin API, the
built-in Keystone-compatible token service, the host agents' channel, monitoring (health, metrics
and the tween that counts requests).
"""

from __future__ import annotations

import gc

from pyramid.config import Configurator

from occistack.api.request import fold_request_extensions

INCLUDES = (
    "occistack.api.settings",
    "occistack.api.database",
    "occistack.api.orchestration",
    "occistack.api.occi.catalog",
    "occistack.api.security",
    "occistack.api.occi.protocol",
    "occistack.api.occi.discovery",
    "occistack.api.errors",
    "occistack.api.occi.errors",
    "occistack.api.routes",
    "occistack.api.occi.views",
    "occistack.api.admin",
    "occistack.api.keystone",
    "occistack.api.agents.channel",
    "occistack.api.monitoring",
)


def make_config(settings: dict) -> Configurator:
    config = Configurator(settings=settings)
    for module in INCLUDES:
        config.include(module)
    return config


def main(global_config, **settings):
    """The paste entry point (``use = egg:occistack``)."""
    config = make_config(settings)
    config.commit()
    fold_request_extensions(config.registry)
    application = config.make_wsgi_app()
    # Everything built so far (the model, the grammar, the registries, the compiled statements)
    # lives as long as the process: keep the garbage collector from walking it again and again
    # while a request builds a large answer (it doubled the time of a 10,000-compute listing).
    gc.freeze()
    return application
