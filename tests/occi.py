"""Renderings the tests send, written once: categories, request bodies, header parsing helpers."""

from __future__ import annotations

INFRA = "http://schemas.ogf.org/occi/infrastructure#"
CORE = "http://schemas.ogf.org/occi/core#"
COMPUTE_ACTIONS = "http://schemas.ogf.org/occi/infrastructure/compute/action#"
STORAGE_ACTIONS = "http://schemas.ogf.org/occi/infrastructure/storage/action#"
NETWORK_ACTIONS = "http://schemas.ogf.org/occi/infrastructure/network/action#"
OS_TPL = "http://occistack.local/occi/infrastructure/os_tpl#"
RESOURCE_TPL = "http://occistack.local/occi/infrastructure/resource_tpl#"
ZONE = "http://occistack.local/occi/infrastructure/availability_zone#"
CRTP = "http://schemas.ogf.org/occi/infrastructure/compute/template/1.1#"
OPENSTACK_USER_DATA = "http://schemas.openstack.org/compute/instance#"
OPENSTACK_PUBLIC_KEY = "http://schemas.openstack.org/instance/credentials#"
IPNETWORK = "http://schemas.ogf.org/occi/infrastructure/network#"

TEXT = {"Content-Type": "text/plain", "Accept": "text/plain"}
JSON = {"Content-Type": "application/occi+json", "Accept": "application/occi+json"}


def category(term: str, scheme: str, cls: str) -> str:
    return f'Category: {term}; scheme="{scheme}"; class="{cls}"'


def kind(term: str) -> str:
    return category(term, INFRA, "kind")


def mixin(term: str, scheme: str) -> str:
    return category(term, scheme, "mixin")


def action(term: str, scheme: str = COMPUTE_ACTIONS) -> str:
    return category(term, scheme, "action")


def attribute(name: str, value) -> str:
    if isinstance(value, bool):
        rendered = "true" if value else "false"
    elif isinstance(value, (int, float)):
        rendered = repr(value)
    else:
        rendered = '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"X-OCCI-Attribute: {name}={rendered}"


def compute_body(*extra: str, template: str = "debian-12", size: str | None = "small", title: str = "vm") -> str:
    lines = [kind("compute"), mixin(template, OS_TPL)]
    if size:
        lines.append(mixin(size, CRTP))
    lines.append(attribute("occi.core.title", title))
    lines.extend(extra)
    return "\n".join(lines)


def storage_body(size: float = 1.0, *extra: str, title: str = "disk") -> str:
    return "\n".join([kind("storage"), attribute("occi.storage.size", size), attribute("occi.core.title", title),
                      *extra])


def network_body(*extra: str, title: str = "net", address: str | None = "10.1.0.0/24") -> str:
    lines = [kind("network"), attribute("occi.core.title", title)]
    if address:
        lines += [mixin("ipnetwork", IPNETWORK), attribute("occi.network.address", address)]
    return "\n".join(lines + list(extra))


def link_line(target: str, target_kind: str, link_kind: str, **attributes) -> str:
    rendered = "".join(f'; {name}="{value}"' for name, value in attributes.items())
    return f'Link: <{target}>; rel="{INFRA}{target_kind}"; category="{INFRA}{link_kind}"{rendered}'


def attributes_of(text: str) -> dict[str, str]:
    """X-OCCI-Attribute lines of a text/plain rendering → name: raw value (quotes stripped)."""
    found = {}
    for line in text.splitlines():
        if line.startswith("X-OCCI-Attribute: "):
            name, _, value = line[len("X-OCCI-Attribute: "):].partition("=")
            found[name] = value[1:-1] if value.startswith('"') else value
    return found


def locations_of(text: str) -> list[str]:
    return [line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("X-OCCI-Location: ")]


def path_of(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1] if "://" in url else url
