"""The paste server runner of the embedded default: waitress, on a port the command line can
change (``pserve development.ini http_port=8080``).

PasteDeploy never lets a command-line variable override a value the ini file sets, so the ini
file does not set ``http_port``; this runner takes it when given and the ``port`` option
otherwise.
"""

from __future__ import annotations

import waitress


def waitress_runner(wsgi_app, global_conf, host: str = "127.0.0.1", port: str = "6543", **options):
    port = global_conf.get("http_port") or port
    waitress.serve(wsgi_app, host=host, port=int(port), **options)
