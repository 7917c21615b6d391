"""Registering OS templates and ISOs: an image at a URL, with its checksum, downloaded into the
secondary storage of each zone it is registered for, by a host of that zone.

Registration writes the row in ``downloading``, one pending copy per zone and their
``download_template`` jobs in the same transaction; each job (handlers/templates.py) asks an Up
host of its zone to fetch the image and verify the checksum, and moves its copy to ``ready`` or
to ``error`` with the reason (plane/template_copies.py: copies and the template's derived state).
A template is copied to another zone later (``copy_template``, CloudStack's copyTemplate), and a
failed copy is downloaded again (``retry_template``). A template ready in some zone is published: OS templates as os_tpl mixins, ISOs
never (they boot installers and rescue systems, they are not something a compute is made *from*).
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from occistack.model import OsTemplate, SecondaryStorage, TemplateCopy, VirtualMachine, Zone
from occistack.model.template_states import TemplateCopyEvent, TemplateCopyState, TemplateState
from occistack.model.occi import is_valid_term
from occistack.model.occi.crtp import CRTP_SIZES
from occistack.plane.dispatch import Dispatcher, Operation
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
    find_row,
    record_change,
    refuse_duplicate,
)
from occistack.plane.admin.lookup import find_project, find_zone
from occistack.plane.admin.offerings import ARCHITECTURES
from occistack.plane.template_copies import (
    READY,
    add_copy,
    charge_secondary_storage,
    copies_of,
    copy_entity,
    move_copy,
    queue_download,
    refresh_template_state,
    store_for,
)
from occistack.plane.usage import close_usage

FORMATS = ("template", "iso")
#: algorithm → the length of its hex digest; a bare digest is recognised by its length.
CHECKSUM_ALGORITHMS = {"md5": 32, "sha1": 40, "sha256": 64, "sha512": 128}
#: file: an image on the management server's own disk -- the embedded default's demo images,
#: or a site's image directory that its hosts mount at the same path.
URL_SCHEMES = ("http", "https", "nfs", "file")
#: What a template is taken to need until its download reports the real size.
DEFAULT_SIZE_GIB = 2.0
_HEX = re.compile(r"[0-9a-fA-F]+")
#: The names of extra attributes: the text rendering's attribute-name rule.
_ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_LONGEST_TERM = 64
_LONGEST_URL = 1024
_LONGEST_OS_FIELD = 64


def _noun(template_format: str) -> str:
    return "ISO" if template_format == "iso" else "template"


def register_template(session: Session, *, term: str, url: str, checksum: str, zone: Ref | None = None,
                      zones: Sequence[Ref] | None = None,
                      title: str | None = None, format: str = "template", os_family: str | None = None,
                      os_name: str | None = None, os_version: str | None = None, architecture: str = "x64",
                      size_gib: float | None = None, min_cores: int = 1, min_memory_gib: float = 0.125,
                      extra_attributes: Mapping[str, Any] | None = None, public: bool = True,
                      project: Ref | None = None, actor: Actor = SYSTEM,
                      dispatcher: Dispatcher) -> OsTemplate:
    """Write the template (``downloading``) with one pending copy per zone (``zone``, or each
    of ``zones``: registerTemplate's zone ids), each queued for download into its zone's first
    enabled secondary storage. A private template (``public=False``) belongs to ``project``
    and is published only in that project's catalog."""
    check_choice("the image format", format, FORMATS)
    noun = _noun(format)
    _check_term(term, noun)
    refuse_duplicate(session, OsTemplate, "a template or ISO", [OsTemplate.term == term], f"named {term!r}")
    owner = _owner(session, public, project, noun)
    the_zones = _zones(session, zone, zones, noun)
    for the_zone in the_zones:
        store_for(session, the_zone, noun)  # refused before anything is written
    template = OsTemplate(
        term=term, title=check_title(noun, title), description=None,
        os_family=_os_field("the OS family", os_family), os_name=_os_field("the OS name", os_name),
        os_version=_os_field("the OS version", os_version),
        architecture=check_choice("architecture", architecture, ARCHITECTURES),
        image_url=_image_url(url), checksum=normalise_checksum(checksum),
        size_gib=DEFAULT_SIZE_GIB if size_gib is None else check_number("the size in GiB", size_gib, above=0),
        min_cores=check_whole("the minimum number of cores", min_cores, 1),
        min_memory_gib=check_number("the minimum memory in GiB", min_memory_gib, above=0),
        extra_attributes=_extra_attributes(extra_attributes), project_id=owner, format=format,
        state=str(TemplateState.DOWNLOADING),
    )
    session.add(template)
    session.flush()
    copies = [add_copy(session, template, the_zone, dispatcher) for the_zone in the_zones]
    stores = [session.get(SecondaryStorage, copy.secondary_storage_id).name for copy in copies]
    record_change(session, actor, "template.register", "template", template.id,
                  f"{noun} {term!r} from {template.image_url} into secondary storage "
                  + ", ".join(f"{store!r} of zone {the_zone.name!r}" for store, the_zone in zip(stores, the_zones)),
                  project_id=owner, state="started")
    return template


def update_template(session: Session, template: OsTemplate, *, title=UNCHANGED, os_family=UNCHANGED,
                    os_name=UNCHANGED, os_version=UNCHANGED, min_cores=UNCHANGED, min_memory_gib=UNCHANGED,
                    extra_attributes=UNCHANGED, actor: Actor = SYSTEM) -> OsTemplate:
    """Change what the template tells about itself: its title, OS, the least a compute made
    from it needs (computes made before keep their size), and the extra attributes of its
    mixin. Its term is the os_tpl mixin clients hold; its URL and checksum are what every zone's
    copy was downloaded from and verified against; its format decides how it is published;
    its zones change by copying (``copy_template``) and its owner not at all: all stay."""
    noun = _noun(template.format)
    changed = {}
    if title is not UNCHANGED:
        changed["title"] = check_title(noun, title)
    for column, what, value in (("os_family", "the OS family", os_family), ("os_name", "the OS name", os_name),
                                ("os_version", "the OS version", os_version)):
        if value is not UNCHANGED:
            changed[column] = _os_field(what, value)
    if min_cores is not UNCHANGED:
        changed["min_cores"] = check_whole("the minimum number of cores", min_cores, 1)
    if min_memory_gib is not UNCHANGED:
        changed["min_memory_gib"] = check_number("the minimum memory in GiB", min_memory_gib, above=0)
    if extra_attributes is not UNCHANGED:
        changed["extra_attributes"] = _extra_attributes(extra_attributes)
    apply_changes(session, template, "template", changed, actor, label=repr(template.term))
    return template


def _zones(session: Session, zone: Ref | None, zones: Sequence[Ref] | None, noun: str) -> list[Zone]:
    """The zones a registration names: ``zone``, or a list ``zones``, each once."""
    named = [*([zone] if zone is not None else []), *(zones or [])]
    if not named:
        raise InvalidRequest(f"name the zone (or zones) whose secondary storage gets the {noun}")
    found: list[Zone] = []
    for ref in named:
        the_zone = find_zone(session, ref)
        if the_zone not in found:
            found.append(the_zone)
    return found


def _check_term(term: object, noun: str) -> None:
    if not isinstance(term, str) or not term:
        raise InvalidRequest(f"the {noun} needs a term: its name as an OCCI mixin")
    if len(term) > _LONGEST_TERM or not is_valid_term(term):
        raise InvalidRequest(f"the {noun} term {term[:80]!r} is not a valid OCCI term: at most {_LONGEST_TERM} "
                             "letters, digits, '.', '-' and '_', starting with a letter or digit")
    if term in CRTP_SIZES:
        raise Conflict(f"the term {term!r} is taken by the CRTP resource template of that name; the CRTP terms "
                       f"({', '.join(CRTP_SIZES)}) cannot be templates")


def _owner(session: Session, public: bool, project: Ref | None, noun: str) -> int | None:
    if public:
        if project is not None:
            raise InvalidRequest(f"a public {noun} belongs to no project; name a project only for a private one")
        return None
    if project is None:
        raise InvalidRequest(f"a private {noun} belongs to one project: name it")
    return find_project(session, project).id


def _os_field(what: str, value: object) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > _LONGEST_OS_FIELD:
        raise InvalidRequest(f"{what} must be text of at most {_LONGEST_OS_FIELD} characters")
    return value


def _image_url(url: object) -> str:
    accepted = ("an http://, https://, nfs:// or file:/// URL naming the image, like "
                "https://example.org/images/debian-12.qcow2")
    if not isinstance(url, str) or not url:
        raise InvalidRequest(f"the image URL is missing: give {accepted}")
    if len(url) > _LONGEST_URL:
        raise InvalidRequest(f"the image URL is too long: at most {_LONGEST_URL} characters")
    parts = urlsplit(url)
    if parts.scheme not in URL_SCHEMES:
        raise InvalidRequest(f"the image URL {url[:200]!r} is not usable: give {accepted}")
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/") or parts.path.endswith("/"):
            raise InvalidRequest(f"the image URL {url[:200]!r} names no file by its absolute path on this server: "
                                 f"give {accepted}")
    elif not parts.hostname or parts.path in ("", "/"):
        raise InvalidRequest(f"the image URL {url[:200]!r} names no server or no file: give {accepted}")
    return url


def normalise_checksum(checksum: object) -> str:
    """"sha256:ABC…" or a bare digest → "sha256:abc…" (a bare digest's algorithm follows from
    its length, as CloudStack guesses it)."""
    accepted = ("<algorithm>:<hex digest> with algorithm " + ", ".join(CHECKSUM_ALGORITHMS)
                + ", or a bare hex digest of one of them")
    if not isinstance(checksum, str) or not checksum.strip():
        raise InvalidRequest(f"the checksum is missing: give {accepted}")
    algorithm, separator, digest = checksum.strip().rpartition(":")
    if separator:
        algorithm = algorithm.lower()
        if algorithm not in CHECKSUM_ALGORITHMS:
            raise InvalidRequest(f"the checksum algorithm {algorithm[:20]!r} is not accepted; accepted: "
                                 + ", ".join(CHECKSUM_ALGORITHMS))
    if not _HEX.fullmatch(digest):
        raise InvalidRequest(f"the checksum {checksum[:140]!r} is not hexadecimal: give {accepted}")
    if not separator:
        by_length = {length: name for name, length in CHECKSUM_ALGORITHMS.items()}
        algorithm = by_length.get(len(digest))
        if algorithm is None:
            raise InvalidRequest(f"a bare checksum of {len(digest)} hex digits matches no accepted algorithm "
                                 "(md5 has 32, sha1 40, sha256 64, sha512 128); give <algorithm>:<hex digest>")
    elif len(digest) != CHECKSUM_ALGORITHMS[algorithm]:
        raise InvalidRequest(f"a {algorithm} checksum has {CHECKSUM_ALGORITHMS[algorithm]} hex digits; "
                             f"this one has {len(digest)}")
    return f"{algorithm}:{digest.lower()}"


def _extra_attributes(attributes: Mapping[str, Any] | None) -> dict[str, Any]:
    """Attributes published on the os_tpl mixin as immutable defaults (the EGI AppDB ones, say):
    names by the attribute-name rule, outside the ``occi.`` namespace, values plain."""
    if attributes is None:
        return {}
    if not isinstance(attributes, Mapping):
        raise InvalidRequest("the extra attributes must be an object of attribute names and values")
    for name, value in attributes.items():
        if not isinstance(name, str) or not _ATTRIBUTE_NAME.fullmatch(name) or len(name) > 255:
            raise InvalidRequest(f"the extra attribute name {str(name)[:80]!r} is not an OCCI attribute name "
                                 "(like eu.egi.fedcloud.appliance.appdb.id)")
        if name.startswith("occi."):
            raise InvalidRequest(f"the extra attribute {name!r} is in the occi. namespace, which OCCI itself "
                                 "defines; use the site's or the community's namespace")
        if value is None or not isinstance(value, (str, int, float, bool)):
            raise InvalidRequest(f"the extra attribute {name!r} must be text, a number or true/false")
    return dict(attributes)


def list_templates(session: Session, *, format: str | None = None) -> list[OsTemplate]:
    query = select(OsTemplate).order_by(OsTemplate.term)
    if format is not None:
        query = query.where(OsTemplate.format == check_choice("the image format", format, FORMATS))
    return list(session.scalars(query))


def find_template(session: Session, template: Ref, *, format: str | None = None) -> OsTemplate:
    """By id or term; with ``format``, only among the templates (or the ISOs)."""
    where = [] if format is None else [OsTemplate.format == format]
    what = "template or ISO" if format is None else _noun(format)
    return find_row(session, OsTemplate, template, what, name_column=OsTemplate.term, where=where,
                    plural={None: "templates and ISOs", "iso": "ISOs"}.get(format, "templates"))


def delete_template(session: Session, template: Ref, *, format: str | None = None, actor: Actor = SYSTEM,
                    dispatcher: Dispatcher) -> None:
    """Remove a template no compute was made from (a compute keeps naming its template), and
    queue the removal of every zone's copy from its secondary storage (``remove_template_image``);
    the GiB they were charged are given back at once."""
    found = find_template(session, template, format=format)
    noun = _noun(found.format)
    users = count(session, VirtualMachine, VirtualMachine.template_id == found.id)
    if users:
        raise Conflict(f"{noun} {found.term!r} is used by {users} compute{'' if users == 1 else 's'}")
    for copy in copies_of(session, found.id):
        close_usage(session, "template", copy_entity(copy))
        if copy.state == TemplateCopyState.READY and copy.secondary_storage_id is not None:
            charge_secondary_storage(session, copy.secondary_storage_id, -(copy.size_gib or found.size_gib))
        if copy.secondary_storage_id is not None and copy.secondary_path:
            # Also while it downloads: the download may still finish and leave its file there.
            dispatcher.submit(session, Operation("remove_template_image", copy_entity(copy), {
                "template_id": found.id, "store_id": copy.secondary_storage_id, "path": copy.secondary_path,
                "template": found.term}))
    session.delete(found)
    session.flush()
    record_change(session, actor, "template.delete", "template", found.id, f"{noun} {found.term!r}",
                  project_id=found.project_id)


# --- copies in other zones -----------------------------------------------------------------

def zone_names(session: Session, zone_ids: Iterable[int]) -> list[str]:
    ids = set(zone_ids)
    if not ids:
        return []
    return list(session.scalars(select(Zone.name).where(Zone.id.in_(ids)).order_by(Zone.name)))


def copy_template(session: Session, template: OsTemplate, zone: Ref, *, actor: Actor = SYSTEM,
                  dispatcher: Dispatcher) -> TemplateCopy:
    """copyTemplate: a new copy in ``zone``, which a host of that zone downloads (from the
    template's URL, or for a saved template, which has none, from a ready copy's secondary
    storage)."""
    the_zone = find_zone(session, zone)
    noun = "ISO" if template.format == "iso" else "template"
    existing = session.scalar(select(TemplateCopy).where(TemplateCopy.template_id == template.id,
                                                         TemplateCopy.zone_id == the_zone.id))
    if existing is not None:
        hint = "; retry it with `occistack template retry`" if existing.state == TemplateCopyState.ERROR else ""
        raise Conflict(f"{noun} {template.term!r} already has a copy in zone {the_zone.name!r} "
                       f"({existing.state}){hint}")
    if template.image_url is None and not any(copy.state == READY and copy.secondary_storage_id
                                              for copy in copies_of(session, template.id)):
        raise Conflict(f"{noun} {template.term!r} has no URL and no ready copy in secondary storage to copy from")
    copy = add_copy(session, template, the_zone, dispatcher)
    refresh_template_state(session, template)
    record_change(session, actor, "template.copy", "template", template.id,
                  f"{noun} {template.term!r} to zone {the_zone.name!r}", project_id=template.project_id,
                  state="started")
    return copy


def retry_template(session: Session, template: OsTemplate, zone: Ref | None = None, *, actor: Actor = SYSTEM,
                   dispatcher: Dispatcher) -> list[TemplateCopy]:
    """Download again the copies that failed (in ``zone`` only, when named); Conflict when
    there is none to retry, saying what state the copies are in."""
    noun = "ISO" if template.format == "iso" else "template"
    copies = copies_of(session, template.id)
    if zone is not None:
        the_zone = find_zone(session, zone)
        copies = [copy for copy in copies if copy.zone_id == the_zone.id]
        if not copies:
            raise Conflict(f"{noun} {template.term!r} has no copy in zone {the_zone.name!r}; copy it there with "
                           "`occistack template copy`")
    failed = [copy for copy in copies if copy.state == TemplateCopyState.ERROR]
    if not failed:
        states = ", ".join(f"{name}: {copy.state}" for name, copy in
                           zip(zone_names(session, [c.zone_id for c in copies]), copies)) or "none"
        raise Conflict(f"{noun} {template.term!r} has no failed copy to retry (copies: {states}); only a copy "
                       "in error is downloaded again")
    for copy in failed:
        if copy.secondary_storage_id is None:
            raise InvalidRequest(f"the copy of {noun} {template.term!r} in zone {copy.zone_id} has no secondary "
                                 "storage (it was saved on a host): it cannot be downloaded again")
        move_copy(session, copy, TemplateCopyEvent.RETRY)
        copy.progress, copy.state_message = 0, None
        queue_download(session, copy, dispatcher)
    refresh_template_state(session, template)
    record_change(session, actor, "template.retry", "template", template.id,
                  f"{noun} {template.term!r} in zone{'s' if len(failed) > 1 else ''} "
                  + ", ".join(zone_names(session, [copy.zone_id for copy in failed])),
                  project_id=template.project_id, state="started")
    return failed
