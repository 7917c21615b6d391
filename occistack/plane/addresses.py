"""Handing out VLAN ids and public addresses, never twice.

Both follow one pattern: find a free one, INSERT the allocation row inside a savepoint, and
let the unique key (``guest_vlans(physical_network_id, vlan)``,
``ip_allocations(zone_id, number)``) decide between concurrent requests: the loser's INSERT
fails, its savepoint rolls back, and it tries the next free one.

Public addresses are handed out at the rate VMs are created, so on PostgreSQL they take one
more step: concurrent creates all see the same "next free" address, and the second INSERT of
it would wait for the first transaction to end before failing on the unique key -- creates
would queue one whole transaction at a time. So a candidate is first marked with a
transaction-scoped advisory lock (``pg_try_advisory_xact_lock``, which never waits); one that
another transaction holds is skipped. The lock only steers; the unique key still decides.
"""

from __future__ import annotations

import ipaddress
import secrets
from dataclasses import dataclass
from functools import cache

from sqlalchemy import bindparam, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from occistack.model import (GuestVlan, IpAllocation, IpRange, Network, NetworkInterface, PhysicalNetwork, VlanRange, Zone,
                     utcnow)
from occistack.model.direct_writes import insert_now, insert_rest
from occistack.plane.errors import Conflict, InvalidRequest

_ATTEMPTS = 16


def guest_physical_network(session: Session, zone_id: int) -> PhysicalNetwork | None:
    """The zone's physical network that carries guest traffic (the first one, by id)."""
    for network in session.scalars(select(PhysicalNetwork).where(PhysicalNetwork.zone_id == zone_id,
                                                                 PhysicalNetwork.enabled.is_(True))
                                   .order_by(PhysicalNetwork.id)):
        if "guest" in {kind.strip() for kind in network.traffic_types.split(",")}:
            return network
    return None


def allocate_vlan(session: Session, network: Network, zone: Zone, requested: int | None) -> int | None:
    """Take a guest VLAN of the zone's physical network for ``network`` (the requested one, or
    the lowest free one). Zones without a guest physical network run untagged networks, unless
    the client asked for a VLAN, which they cannot give."""
    physical = guest_physical_network(session, zone.id)
    if physical is None:
        if requested is not None:
            raise Conflict(f"zone {zone.name!r} has no physical network for guest VLANs, so occi.network.vlan "
                           "cannot be chosen there; leave it out")
        return None
    ranges = [(r.first_vlan, r.last_vlan) for r in session.scalars(
        select(VlanRange).where(VlanRange.physical_network_id == physical.id).order_by(VlanRange.first_vlan))]
    described = ", ".join(f"{first}-{last}" for first, last in ranges) or "none"
    if requested is not None and not any(first <= requested <= last for first, last in ranges):
        raise InvalidRequest(f"VLAN {requested} is not in the guest VLAN ranges of zone {zone.name!r} ({described})")
    for _ in range(_ATTEMPTS):
        taken = set(session.scalars(select(GuestVlan.vlan).where(GuestVlan.physical_network_id == physical.id)))
        if requested is not None:
            if requested in taken:
                raise Conflict(f"VLAN {requested} is already used by another network; choose another "
                               "occi.network.vlan or leave it out")
            vlan = requested
        else:
            vlan = next((v for first, last in ranges for v in range(first, last + 1) if v not in taken), None)
            if vlan is None:
                raise Conflict(f"zone {zone.name!r} has no free guest VLAN left (ranges {described}); ask the site "
                               "administrator to add a VLAN range")
        try:
            with session.begin_nested():
                session.add(GuestVlan(physical_network_id=physical.id, vlan=vlan, network_id=network.id))
        except IntegrityError:
            if requested is not None:
                raise Conflict(f"VLAN {requested} was taken by a concurrent request; choose another") from None
            continue
        network.physical_network_id = physical.id
        return vlan
    raise Conflict("no guest VLAN could be allocated under concurrent requests; try again")


