"""The Pyramid application: the OCCI 1.2 interface of occistack.

Configured by inclusion, in this order (each module's ``includeme`` wires one concern):
settings, database session, drivers and dispatcher, the category catalog, security, the OCCI
protocol tween, error views, routes, views.
"""

from __future__ import annotations

from pyramid.config import Configurator

INCLUDES = (
    ".settings",
    ".database",
    ".orchestration",
    ".catalog",
    ".security",
    ".protocol",
    ".errors",
    ".routes",
    ".views",
)


def make_config(settings: dict) -> Configurator:
    config = Configurator(settings=settings)
    for module in INCLUDES:
        config.include(module)
    return config


def main(global_config, **settings):
    """The paste entry point (``use = egg:occistack``)."""
    with make_config(settings) as config:
        return config.make_wsgi_app()
