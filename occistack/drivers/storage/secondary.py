"""Secondary storage: the zone's template and snapshot store on an NFS export, read and written
over the NFS protocol (libnfs), never through a kernel mount.

:class:`NfsSecondaryStorage` is rooted at one directory of an export (``nfs://server/export``
or ``nfs://server/export/templates?version=4``); its paths are relative to that root.
:meth:`NfsSecondaryStorage.download_template` is the StorageDriver contract's operation: it
streams an image from http(s) or NFS, hashes it on the way, writes it under a temporary name
next to its destination and renames it only once the digest matches -- so no reader ever sees a
half-written or corrupt template under its final name.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from contextlib import contextmanager
from typing import Callable, Iterator
from urllib.error import HTTPError, URLError
from urllib.parse import urlsplit
from urllib.request import Request, urlopen

from occistack.drivers.base import DriverError, SecondaryStorageDriver
from occistack.drivers.storage.checksums import parse_checksum
from occistack.drivers.storage.nfs import NfsSession, join_nfs_url, split_nfs_url

log = logging.getLogger(__name__)

GIB = 1024 ** 3
#: Large enough for any cloud image; a runaway or malicious server stops here.
DEFAULT_MAX_BYTES = 64 * GIB
DEFAULT_TIMEOUT = 30.0  # seconds without progress (connect, or between reads) before giving up
HTTP_CHUNK = 1024 * 1024
PARTIAL_MARKER = ".partial-"


class NfsSecondaryStorage(SecondaryStorageDriver):
    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        """Mount ``url`` (a directory on an NFS server). ``timeout`` applies to HTTP sources;
        ``max_bytes`` caps every download."""
        self.server, self.root, self.query = split_nfs_url(url)
        self.url = join_nfs_url(self.server, self.root, self.query)
        self.timeout = timeout
        self.max_bytes = max_bytes
        self._session = NfsSession(self.url)

    @classmethod
    def containing(cls, url: str, **options) -> tuple[NfsSecondaryStorage, str]:
        """A storage on the deepest existing directory above the file ``url`` names, and the
        file's path relative to it -- for URLs that do not say where their export ends."""
        server, path, query = split_nfs_url(url)
        directory, _slash, _name = path.rpartition("/")
        parts = directory.strip("/").split("/") if directory.strip("/") else []
        last_error: DriverError | None = None
        for depth in range(len(parts), -1, -1):
            root = "/" + "/".join(parts[:depth])
            try:
                storage = cls(join_nfs_url(server, root, query), **options)
            except DriverError as error:
                last_error = error
                continue
            return storage, path[len(root.rstrip("/")):].lstrip("/")
        raise DriverError(f"no directory above {url} can be mounted over NFS: {last_error}")

    def close(self) -> None:
        self._session.close()

    def url_for(self, path: str) -> str:
        return join_nfs_url(self.server, f"{self.root.rstrip('/')}/{path.lstrip('/')}", self.query)

    def relative(self, destination: str) -> str:
        """``destination`` (a path under the root, or a full nfs:// URL under it) as a relative path."""
        if not destination.startswith("nfs://"):
            return destination.lstrip("/")
        server, path, query = split_nfs_url(destination)
        prefix = self.root.rstrip("/") + "/"
        if server != self.server or query != self.query or not path.startswith(prefix):
            raise DriverError(f"{destination} is not inside this secondary storage ({self.url})")
        return path[len(prefix):]

    # --- files ------------------------------------------------------------------------------

    def list(self, directory: str = "") -> list[str]:
        """The names in ``directory``, without unfinished downloads."""
        return [name for name in self._session.listdir(self.relative(directory)) if PARTIAL_MARKER not in name]

    def size(self, path: str) -> int:
        """The file's size in bytes; DriverError when it does not exist."""
        found = self._session.stat(self.relative(path))
        if found is None or found[1]:
            raise DriverError(f"no file {path} in secondary storage {self.url}")
        return found[0]

    def exists(self, path: str) -> bool:
        return self._session.stat(self.relative(path)) is not None

    def delete(self, path: str) -> None:
        """Absent files are not an error."""
        self._session.unlink(self.relative(path))

    def remove_from_secondary(self, destination: str) -> None:
        """The contract's removal: ``destination`` is an nfs:// URL under this storage."""
        self.delete(destination)

    def get(self, path: str, local_path: str | os.PathLike) -> int:
        """Copy the file to ``local_path``; the bytes copied."""
        copied = 0
        with open(local_path, "wb") as local:
            for chunk in self._session.read_chunks(self.relative(path)):
                local.write(chunk)
                copied += len(chunk)
        return copied

    def read_chunks(self, path: str) -> Iterator[bytes]:
        return self._session.read_chunks(self.relative(path))

    def put(self, path: str, source: str | os.PathLike) -> int:
        """Store a local file or an http(s)/nfs URL at ``path`` (parents are created); the bytes
        stored. Written under a temporary name and renamed when complete."""
        with open_source(source, timeout=self.timeout, max_bytes=self.max_bytes) as (chunks, _size):
            return self._store(self.relative(path), chunks, verify=None)

    def store_hashed(self, destination: str, chunks: Iterator[bytes]) -> tuple[str, int]:
        """Write ``chunks`` at ``destination`` (an nfs:// URL under this storage, or a relative
        path), hashing them on the way; (``sha256:<hex>``, bytes stored). Written under a
        temporary name and renamed when complete."""
        hasher = hashlib.sha256()

        def hashed() -> Iterator[bytes]:
            for chunk in chunks:
                hasher.update(chunk)
                yield chunk

        stored = self._store(self.relative(destination), hashed(), verify=None)
        return f"sha256:{hasher.hexdigest()}", stored

    def download_template(self, url: str, checksum: str, destination: str, progress=None) -> float:
        """The contract's download: ``url`` (http, https, nfs or file) into ``destination`` (an
        nfs:// URL under this storage, or a relative path), verified against ``checksum``; GiB
        stored. ``progress(bytes done, bytes in all or None)`` follows it."""
        target = self.relative(destination)
        return verified_download(url, checksum, lambda chunks, verify: self._store(target, chunks, verify),
                                 timeout=self.timeout, max_bytes=self.max_bytes, progress=progress) / GIB

    def _store(self, path: str, chunks: Iterator[bytes], verify) -> int:
        if not path or path.endswith("/"):
            raise DriverError(f"{path!r} does not name a file in secondary storage {self.url}")
        directory, _slash, name = path.rpartition("/")
        if directory:
            self._session.makedirs(directory)
        partial = f"{directory + '/' if directory else ''}.{name}{PARTIAL_MARKER}{uuid.uuid4().hex[:8]}"
        try:
            written = self._session.write_chunks(partial, chunks)
            if verify is not None:
                verify()
            self._session.rename(partial, path)
        except BaseException:
            try:
                self._session.unlink(partial)  # a failed download leaves nothing behind
            except DriverError as cleanup_error:  # keep the original failure as the answer
                log.warning("could not remove %s from %s: %s", partial, self.url, cleanup_error)
            raise
        return written


