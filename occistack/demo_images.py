"""The demo's OS images, built on this machine with no network: tiny qcow2 files (qemu-img when
it is installed, else written here byte by byte), registered with a ``file://`` URL and their
real checksum, so that the embedded default downloads and verifies them as it would any image.

They boot nothing -- the simulated hosts boot nothing either -- but they are real images of the
format their name says, and the tests build theirs with the same function.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: A qcow2 file's virtual size when none is asked for.
DEFAULT_VIRTUAL_MIB = 64
_CLUSTER_BITS = 16  # 64 KiB clusters, qemu-img's default


@dataclass(frozen=True)
class BuiltImage:
    path: Path
    checksum: str  # sha256:<hex>
    size_bytes: int

    @property
    def url(self) -> str:
        return self.path.resolve().as_uri()


def build_image(directory: str | Path, name: str, virtual_mib: int = DEFAULT_VIRTUAL_MIB) -> BuiltImage:
    """``directory/name.qcow2``: an empty qcow2 image of ``virtual_mib`` MiB (kept when it is
    there already, so building again changes no checksum)."""
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.qcow2"
    if not path.exists():
        partial = path.with_name(f".{path.name}.partial")
        partial.unlink(missing_ok=True)
        qemu_img = shutil.which("qemu-img")
        if qemu_img:
            subprocess.run([qemu_img, "create", "-q", "-f", "qcow2", str(partial), f"{virtual_mib}M"], check=True,
                           capture_output=True)
        else:
            partial.write_bytes(empty_qcow2(virtual_mib * 1024 * 1024))
        partial.rename(path)
    data = path.read_bytes()
    return BuiltImage(path, "sha256:" + hashlib.sha256(data).hexdigest(), len(data))


def empty_qcow2(virtual_bytes: int) -> bytes:
    """A minimal valid qcow2 (version 2) of ``virtual_bytes`` with no data: header, one L1
    table, a refcount table and one refcount block covering those clusters."""
    cluster = 1 << _CLUSTER_BITS
    l2_entries = cluster // 8
    l1_size = max(1, -(-virtual_bytes // (cluster * l2_entries)))
    # clusters: 0 header, 1 L1 table, 2 refcount table, 3 refcount block
    header = struct.pack(">4sIQIIQIIQQIIQ", b"QFI\xfb", 2, 0, 0, _CLUSTER_BITS, virtual_bytes, 0, l1_size,
                         1 * cluster, 2 * cluster, 1, 0, 0)
    image = bytearray(4 * cluster)
    image[:len(header)] = header
    struct.pack_into(">Q", image, 2 * cluster, 3 * cluster)  # refcount table → the block
    for index in range(4):  # each of the four clusters is used once
        struct.pack_into(">H", image, 3 * cluster + 2 * index, 1)
    return bytes(image)