def release_vlan(session: Session, network: Network) -> None:
    for allocation in session.scalars(select(GuestVlan).where(GuestVlan.network_id == network.id)):
        session.delete(allocation)
    session.flush()
    network.physical_network_id = None


_PUBLIC_RANGES = (select(IpRange).where(IpRange.zone_id == bindparam("zone"), IpRange.purpose == "public")
                  .order_by(IpRange.first_number))


def public_ranges(session: Session, zone_id: int | None) -> list[IpRange]:
    """The zone's public ranges, read once per transaction (a create asks twice: for the
    address and for the VLAN its host must tag)."""
    if zone_id is None:
        return []
    cache = session.info.setdefault("occistack.cache.public_ranges", {})
    if zone_id not in cache:
        cache[zone_id] = list(session.scalars(_PUBLIC_RANGES, {"zone": zone_id}))
    return cache[zone_id]


@dataclass(frozen=True, slots=True)
class PublicAddress:
    """A public address handed to a NIC."""

    zone_id: int
    address: str
    number: int


def allocate_public_address(session: Session, ranges: list[IpRange], nic: NetworkInterface,
                            requested: str | None = None) -> PublicAddress:
    """Write ``nic`` (a new NIC, not yet in the session) with a free address of ``ranges`` --
    the requested one if given -- and the allocation row that holds the address.

    No savepoint: the NIC's INSERT and the allocation's skip a taken unique key (ON CONFLICT
    DO NOTHING) instead of failing, and the loser of a race -- its MAC taken, or its address
    taken by a transaction that committed after this one looked -- draws again."""
    if not ranges:
        raise Conflict("the zone has no public IP range; ask the site administrator to add one")
    wanted = None
    if requested is not None:
        try:
            wanted = int(ipaddress.ip_address(requested))
        except ValueError:
            raise InvalidRequest(f"{requested!r} is not an IP address") from None
        if not any(r.first_number <= wanted <= r.last_number for r in ranges):
            raise InvalidRequest(f"{requested} is not in the zone's public ranges ("
                                 + ", ".join(f"{r.first_address}-{r.last_address}" for r in ranges) + ")")
    entity_written = nic_written = False
    for _ in range(_ATTEMPTS):
        chosen = wanted if wanted is not None else _free_untaken(session, ranges)
        if chosen is None:
            raise Conflict("the zone's public IP ranges are used up; ask the site administrator for more")
        range_ = next(r for r in ranges if r.first_number <= chosen <= r.last_number)
        address = str(ipaddress.ip_address(chosen))
        nic.address, nic.gateway = address, range_.gateway  # once written, flushed as an UPDATE
        if not nic_written:
            write = insert_rest if entity_written else insert_now
            nic_written, entity_written = write(session, nic, skip_if_taken=True), True
            if not nic_written:
                if wanted is not None:
                    raise Conflict(f"the address {requested} is already in use")
                nic.mac = random_mac()
                continue
        if session.scalar(_insert_allocation(session.get_bind().dialect.name), {
                "zone_id": range_.zone_id, "range_id": range_.id, "address": address, "number": chosen,
                "nic_id": nic.id, "project_id": nic.project_id, "allocated_at": utcnow()}) is not None:
            return PublicAddress(range_.zone_id, address, chosen)
        if wanted is not None:
            raise Conflict(f"the address {requested} is already in use")
    raise Conflict("no public address could be allocated under concurrent requests; try again")


@cache
def _insert_allocation(dialect_name: str):
    """INSERT an allocation unless its address is taken (then no row comes back)."""
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    allocations = IpAllocation.__table__
    return dialect.insert(allocations).on_conflict_do_nothing().returning(allocations.c.id)


#: How many free candidates past those other transactions are taking are looked at.
_SKIP_AT_MOST = 64