class NfsUrlSecondaryStorage(SecondaryStorageDriver):
    """Secondary storage as an agent reaches it: whatever NFS export a destination URL names,
    mounted (its deepest existing directory) for each download or removal -- the zone's
    secondary storage is configured on the server, not on the host."""

    def __init__(self, **options) -> None:
        #: NfsSecondaryStorage's options (timeout, max_bytes, ...).
        self.options = options

    def download_template(self, url: str, checksum: str, destination: str, progress=None) -> float:
        return download_template(url, checksum, destination, progress=progress, **self.options)

    def remove_from_secondary(self, destination: str) -> None:
        remove_file(destination, **self.options)


def store_hashed(destination: str, chunks: Iterator[bytes], **options) -> tuple[str, int]:
    """:meth:`NfsSecondaryStorage.store_hashed` into any ``nfs://`` destination, mounting the
    deepest existing directory above it."""
    storage, relative = NfsSecondaryStorage.containing(destination, **options)
    try:
        return storage.store_hashed(relative, chunks)
    finally:
        storage.close()


def download_template(url: str, checksum: str, destination: str, progress=None, **options) -> float:
    """The contract's download into any ``nfs://`` destination, mounting the deepest existing
    directory above it (see :meth:`NfsSecondaryStorage.containing`)."""
    parse_checksum(checksum)
    storage, relative = NfsSecondaryStorage.containing(destination, **options)
    try:
        return storage.download_template(url, checksum, relative, progress=progress)
    finally:
        storage.close()


