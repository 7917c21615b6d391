"""IP address ranges of a zone: public ranges (addresses guests can be reached at) and the
management ranges of its pods, and the address checks the zone and pod use cases share.

Ranges are IPv4: the model keeps their bounds as 64-bit integers, so that "does it overlap" is
one integer comparison in SQL. No two ranges of one zone overlap, whatever their purpose: an
address is handed out from exactly one range.
"""

from __future__ import annotations

import re
import socket
from ipaddress import AddressValueError, IPv4Address, IPv4Network, NetmaskValueError, ip_address

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import IpAllocation, IpRange, Pod, Zone
from occistack.plane.errors import Conflict, InvalidRequest
from occistack.plane.admin.common import (
    SYSTEM,
    UNCHANGED,
    Actor,
    Ref,
    apply_changes,
    check_choice,
    check_whole,
    count,
    find_row,
    record_change,
    refuse_if_used,
)
from occistack.plane.admin.lookup import find_pod, find_zone
from occistack.plane.admin.public_networks import give_zone_public_network, release_zone_public_network

PURPOSES = ("public", "management")
#: RFC 1123 host names, no longer than the address columns (64).
_HOSTNAME = re.compile(r"(?=.{1,64}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                       r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*")
#: Prefix lengths that leave room for a gateway and at least one address beside it.
SHORTEST_PREFIX, LONGEST_PREFIX = 1, 30


def ipv4_address(what: str, text: object) -> IPv4Address:
    try:
        return IPv4Address(text if isinstance(text, str) else "")
    except AddressValueError:
        raise InvalidRequest(f"{what} {text!r} is not an IPv4 address (like 10.0.0.1)") from None


def host_address(what: str, value: object) -> str:
    """An IP address (IPv4 or IPv6) or a DNS host name, as a host or a server is reached at."""
    if isinstance(value, str):
        try:
            return str(ip_address(value))
        except ValueError:
            if _HOSTNAME.fullmatch(value):
                return value
    raise InvalidRequest(f"{what} {value!r} is neither an IP address nor a host name (like 10.0.1.21 or "
                         "kvm1.example.org)")


def resolvable_host_address(what: str, value: object) -> str:
    """As :func:`host_address`, and a host name must resolve now: the management server and the
    agent's certificate checks reach the host by it, and a typo found today costs less than a
    host that never connects."""
    address = host_address(what, value)
    try:
        ip_address(address)
        return address
    except ValueError:
        pass
    try:
        socket.getaddrinfo(address, None)
    except (socket.gaierror, UnicodeError, OSError):
        raise InvalidRequest(f"{what} {address!r} is a host name that does not resolve; give an IP address "
                             "(like 10.0.1.21) or a name the management server can resolve") from None
    return address


def ipv4_network(what: str, text: object) -> IPv4Network:
    """A network written as address/prefix, with no host bits set (10.0.1.0/24, not 10.0.1.5/24)."""
    if not isinstance(text, str) or "/" not in text:
        raise InvalidRequest(f"{what} {text!r} is not an IPv4 network in CIDR form (like 10.0.1.0/24)")
    try:
        network = IPv4Network(text, strict=False)
    except (AddressValueError, NetmaskValueError, ValueError):
        raise InvalidRequest(f"{what} {text!r} is not an IPv4 network in CIDR form (like 10.0.1.0/24)") from None
    if str(network) != text:
        raise InvalidRequest(f"{what} {text!r} has host bits set; the network is {network}")
    if not SHORTEST_PREFIX <= network.prefixlen <= LONGEST_PREFIX:
        raise InvalidRequest(f"{what} {text!r} has no room for a gateway and guests: the prefix length must be "
                             f"from {SHORTEST_PREFIX} to {LONGEST_PREFIX}")
    return network


