"""Where each face lives in the server's URL space.

api/routes.py adds every route; what must know a face's place without importing the face -- the
security policy's Keystone challenge, the protocol tween's answers before routing -- reads it
here, so that no face imports another.
"""

from __future__ import annotations

#: The built-in Keystone-compatible token service, below the server's URL: its root is the URL
#: of the challenge.
BUILTIN_KEYSTONE_PATH = "/keystone"
#: The monitoring face's two paths: health for load balancers, metrics for Prometheus.
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
#: The faces that answer in JSON whatever the client accepts (the admin API, the agents'
#: channel, a user's own key pairs beside the OCCI paths), by the start of their paths; the
#: built-in Keystone's is added where the site runs it.
JSON_PATH_PREFIXES = ("/admin/", "/agent/", "/user/")
