"""The OCCI views, one module per kind of path.

Each module registers its views itself, in its ``includeme``, rather than by a scan: Pyramid
tries the views of one route in the order they were added, and each view that does not match
the request method costs an exception. A scan adds them in alphabetical order, which put
``GET /compute/<id>`` behind three mismatches; the modules add the most frequent method first
and the catch-all 405 view last.
"""

MODULES = (".query", ".collections", ".entities", ".mixins", ".keypairs")


def includeme(config) -> None:
    for module in MODULES:
        config.include(module)
