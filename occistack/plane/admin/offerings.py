"""Service offerings: the site's own sizes, published to OCCI users as resource_tpl mixins
beside the six CRTP templates (the catalog is regenerated when one changes)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import BARE_METAL, ServiceOffering, VirtualMachine
from occistack.model.occi import is_valid_term
from occistack.model.occi.crtp import CRTP_SIZES
from occistack.plane.errors import Conflict, InvalidRequest
from occistack.plane.admin.common import (
    SYSTEM,
    UNCHANGED,
    Actor,
    Ref,
    apply_changes,
    check_choice,
    check_number,
    check_title,
    check_whole,
    count,
    normalise_tags,
    record_change,
    refuse_duplicate,
    refuse_if_used,
)
from occistack.plane.admin.lookup import find_offering
from occistack.plane.admin.pods import HYPERVISORS

ARCHITECTURES = ("x86", "x64")
_LONGEST_TERM = 64


def create_offering(session: Session, *, term: str, cores: int, memory_gib: float, title: str | None = None,
                    disk_gib: float | None = None, speed_ghz: float | None = None, architecture: str | None = None,
                    host_tags: str | list[str] | None = None, storage_tags: str | list[str] | None = None,
                    ha_enabled: bool = False, hypervisor: str = "KVM", actor: Actor = SYSTEM) -> ServiceOffering:
    """An offering of ``hypervisor`` "BareMetal" gives its computes a whole bare-metal node each
    (plane/tenant/bare_metal.py); its cores and memory are the least such a node must have."""
    _check_term(term)
    check_choice("hypervisor", hypervisor, HYPERVISORS)
    if hypervisor == BARE_METAL:
        _check_bare_metal(disk_gib, storage_tags, ha_enabled)
    refuse_duplicate(session, ServiceOffering, "a service offering", [ServiceOffering.term == term],
                     f"with the term {term!r}")
    offering = ServiceOffering(
        term=term, title=check_title("offering", title),
        cores=check_whole("the number of cores", cores, 1),
        memory_gib=check_number("the memory in GiB", memory_gib, above=0),
        disk_gib=None if disk_gib is None else check_number("the disk size in GiB", disk_gib, above=0),
        speed_ghz=None if speed_ghz is None else check_number("the CPU speed in GHz", speed_ghz, above=0),
        architecture=None if architecture is None else check_choice("architecture", architecture, ARCHITECTURES),
        host_tags=normalise_tags("host tags", host_tags), storage_tags=normalise_tags("storage tags", storage_tags),
        ha_enabled=bool(ha_enabled), hypervisor=hypervisor,
    )
    session.add(offering)
    session.flush()
    record_change(session, actor, "offering.create", "offering", offering.id,
                  f"{hypervisor} offering {term!r}: {offering.cores} cores, {offering.memory_gib:g} GiB")
    return offering


def update_offering(session: Session, offering: Ref, *, title=UNCHANGED, host_tags=UNCHANGED,
                    storage_tags=UNCHANGED, ha_enabled=UNCHANGED, actor: Actor = SYSTEM) -> ServiceOffering:
    """Change what decides where its new computes go and how they are shown: its title, host
    and storage tags (computes already placed stay where they are) and HA. Its term is the
    resource_tpl mixin clients hold; its cores, memory, disk, speed, architecture and hypervisor
    are what its computes were made as: all stay (define another offering instead)."""
    found = find_offering(session, offering)
    changed = {}
    if title is not UNCHANGED:
        changed["title"] = check_title("offering", title)
    if host_tags is not UNCHANGED:
        changed["host_tags"] = normalise_tags("host tags", host_tags)
    if storage_tags is not UNCHANGED:
        changed["storage_tags"] = normalise_tags("storage tags", storage_tags)
    if ha_enabled is not UNCHANGED:
        changed["ha_enabled"] = bool(ha_enabled)
    if found.hypervisor == BARE_METAL:
        _check_bare_metal(None, changed.get("storage_tags"), changed.get("ha_enabled"))
    apply_changes(session, found, "offering", changed, actor, label=repr(found.term))
    return found


def _check_bare_metal(disk_gib, storage_tags, ha_enabled) -> None:
    """Refuse what cannot mean anything for a whole node, rather than ignore it."""
    if disk_gib is not None:
        raise InvalidRequest("a BareMetal offering has no disk size: its computes use their node's own disks")
    if storage_tags:
        raise InvalidRequest("a BareMetal offering takes no storage tags: its computes use no primary storage")
    if ha_enabled:
        raise InvalidRequest("a BareMetal offering cannot be HA: HA restarts a virtual machine on another host, and "
                             "a bare-metal compute is its node")


def _check_term(term: object) -> None:
    if not isinstance(term, str) or not term:
        raise InvalidRequest("the offering needs a term: its name as an OCCI resource_tpl mixin")
    if len(term) > _LONGEST_TERM or not is_valid_term(term):
        raise InvalidRequest(f"the offering term {term[:80]!r} is not a valid OCCI term: at most {_LONGEST_TERM} "
                             "letters, digits, '.', '-' and '_', starting with a letter or digit")
    if term in CRTP_SIZES:
        raise Conflict(f"the term {term!r} is taken by the CRTP resource template of that name; the CRTP terms "
                       f"({', '.join(CRTP_SIZES)}) cannot be offerings")


def list_offerings(session: Session) -> list[ServiceOffering]:
    return list(session.scalars(select(ServiceOffering).order_by(ServiceOffering.term)))


def remove_offering(session: Session, offering: Ref, *, actor: Actor = SYSTEM) -> None:
    found = find_offering(session, offering)
    refuse_if_used(f"offering {found.term!r}", {
        "virtual machine": count(session, VirtualMachine, VirtualMachine.offering_id == found.id),
    })
    session.delete(found)
    session.flush()
    record_change(session, actor, "offering.remove", "offering", found.id, f"offering {found.term!r}")
