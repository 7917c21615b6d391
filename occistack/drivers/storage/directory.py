"""Secondary storage in a local directory: the embedded default's, where the simulated hosts
really download, checksum and store template images (their guests and volumes stay simulated).

:class:`DirectorySecondaryStorage` offers what :class:`~.secondary.NfsSecondaryStorage` offers
(the same contract tests run on both), over files: a ``file:///path`` destination is that path;
an ``nfs://server/export/path`` one -- a zone whose secondary storage the administrator gave as
NFS -- is kept under ``<root>/nfs/server/export/path``, since a simulated host reaches no NFS
server. Downloads are hashed on the way, written under a temporary name next to their
destination and renamed only once the digest matches.

:class:`SimulatedHostStorage` is the simulated hosts' storage driver: the fake's volumes (a
simulated guest has no disk to attach them to) with this real secondary storage.
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import Callable, Iterator
from urllib.parse import unquote, urlsplit

from occistack.drivers.base import DriverError, SecondaryStorageDriver
from occistack.drivers.fake import FakeStorageDriver
from occistack.drivers.storage.secondary import DEFAULT_MAX_BYTES, DEFAULT_TIMEOUT, GIB, HTTP_CHUNK, PARTIAL_MARKER, open_source, \
    verified_download


class DirectorySecondaryStorage(SecondaryStorageDriver):
    def __init__(self, root: str | os.PathLike, *, timeout: float = DEFAULT_TIMEOUT,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        """Relative paths live under ``root``; so do the simulated NFS exports (``root/nfs``)."""
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.url = self.root.resolve().as_uri()
        self.timeout = timeout
        self.max_bytes = max_bytes

    def close(self) -> None:
        """Nothing to let go of (the NFS storage's counterpart unmounts)."""

    def url_for(self, path: str) -> str:
        return (self.root / path.lstrip("/")).resolve().as_uri()

    def local_path(self, location: str | os.PathLike) -> Path:
        """The file a ``file://`` URL, a simulated ``nfs://`` URL or a path relative to the root
        names; DriverError for any other URL or a path that climbs out of its directory."""
        text = os.fspath(location)
        parts = urlsplit(text)
        if parts.scheme == "file":
            if parts.netloc not in ("", "localhost"):
                raise DriverError(f"{text} names a file on another machine ({parts.netloc})")
            path = Path(unquote(parts.path))
        elif parts.scheme == "nfs":
            if not parts.hostname:
                raise DriverError(f"{text} names no NFS server")
            path = self.root / "nfs" / parts.hostname / unquote(parts.path).lstrip("/")
        elif parts.scheme == "":
            path = self.root / text.lstrip("/")
        else:
            raise DriverError(f"{text} is not in a local directory: secondary storage here takes file:// and "
                              "(simulated) nfs:// URLs")
        if ".." in path.parts:
            raise DriverError(f"{text} climbs out of its directory ('..')")
        return path

    def relative(self, destination: str) -> str:
        """``destination`` as a path relative to the root (the NFS storage's counterpart)."""
        path = self.local_path(destination)
        try:
            return path.resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            raise DriverError(f"{destination} is not inside this secondary storage ({self.url})") from None

    # --- files ------------------------------------------------------------------------------

    def list(self, directory: str = "") -> list[str]:
        """The names in ``directory``, without unfinished downloads."""
        found = self.local_path(directory) if directory else self.root
        if not found.is_dir():
            return []
        return sorted(name for name in os.listdir(found) if PARTIAL_MARKER not in name)

    def size(self, path: str) -> int:
        found = self.local_path(path)
        if not found.is_file():
            raise DriverError(f"no file {path} in secondary storage {self.url}")
        return found.stat().st_size

    def exists(self, path: str) -> bool:
        return self.local_path(path).exists()

    def delete(self, path: str) -> None:
        """Absent files are not an error."""
        self.local_path(path).unlink(missing_ok=True)

    def remove_from_secondary(self, destination: str) -> None:
        """The contract's removal: ``destination`` is a file:// or (simulated) nfs:// URL."""
        self.delete(destination)

    def read_chunks(self, path: str) -> Iterator[bytes]:
        found = self.local_path(path)
        try:
            with open(found, "rb") as source:
                yield from iter(lambda: source.read(HTTP_CHUNK), b"")
        except OSError as error:
            raise DriverError(f"cannot read {path} in secondary storage {self.url}: {error.strerror}") from error

    def get(self, path: str, local_path: str | os.PathLike) -> int:
        copied = 0
        with open(local_path, "wb") as local:
            for chunk in self.read_chunks(path):
                local.write(chunk)
                copied += len(chunk)
        return copied

    def put(self, path: str, source: str | os.PathLike) -> int:
        """Store a local file or an http(s)/file URL at ``path``; the bytes stored."""
        with open_source(self._source(source), timeout=self.timeout, max_bytes=self.max_bytes) as (chunks, _size):
            return self._store(self.local_path(path), chunks, verify=None)

    def download_template(self, url: str, checksum: str, destination: str,
                          progress: Callable[[int, int | None], None] | None = None) -> float:
        """The contract's download: ``url`` (http, https, file, or a simulated nfs:// one) into
        ``destination``, verified against ``checksum``; GiB stored."""
        target = self.local_path(destination)
        return verified_download(self._source(url), checksum,
                                 lambda chunks, verify: self._store(target, chunks, verify),
                                 timeout=self.timeout, max_bytes=self.max_bytes, progress=progress) / GIB

    def _source(self, url: str | os.PathLike) -> str:
        # Another zone's copy in simulated NFS is a file here too.
        text = os.fspath(url)
        return str(self.local_path(text)) if urlsplit(text).scheme == "nfs" else text

    def _store(self, target: Path, chunks: Iterator[bytes], verify) -> int:
        if not target.name:
            raise DriverError(f"{target} does not name a file in secondary storage {self.url}")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise DriverError(f"cannot make {target.parent}: {error.strerror}") from error
        partial = target.with_name(f".{target.name}{PARTIAL_MARKER}{uuid.uuid4().hex[:8]}")
        written = 0
        try:
            with open(partial, "wb") as out:
                for chunk in chunks:
                    out.write(chunk)
                    written += len(chunk)
            if verify is not None:
                verify()
            os.replace(partial, target)
        except OSError as error:
            partial.unlink(missing_ok=True)
            raise DriverError(f"cannot write {target}: {error.strerror}") from error
        except BaseException:
            partial.unlink(missing_ok=True)  # a failed download leaves nothing behind
            raise
        return written


class SimulatedHostStorage(FakeStorageDriver):
    """A simulated host's storage: in-memory volumes, secondary storage for real on disk."""

    def __init__(self, secondary: DirectorySecondaryStorage, **options) -> None:
        super().__init__(**options)
        self.secondary = secondary

    def download_template(self, url: str, checksum: str, destination: str, progress=None) -> float:
        self.failures.check("download_template")
        return self.secondary.download_template(url, checksum, destination, progress=progress)

    def export_image(self, image: str, destination: str) -> tuple[str, float]:
        """A saved guest's disk into secondary storage: the simulated guest has no disk, so a
        small stand-in file (naming the image) is written and hashed -- a real file, which
        other zones can copy."""
        self.failures.check("export_image")
        if not self.image_exists(image):
            raise DriverError(f"no image named {image} on this host")
        content = f"simulated disk image {image}\n".encode()
        hasher = hashlib.sha256()

        def chunks() -> Iterator[bytes]:
            hasher.update(content)
            yield content

        stored = self.secondary._store(self.secondary.local_path(destination), chunks(), verify=None)
        return f"sha256:{hasher.hexdigest()}", stored / GIB

    def remove_from_secondary(self, destination: str) -> None:
        self.failures.check("remove_from_secondary")
        self.secondary.delete(destination)
        super().remove_from_secondary(destination)

    def _store_snapshot(self, destination: str, data: str, size_gib: float) -> tuple[str, float]:
        """A simulated volume's snapshot as a real file in secondary storage (its data and
        size as JSON), so that any simulated host of the zone can restore it."""
        content = json.dumps({"data": data, "size_gib": size_gib}, sort_keys=True).encode()
        stored = self.secondary._store(self.secondary.local_path(destination), iter([content]), verify=None)
        return f"sha256:{hashlib.sha256(content).hexdigest()}", stored / GIB

    def _load_snapshot(self, source: str, checksum: str) -> tuple[str, float]:
        path = self.secondary.local_path(source)
        if not path.is_file():
            raise DriverError(f"no snapshot at {source}")
        content = path.read_bytes()
        actual = f"sha256:{hashlib.sha256(content).hexdigest()}"
        if actual != checksum:
            raise DriverError(f"checksum mismatch for {source}: expected {checksum}, got {actual}")
        found = json.loads(content)
        return found["data"], found["size_gib"]