def _free_untaken(session: Session, ranges: list[IpRange]) -> int | None:
    """The first free address of the ranges that no concurrent transaction is taking, marked
    as taken by this one: in each range, those after the highest allocated while the range
    still has them, then the gaps (a scan, once a range has wrapped round). Addresses given
    back are reused when the top of the range is reached, as DHCP pools do."""
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    for range_ in ranges:
        if on_postgresql:
            # The common case in one round trip: the first unmarked number above the highest.
            number = session.scalar(_NEXT_ABOVE_HIGHEST, {
                "range": range_.id, "first": range_.first_number, "last": range_.last_number,
                "gateway": _number(range_.gateway), "window": _SKIP_AT_MOST,
                "class_key": _lock_class(range_.zone_id)})
            if number is not None:
                return number
        for skipped, number in enumerate(_free_numbers(session, range_)):
            if skipped >= _SKIP_AT_MOST:
                return number  # very busy: let the unique key sort it out
            if _try_mark_taking(session, range_.zone_id, number):
                return number
    return None


def _free_numbers(session: Session, range_: IpRange):
    """The free addresses of a range, in the order they are handed out."""
    allocations = IpAllocation.__table__
    gateway = _number(range_.gateway)
    highest = session.scalar(_HIGHEST_ALLOCATED, {"range": range_.id})
    start = range_.first_number if highest is None else highest + 1
    yield from (n for n in range(start, range_.last_number + 1) if n != gateway)
    taken = session.scalars(select(allocations.c.number).where(allocations.c.range_id == range_.id,
                                                              allocations.c.number < start)
                            .order_by(allocations.c.number)).all()
    expected = range_.first_number
    for number in [*taken, start]:
        yield from (n for n in range(expected, number) if n != gateway)
        expected = number + 1


def _try_mark_taking(session: Session, zone_id: int, number: int) -> bool:
    """Mark ``number`` as being taken by this transaction, unless another one has marked it
    (PostgreSQL; elsewhere writers are serialised and nothing is ever in flight)."""
    if session.get_bind().dialect.name != "postgresql":
        return True
    # Two int4 keys: the zone under this module's class, and the address folded into int4
    # (as _NEXT_ABOVE_HIGHEST folds it).
    return bool(session.scalar(_TRY_LOCK, {"class_key": _lock_class(zone_id),
                                           "object_key": (number & 0xFFFFFFFF) - 0x80000000}))


def _lock_class(zone_id: int) -> int:
    return _ADDRESS_LOCK_CLASS ^ (zone_id & 0xFFFF)


_HIGHEST_ALLOCATED = select(func.max(IpAllocation.number)).where(IpAllocation.range_id == bindparam("range"))
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:class_key, :object_key)")
#: The first number above a range's highest allocation (within a window) that no other
#: transaction has marked, marked for this one. PostgreSQL's executor pulls the candidates
#: one at a time, in the order generate_series makes them, and LIMIT stops it at the first it
#: could mark: no other number stays marked. (An ORDER BY would make it mark them all.)
_NEXT_ABOVE_HIGHEST = text("""
SELECT candidate
FROM (SELECT coalesce(max(number) + 1, :first) AS start FROM ip_allocations WHERE range_id = :range) AS top,
     generate_series(top.start, least(top.start + :window - 1, :last)) AS candidate
WHERE candidate <> :gateway
  AND pg_try_advisory_xact_lock(:class_key, ((candidate & 4294967295) - 2147483648)::integer)
LIMIT 1""")
#: Keeps this module's advisory locks apart from any others (the high bits of the class key).
_ADDRESS_LOCK_CLASS = 0x0CC10000


def _number(address: str) -> int:
    return int(ipaddress.ip_address(address))


def random_mac() -> str:
    # 02: a locally administered unicast address, as cloud platforms use for guests.
    return "02:" + ":".join(f"{byte:02x}" for byte in secrets.token_bytes(5))


def dhcp_server_address(network: Network) -> str | None:
    """Where a private network's DHCP server answers: the subnet's last usable address, which
    is therefore never given to a NIC (the gateway, if any, stays the guests' router)."""
    if network.address is None or network.public:
        return None
    subnet = ipaddress.ip_network(network.address)
    if subnet.num_addresses < 4:
        return None  # a /31 or /32 has no room for a server beside its guests
    return str(subnet.broadcast_address - 1)