def dns_servers(value: str | list[str] | None) -> str | None:
    """Name servers as the model keeps them: comma-separated addresses (IPv4 or IPv6)."""
    if value is None:
        return None
    items = value.split(",") if isinstance(value, str) else list(value)
    servers = []
    for item in items:
        item = item.strip() if isinstance(item, str) else item
        if not item:
            continue
        try:
            servers.append(str(ip_address(item)))
        except ValueError:
            raise InvalidRequest(f"DNS server {item!r} is not an IP address (like 10.0.0.2 or 2001:db8::53)") from None
    return ",".join(servers) or None


def gateway_of(what: str, gateway: object, network: IPv4Network) -> IPv4Address:
    """The gateway of ``network``: inside it, and neither its network nor its broadcast address."""
    address = ipv4_address(f"the {what} gateway", gateway)
    if address not in network:
        raise InvalidRequest(f"the gateway {address} is outside the subnet {network}")
    if address in (network.network_address, network.broadcast_address):
        which = "network" if address == network.network_address else "broadcast"
        raise InvalidRequest(f"the gateway {address} is the {which} address of {network}; use an address inside it")
    return address


# --- ranges ---------------------------------------------------------------------------------------

def add_ip_range(session: Session, *, zone: Ref | None = None, purpose: str, first: str, last: str,
                 gateway: str | None = None, prefix_length: int | None = None, vlan: int | None = None,
                 pod: Ref | None = None, actor: Actor = SYSTEM) -> IpRange:
    """A public range of a zone, or a management range of a pod (whose subnet and gateway it
    takes when none are given)."""
    check_choice("IP range purpose", purpose, PURPOSES)
    if purpose == "management":
        if pod is None:
            raise InvalidRequest("a management IP range belongs to a pod: name the pod")
        the_pod = find_pod(session, pod, zone=zone)
        return add_management_range(session, the_pod, first, last, gateway=gateway, prefix_length=prefix_length,
                                    vlan=vlan, actor=actor)
    if pod is not None:
        raise InvalidRequest("a public IP range belongs to the whole zone, not to a pod; leave the pod out")
    if zone is None:
        raise InvalidRequest("name the zone of the public IP range")
    the_zone = find_zone(session, zone)
    if gateway is None or prefix_length is None:
        raise InvalidRequest("a public IP range needs its gateway and prefix length (like 203.0.113.1 and 24)")
    prefix = check_whole("the prefix length", prefix_length, SHORTEST_PREFIX, LONGEST_PREFIX)
    router = ipv4_address("the gateway", gateway)
    network = IPv4Network(f"{router}/{prefix}", strict=False)
    gateway_of("range", gateway, network)
    ip_range = _add_range(session, the_zone, None, "public", first, last, router, network, vlan, actor)
    # A zone's addresses are handed out on its own public network only; its first range brings it.
    give_zone_public_network(session, the_zone, ip_range, actor)
    return ip_range


def add_management_range(session: Session, pod: Pod, first: str, last: str, *, gateway: str | None = None,
                         prefix_length: int | None = None, vlan: int | None = None,
                         actor: Actor = SYSTEM) -> IpRange:
    network = IPv4Network(pod.cidr)
    if gateway is not None and gateway != pod.gateway:
        raise InvalidRequest(f"a management range uses its pod's gateway {pod.gateway}; got {gateway}")
    if prefix_length is not None and prefix_length != network.prefixlen:
        raise InvalidRequest(f"a management range uses its pod's prefix length {network.prefixlen} ({pod.cidr}); "
                             f"got {prefix_length}")
    zone = session.get(Zone, pod.zone_id)
    return _add_range(session, zone, pod, "management", first, last, IPv4Address(pod.gateway), network, vlan, actor)


