"""The WSGI applications bench.http serves under gunicorn, chosen by environment variables.

``OCCISTACK_BENCH_APP``:

* ``occi`` -- occistack itself, on the database in ``OCCISTACK_BENCH_DB``;
* ``bare_static`` -- a bare Pyramid view answering ``GET /-/`` with the bytes occistack
  answered (read from ``OCCISTACK_BENCH_BYTES``): the cost of Pyramid and gunicorn alone;
* ``bare_entity`` -- a bare Pyramid view answering ``GET /compute/{id}`` by running, with
  SQLAlchemy Core on a pooled connection, exactly the SQL statements occistack ran for that
  request, as the driver received them (read from ``OCCISTACK_BENCH_SQL``), then returning the
  same bytes: the cost of the database work, Pyramid and gunicorn alone.
"""

from __future__ import annotations

import json
import os

from pyramid.config import Configurator
from pyramid.response import Response


def _bare_static():
    body = open(os.environ["OCCISTACK_BENCH_BYTES"], "rb").read()

    def query_interface(request):
        return Response(body=body, content_type="text/plain", charset=None)

    with Configurator() as config:
        config.add_route("query_interface", "/-/")
        config.add_view(query_interface, route_name="query_interface", request_method="GET")
        return config.make_wsgi_app()


def _bare_entity():
    from sqlalchemy import create_engine

    body = open(os.environ["OCCISTACK_BENCH_BYTES"], "rb").read()
    recorded = json.load(open(os.environ["OCCISTACK_BENCH_SQL"]))
    statements = [(entry["sql"], entry["parameters"]) for entry in recorded]
    engine = create_engine(os.environ["OCCISTACK_BENCH_DB"])

    def compute(request):
        with engine.connect() as connection:
            for statement, parameters in statements:
                connection.exec_driver_sql(statement, parameters).fetchall()
        return Response(body=body, content_type="text/plain", charset=None)

    with Configurator() as config:
        config.add_route("compute", "/compute/{entity_id}")
        config.add_view(compute, route_name="compute", request_method="GET")
        return config.make_wsgi_app()


def _occi():
    from occistack.api.app import main

    # Serving only: jobs and agents are not part of what is measured.
    return main({}, **{"sqlalchemy.url": os.environ["OCCISTACK_BENCH_DB"], "occistack.worker": "none"})


application = {"occi": _occi, "bare_static": _bare_static, "bare_entity": _bare_entity}[
    os.environ["OCCISTACK_BENCH_APP"]]()