def verified_download(url: str, checksum: str, store: Callable[[Iterator[bytes], Callable[[], None]], int], *,
                      timeout: float = DEFAULT_TIMEOUT, max_bytes: int = DEFAULT_MAX_BYTES,
                      progress: Callable[[int, int | None], None] | None = None) -> int:
    """Stream ``url`` through ``store(chunks, verify)`` -- which writes the chunks under a
    temporary name, calls ``verify()`` and only then gives the file its name -- hashing on the
    way against ``checksum`` and telling ``progress`` how far it came; the bytes stored. A
    malformed checksum is refused before anything is fetched."""
    expected = parse_checksum(checksum)
    with open_source(url, timeout=timeout, max_bytes=max_bytes) as (chunks, size):
        hasher = expected.hasher()

        def hashed() -> Iterator[bytes]:
            done = 0
            for chunk in chunks:
                hasher.update(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, size)
                yield chunk

        return store(hashed(), lambda: expected.verify(hasher, url))


def remove_file(destination: str, **options) -> None:
    """Remove the file at any ``nfs://`` destination (absent: not an error), mounting the
    deepest existing directory above it."""
    storage, relative = NfsSecondaryStorage.containing(destination, **options)
    try:
        storage.delete(relative)
    finally:
        storage.close()


@contextmanager
def open_source(source: str | os.PathLike, *, timeout: float = DEFAULT_TIMEOUT,
                max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[tuple[Iterator[bytes], int | None]]:
    """(chunks, size in bytes if known) of a local file, an http(s) URL or an nfs:// URL; more
    than ``max_bytes`` is a DriverError, whatever the source claims about its size."""
    text = os.fspath(source)
    scheme = urlsplit(text).scheme
    if scheme in ("http", "https"):
        with _http_source(text, timeout) as (chunks, size):
            yield _capped(chunks, size, max_bytes, text), size
    elif scheme == "nfs":
        storage, relative = NfsSecondaryStorage.containing(text)
        try:
            size = storage.size(relative)
            yield _capped(storage.read_chunks(relative), size, max_bytes, text), size
        finally:
            storage.close()
    elif scheme in ("", "file"):
        path = urlsplit(text).path if scheme == "file" else text
        try:
            local = open(path, "rb")
        except OSError as error:
            raise DriverError(f"cannot read {text}: {error.strerror}") from error
        with local:
            size = os.fstat(local.fileno()).st_size
            yield _capped(iter(lambda: local.read(HTTP_CHUNK), b""), size, max_bytes, text), size
    else:
        raise DriverError(f"cannot fetch {text!r}: the accepted sources are http, https, nfs and local files")


@contextmanager
def _http_source(url: str, timeout: float) -> Iterator[tuple[Iterator[bytes], int | None]]:
    try:
        response = urlopen(Request(url, headers={"User-Agent": "occistack"}), timeout=timeout)
    except (URLError, OSError, ValueError) as error:
        detail = error if isinstance(error, HTTPError) else getattr(error, "reason", error)
        raise DriverError(f"cannot download {url}: {detail}") from error
    with response:
        length = response.headers.get("Content-Length")
        size = int(length) if length and length.isdigit() else None

        def chunks() -> Iterator[bytes]:
            try:
                yield from iter(lambda: response.read(HTTP_CHUNK), b"")
            except OSError as error:  # timeouts and resets mid-body
                raise DriverError(f"download of {url} broke off: {error}") from error

        yield chunks(), size


def _capped(chunks: Iterator[bytes], size: int | None, max_bytes: int, what: str) -> Iterator[bytes]:
    if size is not None and size > max_bytes:
        raise DriverError(f"{what} is {size} bytes, more than the limit of {max_bytes}")
    seen = 0
    for chunk in chunks:
        seen += len(chunk)
        if seen > max_bytes:
            raise DriverError(f"{what} is larger than the limit of {max_bytes} bytes")
        yield chunk