def _add_range(session: Session, zone: Zone, pod: Pod | None, purpose: str, first: str, last: str,
               gateway: IPv4Address, network: IPv4Network, vlan: int | None, actor: Actor) -> IpRange:
    low, high = _checked_bounds(session, zone, pod, purpose, first, last, gateway, network)
    label = f"IP range {low}-{high}"
    vlan = _checked_vlan(vlan)
    ip_range = IpRange(zone_id=zone.id, pod_id=pod.id if pod is not None else None, purpose=purpose,
                       first_address=str(low), last_address=str(high), first_number=int(low), last_number=int(high),
                       gateway=str(gateway), prefix_length=network.prefixlen, vlan=vlan)
    session.add(ip_range)
    session.flush()
    scope = f"pod {pod.name!r} of zone {zone.name!r}" if pod is not None else f"zone {zone.name!r}"
    record_change(session, actor, "ip_range.add", "ip_range", ip_range.id, f"{purpose} {label} in {scope}")
    return ip_range


def _checked_bounds(session: Session, zone: Zone, pod: Pod | None, purpose: str, first: str, last: str,
                    gateway: IPv4Address, network: IPv4Network, *,
                    range_id: int | None = None) -> tuple[IPv4Address, IPv4Address]:
    """The first and last address of a range: inside its subnet, around neither its gateway nor
    the subnet's network or broadcast address, overlapping no other range (``range_id``: the
    range itself, when its bounds change)."""
    low = ipv4_address("the first address", first)
    high = ipv4_address("the last address", last)
    label = f"IP range {low}-{high}"
    if low > high:
        raise InvalidRequest(f"{label} is backwards: the first address must not come after the last")
    where = f"the subnet {network} of pod {pod.name!r}" if pod is not None else f"the subnet {network} of its gateway"
    if low not in network or high not in network:
        raise InvalidRequest(f"{label} is not inside {where}")
    if low <= gateway <= high:
        raise InvalidRequest(f"{label} contains its gateway {gateway}; the gateway cannot be handed out")
    if low == network.network_address or high == network.broadcast_address:
        raise InvalidRequest(f"{label} includes the network or broadcast address of {network}")
    _refuse_overlap(session, zone, int(low), int(high), label, range_id)
    if purpose == "public":
        _refuse_public_clash(session, zone, int(low), int(high), label)
    return low, high


def _checked_vlan(vlan: int | None) -> int | None:
    return check_whole("the VLAN of an IP range", vlan, 1, 4094) if vlan is not None else None


def update_ip_range(session: Session, range_id: int, *, first=UNCHANGED, last=UNCHANGED, vlan=UNCHANGED,
                    actor: Actor = SYSTEM) -> IpRange:
    """Grow or shrink a range, checked as when it was added, as long as every address handed
    out from it stays inside; change its VLAN (None: untagged) only while none is handed out,
    since those addresses' guests were plugged into the old one. Its gateway and prefix length
    stay: the zone's public network or the pod's subnet were built from them and what holds an
    address was configured with them; so do its purpose, zone and pod (CloudStack's
    updateVlanIpRange likewise changes the addresses of a range, not where it belongs)."""
    ip_range = find_row(session, IpRange, range_id, "IP range")
    label = f"IP range {ip_range.first_address}-{ip_range.last_address}"
    changed = {}
    if first is not UNCHANGED or last is not UNCHANGED:
        zone = session.get(Zone, ip_range.zone_id)
        pod = session.get(Pod, ip_range.pod_id) if ip_range.pod_id is not None else None
        network = IPv4Network(f"{ip_range.gateway}/{ip_range.prefix_length}", strict=False)
        low, high = _checked_bounds(
            session, zone, pod, ip_range.purpose, first if first is not UNCHANGED else ip_range.first_address,
            last if last is not UNCHANGED else ip_range.last_address, IPv4Address(ip_range.gateway), network,
            range_id=ip_range.id)
        outside = session.scalar(select(IpAllocation.address).where(
            IpAllocation.range_id == ip_range.id, (IpAllocation.number < int(low)) | (IpAllocation.number > int(high)))
            .order_by(IpAllocation.number).limit(1))
        if outside is not None:
            raise Conflict(f"{label} cannot become {low}-{high}: the address {outside} is handed out from it")
        changed.update(first_address=str(low), last_address=str(high), first_number=int(low), last_number=int(high))
    if vlan is not UNCHANGED and vlan != ip_range.vlan:
        changed["vlan"] = _checked_vlan(vlan)
        handed_out = count(session, IpAllocation, IpAllocation.range_id == ip_range.id)
        if handed_out:
            raise Conflict(f"{label} keeps its VLAN {ip_range.vlan or 'none'}: {handed_out} of its addresses "
                           f"{'is' if handed_out == 1 else 'are'} handed out on it")
    # "ip range": the events' resource type is ip_range, as the range's add and remove record it.
    apply_changes(session, ip_range, "ip range", changed, actor,
                  label=f"{ip_range.first_address}-{ip_range.last_address}")
    return ip_range


