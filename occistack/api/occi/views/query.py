"""The query interface, ``/-/`` and ``/.well-known/org/ogf/occi/-/`` (GFD.223 §6): discovery of
every kind, mixin and action, and the definition and removal of user mixins -- and of the OS
templates a project saved from its computes, which rOCCI-style clients remove the same way
(``DELETE /-/`` with the os_tpl mixin's Category)."""

from __future__ import annotations

from urllib.parse import urlsplit

from occistack.model.occi import Category, Mixin, is_valid_term
from occistack.model.occi import infrastructure as infra
from occistack.plane.tenant import saved_templates
from occistack.plane.tenant import tags
from occistack.api.occi.catalog import user_mixin
from occistack.api.occi.contexts import READ, WRITE
from occistack.api.occi.discovery import discovery_key
from occistack.plane.errors import Conflict, InvalidRequest, NotFound, NotPermitted
from occistack.api.occi.negotiation import response_type
from occistack.api.occi.paths import ALIAS_ROOT, SERVED_PATHS
from occistack.api.errors import not_allowed
from occistack.api.occi.views.support import parse_request, renderer, respond

QUERY_ROUTES = ("query_interface", "query_interface_well_known")
#: The longest term, scheme, title and location a user mixin may have (its columns' sizes).
_LONGEST_TERM, _LONGEST_SCHEME, _LONGEST_TITLE, _LONGEST_LOCATION = 64, 255, 255, 255
RESERVED_SCHEME = "http://schemas.ogf.org/occi/"
#: Paths a user mixin cannot take: the query interface and every kind path and alias.
_FIXED_PREFIXES = ("/-/", "/.well-known/", ALIAS_ROOT, "/admin/", *SERVED_PATHS)


def discover(request):
    """All categories, or those related to the categories named in the request (a filter)."""
    registry = request.occi_registry
    wanted = parse_request(request).categories
    media = response_type(request.headers.get("Accept"))
    key = discovery_key(request.identity, media, tuple(c.identifier for c in wanted))

    def render():
        if not wanted:
            return renderer(request).query_interface(registry)
        related: list[Category] = []
        for category in wanted:
            found = registry.get(category.identifier)
            if found is None:
                raise NotFound(f"unknown category {category.identifier}; GET /-/ without a filter lists them")
            related.extend(c for c in registry.related(found) if c not in related)
        return renderer(request).query_interface(related)

    return respond(request, request.registry["occistack.catalog"].rendered(key, render))


def define_mixins(request):
    """Add user-defined mixins (tags); each needs a term, a scheme and a location."""
    ir = parse_request(request)
    if not ir.categories:
        raise InvalidRequest("send the Category rendering of the mixin to define, with its term, scheme and location")
    registry = request.occi_registry
    created = []
    for category in ir.categories:
        if category.cls != "mixin":
            raise InvalidRequest(f"only mixins can be defined; {category.identifier} is a {category.cls}")
        if category.attributes or category.actions:
            raise InvalidRequest("a user mixin is a tag: it cannot define attributes or actions")
        _check_new_identifier(category.scheme, category.term, registry)
        if category.title is not None and len(category.title) > _LONGEST_TITLE:
            raise InvalidRequest(f"a mixin's title may have at most {_LONGEST_TITLE} characters; "
                                 f"got {len(category.title)}")
        location = _checked_location(category.location or f"/mixin/{category.term}/", registry)
        depends = None
        if category.depends:
            parent = registry.mixin(category.depends[0])
            if parent is None:
                raise NotFound(f"unknown mixin {category.depends[0]} in rel")
            depends = parent.identifier
        defined = tags.UserMixinRequest(scheme=category.scheme, term=category.term, location=location,
                                        title=category.title, depends=depends)
        tags.define_user_mixin(request.plane, defined)
        created.append(defined)
    return respond(request, renderer(request).query_interface([user_mixin(mixin, registry) for mixin in created]))


def remove_mixins(request):
    ir = parse_request(request)
    if not ir.categories:
        raise InvalidRequest("send the Category rendering of the user mixin to remove")
    for category in ir.categories:
        found = request.occi_registry.get(category.identifier)
        if found is None:
            raise NotFound(f"unknown mixin {category.identifier}")
        if isinstance(found, Mixin) and found.depends_on(infra.OS_TPL):
            # An OS template the project saved from a compute is the user's to remove, as a
            # user mixin is; the use case refuses the site's own templates.
            saved_templates.delete_saved_template(request.plane, found.term)
            continue
        if not getattr(found, "user_defined", False):
            raise NotPermitted(f"{category.identifier} belongs to the provider; only user-defined mixins can be removed")
        tags.delete_user_mixin(request.plane, category.identifier)
    return respond(request, renderer(request).ok())


def query_method_not_allowed(request):
    not_allowed(request, ("GET", "HEAD", "POST", "DELETE"))


def _check_new_identifier(scheme: str, term: str, registry) -> None:
    if not is_valid_term(term):
        raise InvalidRequest(f"{term!r} is not a valid term: a letter or digit, then letters, digits, '.', '-' or '_'")
    # What the user_mixins columns hold.
    if len(term) > _LONGEST_TERM or len(scheme) > _LONGEST_SCHEME:
        raise InvalidRequest(f"a user mixin's term may have at most {_LONGEST_TERM} characters and its scheme at most "
                             f"{_LONGEST_SCHEME}; got {len(term)} and {len(scheme)}")
    parsed = urlsplit(scheme)
    if not scheme.endswith("#") or not parsed.scheme:
        raise InvalidRequest(f"{scheme!r} is not a valid scheme: an absolute URI ending in '#', "
                             "e.g. http://example.org/my/tags#")
    if scheme.startswith(RESERVED_SCHEME):
        raise NotPermitted(f"the scheme base {RESERVED_SCHEME} is reserved for the OCCI standard; choose your own")
    if registry.get(scheme + term) is not None:
        raise Conflict(f"the category {scheme}{term} already exists")


def _checked_location(location: str, registry) -> str:
    path = urlsplit(location).path if "://" in location else location
    if not (path.startswith("/") and path.endswith("/") and 2 < len(path) <= _LONGEST_LOCATION) or any(
            character in path for character in "?#\\ \t\n") or "/../" in path or "//" in path or any(
            ord(character) < 0x20 or ord(character) == 0x7f for character in path):
        raise InvalidRequest(f"{location!r} is not a usable location: a path like /my_stuff/ (starting and ending "
                             f"with '/', at most {_LONGEST_LOCATION} characters, no spaces or control characters)")
    if path.startswith(_FIXED_PREFIXES):
        raise Conflict(f"the location {path} belongs to the provider's kinds or the query interface")
    bound = registry.by_location(path)
    if bound is not None:
        raise Conflict(f"the location {path} is already bound to {bound.identifier}")
    return path


def includeme(config) -> None:
    for route in QUERY_ROUTES:
        config.add_view(discover, route_name=route, request_method="GET", permission=READ)
        config.add_view(define_mixins, route_name=route, request_method="POST", permission=WRITE)
        config.add_view(remove_mixins, route_name=route, request_method="DELETE", permission=WRITE)
        config.add_view(query_method_not_allowed, route_name=route, permission=READ)
