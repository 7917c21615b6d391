"""The server's settings, read once from the ini file's ``[app:main]`` section."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from ..model.occi.templates import SiteSchemes
from ..orchestrator.limits import SiteLimits


@dataclass(frozen=True, slots=True)
class ServerSettings:
    public_url: str | None
    schemes: SiteSchemes
    auth_cache_seconds: float
    catalog_revalidate_seconds: float
    max_page_size: int
    #: what no project may take without an administrator's decision (orchestrator/limits.py).
    limits: SiteLimits
    #: the OS template (its term) a compute created with no os_tpl mixin boots; None: refuse.
    default_os_tpl: str | None = None

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
        )


def _os_tpl_term(value: object) -> str | None:
    """The term of the default OS template: ``debian-12``, or its whole mixin identifier."""
    text = str(value or "").strip()
    return text.rsplit("#", 1)[-1] or None if text else None


def get_settings(registry) -> ServerSettings:
    return registry["occistack.settings"]


def includeme(config) -> None:
    config.registry["occistack.settings"] = ServerSettings.from_ini(config.get_settings())
