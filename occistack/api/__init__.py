"""The faces of occistack over HTTP: OCCI, the admin API, the Keystone-compatible token service and
the host agents' channel, composed into one Pyramid application by ``app.py``.

A face translates: it reads a request, asks the plane (``occistack.plane``) and renders the
answer. It decides nothing. See docs/architecture.md.
"""