def _refuse_overlap(session: Session, zone: Zone, low: int, high: int, label: str,
                    range_id: int | None = None) -> None:
    clash = session.scalar(select(IpRange).where(IpRange.zone_id == zone.id, IpRange.first_number <= high,
                                                 IpRange.last_number >= low, IpRange.id != range_id)
                           .order_by(IpRange.first_number).limit(1))
    if clash is not None:
        raise Conflict(f"{label} overlaps the {clash.purpose} range {clash.first_address}-{clash.last_address} "
                       f"of zone {zone.name!r}")


def _refuse_public_clash(session: Session, zone: Zone, low: int, high: int, label: str) -> None:
    """A public address is routed to one place: no other zone may hand it out, and it cannot be
    an address of a pod's management network (where hosts and system VMs live)."""
    clash = session.scalar(select(IpRange).where(IpRange.zone_id != zone.id, IpRange.purpose == "public",
                                                 IpRange.first_number <= high, IpRange.last_number >= low)
                           .order_by(IpRange.first_number).limit(1))
    if clash is not None:
        other = session.get(Zone, clash.zone_id)
        raise Conflict(f"public {label} overlaps the public range {clash.first_address}-{clash.last_address} of "
                       f"zone {other.name!r}; a public address belongs to one zone")
    for pod in session.scalars(select(Pod).order_by(Pod.zone_id, Pod.name)):
        subnet = IPv4Network(pod.cidr)
        if int(subnet.network_address) <= high and int(subnet.broadcast_address) >= low:
            pod_zone = session.get(Zone, pod.zone_id)
            raise Conflict(f"public {label} lies in the management subnet {pod.cidr} of pod {pod.name!r} in zone "
                           f"{pod_zone.name!r}; choose public addresses outside every pod's subnet")


def remove_ip_range(session: Session, range_id: int, *, actor: Actor = SYSTEM) -> None:
    ip_range = find_row(session, IpRange, range_id, "IP range")
    label = f"IP range {ip_range.first_address}-{ip_range.last_address}"
    refuse_if_used(label, {"allocated address": count(session, IpAllocation, IpAllocation.range_id == ip_range.id)})
    session.delete(ip_range)
    session.flush()
    if ip_range.purpose == "public":
        release_zone_public_network(session, ip_range.zone_id, actor)
    record_change(session, actor, "ip_range.remove", "ip_range", range_id, label)


def list_ip_ranges(session: Session, *, zone: Ref | None = None, purpose: str | None = None,
                   pod: Ref | None = None) -> list[IpRange]:
    query = select(IpRange).order_by(IpRange.zone_id, IpRange.first_number)
    if zone is not None:
        query = query.where(IpRange.zone_id == find_zone(session, zone).id)
    if purpose is not None:
        query = query.where(IpRange.purpose == check_choice("IP range purpose", purpose, PURPOSES))
    if pod is not None:
        query = query.where(IpRange.pod_id == find_pod(session, pod, zone=zone).id)
    return list(session.scalars(query))
