"""Checks and small helpers both network drivers share."""

from __future__ import annotations

import hashlib
import re

from occistack.drivers.base import DriverError

_MAC = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
#: Linux refuses interface names longer than this (IFNAMSIZ minus the terminating NUL).
MAX_INTERFACE_NAME = 15


def normalized_mac(mac: str) -> str:
    """``mac`` in lower case, or DriverError when it is not six colon-separated hex octets."""
    lowered = mac.strip().lower()
    if not _MAC.match(lowered):
        raise DriverError(f"MAC address {mac!r} is not six colon-separated hex octets (52:54:00:12:34:56)")
    return lowered


def checked_vlan(network: str, vlan: int | None) -> int | None:
    """``vlan`` when it is a usable 802.1Q id (1-4094) or None for an untagged network."""
    if vlan is None:
        return None
    if isinstance(vlan, bool) or not isinstance(vlan, int) or not 1 <= vlan <= 4094:
        raise DriverError(f"network {network}: VLAN {vlan!r} is not an integer in 1-4094 (or None for untagged)")
    return vlan


def checked_interface_name(name: str, what: str) -> str:
    if not name or len(name) > MAX_INTERFACE_NAME or "/" in name or any(c.isspace() for c in name):
        raise DriverError(f"{what} {name!r} is not a usable interface name: 1-{MAX_INTERFACE_NAME} characters, "
                          "no '/' and no spaces")
    return name


def short_digest(*parts: str) -> str:
    """Eight hex digits naming something derived from ``parts`` where names must stay short
    (interface names have 15 characters, network names are unbounded)."""
    return hashlib.sha1("\0".join(parts).encode()).hexdigest()[:8]
