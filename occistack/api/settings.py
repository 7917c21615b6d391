"""The server's settings, read once from the ini file's ``[app:main]`` section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from pyramid.exceptions import ConfigurationError

from occistack.model.occi.templates import SiteSchemes
from occistack.plane.limits import SiteLimits

#: The largest request body by default: far above any rendering of one entity, far below what
#: would hurt a server holding it in memory.
DEFAULT_MAX_REQUEST_BODY_BYTES = 1024 * 1024
#: The longest attribute value by default, for attributes that declare no length of their own.
DEFAULT_MAX_ATTRIBUTE_LENGTH = 4096


@dataclass(frozen=True, slots=True)
class ServerSettings:
    public_url: str | None
    schemes: SiteSchemes
    auth_cache_seconds: float
    catalog_revalidate_seconds: float
    max_page_size: int
    #: what no project may take without an administrator's decision (plane/limits.py).
    limits: SiteLimits
    #: the OS template (its term) a compute created with no os_tpl mixin boots; None: refuse.
    default_os_tpl: str | None = None
    #: ``occistack.max_request_body_bytes``: a larger request body is refused with 413, unread.
    max_request_body_bytes: int = DEFAULT_MAX_REQUEST_BODY_BYTES
    #: ``occistack.max_attribute_length``: the most characters an OCCI attribute value may have
    #: unless its definition says otherwise (occi.core.title: 255, user data: 64 KiB).
    max_attribute_length: int = DEFAULT_MAX_ATTRIBUTE_LENGTH

    @classmethod
    def from_ini(cls, settings: Mapping[str, Any]) -> ServerSettings:
        public_url = settings.get("occistack.public_url") or None
        scheme_base = settings.get("occistack.scheme_base") or SiteSchemes().base
        if not scheme_base.endswith("/"):
            scheme_base += "/"
        return cls(
            public_url=public_url.rstrip("/") if public_url else None,
            schemes=SiteSchemes(scheme_base),
            auth_cache_seconds=float(settings.get("occistack.auth.cache_seconds", 60)),
            catalog_revalidate_seconds=float(settings.get("occistack.catalog.revalidate_seconds", 2)),
            max_page_size=int(settings.get("occistack.max_page_size", 1000)),
            limits=SiteLimits.from_ini(settings),
            default_os_tpl=_os_tpl_term(settings.get("occistack.default_os_tpl")),
            max_request_body_bytes=_positive(settings, "occistack.max_request_body_bytes",
                                             DEFAULT_MAX_REQUEST_BODY_BYTES),
            max_attribute_length=_positive(settings, "occistack.max_attribute_length", DEFAULT_MAX_ATTRIBUTE_LENGTH),
        )


def _os_tpl_term(value: object) -> str | None:
    """The term of the default OS template: ``debian-12``, or its whole mixin identifier."""
    text = str(value or "").strip()
    return text.rsplit("#", 1)[-1] or None if text else None


def _positive(settings: Mapping[str, Any], name: str, default: int) -> int:
    value = settings.get(name)
    if value is None or str(value).strip() == "":
        return default
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if number < 1:
        raise ConfigurationError(f"{name} = {value!r}; it is a whole number of at least 1 (default {default})")
    return number


def get_settings(registry) -> ServerSettings:
    return registry["occistack.settings"]


def base_url(request) -> str:
    """The server's URL as clients reach it: ``occistack.public_url`` when it sits behind a proxy
    that rewrites it, else the request's own."""
    public = get_settings(request.registry).public_url
    return public if public else request.application_url


def includeme(config) -> None:
    config.registry["occistack.settings"] = ServerSettings.from_ini(config.get_settings())
