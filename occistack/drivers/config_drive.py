"""The NoCloud config drive: how a guest's contextualization reaches cloud-init.

cloud-init's NoCloud datasource looks for a filesystem labelled ``cidata`` holding
``meta-data`` (YAML: the instance id, the host name, SSH public keys) and ``user-data`` (what
the user gave: a ``#cloud-config`` document, a script, a MIME multipart…). Both OCCI
contextualization schemes end up here: OCCI 1.2's ``user_data`` and ``ssh_key`` and the
OpenStack scheme's ``user_data`` and ``public_key`` (the management plane has already decoded
the base64 of ``user_data``). The drive is an ISO 9660 image with Joliet and Rock Ridge names,
built with pycdlib in memory, so no external tool (genisoimage, xorriso) is needed on a host.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from pathlib import Path

import pycdlib

VOLUME_LABEL = "cidata"


@dataclass(frozen=True, slots=True)
class Contextualization:
    instance_id: str
    hostname: str | None = None
    user_data: str | None = None
    ssh_public_key: str | None = None


def meta_data(context: Contextualization) -> str:
    """The ``meta-data`` document. JSON is YAML, and writing JSON means no value (a key with a
    colon, a host name like ``no``) can be misread as YAML syntax."""
    document: dict[str, object] = {"instance-id": context.instance_id}
    if context.hostname:
        document["local-hostname"] = context.hostname
    if context.ssh_public_key:
        document["public-keys"] = [key.strip() for key in context.ssh_public_key.splitlines() if key.strip()]
    return json.dumps(document, indent=2) + "\n"


def build_config_drive(context: Contextualization) -> bytes:
    """The ISO image, as bytes (a few hundred KiB at most)."""
    files = {"meta-data": meta_data(context).encode(), "user-data": (context.user_data or "").encode()}
    iso = pycdlib.PyCdlib()
    iso.new(interchange_level=3, vol_ident=VOLUME_LABEL, joliet=3, rock_ridge="1.09")
    try:
        for name, content in files.items():
            # ISO 9660 level-3 names are upper case with a version; Joliet and Rock Ridge carry
            # the real ones, which is what Linux (and so cloud-init) reads.
            iso_name = "/" + name.upper().replace("-", "_") + ".;1"
            iso.add_fp(io.BytesIO(content), len(content), iso_name, rr_name=name, joliet_path="/" + name)
        image = io.BytesIO()
        iso.write_fp(image)
        return image.getvalue()
    finally:
        iso.close()


def write_config_drive(context: Contextualization, path: str | Path) -> Path:
    """Write the drive to ``path`` (replacing it whole: a guest never sees half a drive)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(build_config_drive(context))
    partial.replace(path)
    return path


def read_config_drive(image: bytes) -> dict[str, str]:
    """The files of a config drive by their real names (for tests and for support)."""
    iso = pycdlib.PyCdlib()
    iso.open_fp(io.BytesIO(image))
    try:
        found = {}
        for child in iso.list_children(rr_path="/"):
            name = child.rock_ridge.name().decode() if child.rock_ridge is not None else ""
            if name in ("meta-data", "user-data"):
                content = io.BytesIO()
                iso.get_file_from_iso_fp(content, rr_path="/" + name)
                found[name] = content.getvalue().decode()
        label = iso.pvd.volume_identifier.decode().strip()
        found["label"] = label
        return found
    finally:
        iso.close()
