"""Every view carries a permission (docs/architecture.md, "Conventions"): a view added without
one would answer anyone, so the walk over the configured views fails on it."""

from __future__ import annotations

from pyramid.config import Configurator
from pyramid.interfaces import IException


def test_every_view_of_every_face_names_a_permission(wsgi_app):
    introspector = wsgi_app.registry.introspector
    views = introspector.get_category("views")
    assert len(views) > 50, "the walk found too few views to be looking at the application"
    unguarded = []
    for entry in views:
        view = entry["introspectable"]
        if view["exception_only"] or view.get("context") is not None and _is_exception(view["context"]):
            continue  # error views answer what already went wrong; they guard nothing
        if _permission(introspector, view) is None:
            unguarded.append(f"{view['route_name']} {view['request_methods'] or 'any method'}: {view['callable']}")
    assert not unguarded, "views without a permission:\n" + "\n".join(unguarded)


def test_the_walk_sees_an_unguarded_view(wsgi_app):
    """The check above can fail: a view added without a permission is found."""
    config = Configurator(registry=wsgi_app.registry)
    config.add_route("unguarded_for_the_test", "/unguarded-for-the-test")
    config.add_view(lambda request: request.response, route_name="unguarded_for_the_test")
    config.commit()
    found = [entry["introspectable"] for entry in wsgi_app.registry.introspector.get_category("views")
             if entry["introspectable"]["route_name"] == "unguarded_for_the_test"]
    assert found and _permission(wsgi_app.registry.introspector, found[0]) is None


def _permission(introspector, view) -> str | None:
    """The permission a view was added with: Pyramid records it as a related introspectable."""
    for related in introspector.related(view):
        if related.category_name == "permissions":
            return related["value"]
    return None


def _is_exception(context) -> bool:
    """An exception class, or an interface of exceptions (Pyramid's own HTTP exception view)."""
    if isinstance(context, type):
        return issubclass(context, BaseException)
    return bool(getattr(context, "isOrExtends", None)) and context.isOrExtends(IException)
