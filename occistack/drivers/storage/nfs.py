"""A small NFS client session over libnfs's low-level calls: the NFS protocol from userspace,
no kernel mount (hosts and test machines may have no kernel NFS client at all).

libnfs's Python convenience classes ignore most return codes (a failed mount or a short write
passes silently), so this module calls the C functions directly and turns every negative
result into a DriverError in one place, :meth:`NfsSession._check`, with libnfs's own text.

A libnfs context is not safe for concurrent use, so a session serialises its calls with a lock.
Prefer NFSv3 URLs: libnfs 4.0's NFSv4 writes are small (see NFS4_SAFE_WRITE) and its NFSv4
sessions of one process share a client identity, so only one of them works at a time. The
Python binding offers no RPC timeout: a server that stops answering blocks the caller.
URLs are libnfs's: ``nfs://server/path`` mounts ``path`` over NFSv3 (the server's real
directory), ``nfs://server/path?version=4`` over NFSv4 (the server's pseudo path).
"""

from __future__ import annotations

import os
import stat
import threading
from typing import Iterator
from urllib.parse import urlsplit

from occistack.drivers.base import DriverError

try:
    from libnfs import libnfs as _libnfs
except ImportError:  # the package is optional until a host uses NFS secondary storage
    _libnfs = None

#: libnfs caps a single READ/WRITE at the server's maximum; larger chunks buy nothing.
DEFAULT_CHUNK = 1024 * 1024
#: libnfs 4.0 does not learn the server's sizes over NFSv4 (it reports 0) and then fails to
#: encode any WRITE above about 3.9 KiB ("Failed to encode COMPOUND4args"); reads are fine.
#: Writes over v4 therefore go in small pieces -- slow for large images, so prefer v3 URLs.
NFS4_SAFE_WRITE = 2048


def split_nfs_url(url: str) -> tuple[str, str, str]:
    """(server, absolute path, query) of an ``nfs://`` URL; DriverError for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "nfs" or not parts.hostname or not parts.path.startswith("/"):
        raise DriverError(f"{url!r} is not an NFS URL of the form nfs://server/path[?version=4]")
    return parts.netloc, parts.path.rstrip("/") or "/", parts.query


def join_nfs_url(server: str, path: str, query: str) -> str:
    return f"nfs://{server}{path}" + (f"?{query}" if query else "")


class NfsSession:
    """One mounted directory on an NFS server; paths are relative to it (``a/b.qcow2``)."""

    def __init__(self, url: str) -> None:
        if _libnfs is None:
            raise DriverError("NFS access needs the Python package libnfs (and the libnfs C library)")
        self.url = url
        split_nfs_url(url)  # refuse non-NFS URLs with our message, not libnfs's
        self._lock = threading.RLock()
        self._context = _libnfs.nfs_init_context()
        if self._context is None:
            raise DriverError(f"cannot create an NFS client context for {url}")
        self._parsed = _libnfs.nfs_parse_url_dir(self._context, url)
        if self._parsed is None:
            self._destroy()
            raise DriverError(f"libnfs cannot parse {url!r}: {_libnfs.nfs_get_error(self._context)}")
        try:
            self._check(_libnfs.nfs_mount(self._context, self._parsed.server, self._parsed.path), "mount")
        except DriverError:
            self._destroy()
            raise
        read_max = _libnfs.nfs_get_readmax(self._context)
        write_max = _libnfs.nfs_get_writemax(self._context)
        self.read_chunk = min(DEFAULT_CHUNK, read_max) if read_max > 0 else DEFAULT_CHUNK
        self.write_chunk = min(DEFAULT_CHUNK, write_max) if write_max > 0 else NFS4_SAFE_WRITE

    def close(self) -> None:
        with self._lock:
            self._destroy()

    def _destroy(self) -> None:
        if self._context is not None:
            if getattr(self, "_parsed", None) is not None:
                _libnfs.nfs_destroy_url(self._parsed)
                self._parsed = None
            _libnfs.nfs_destroy_context(self._context)
            self._context = None

    def _check(self, result: int, action: str) -> int:
        """The one place where a libnfs failure (a negative errno) becomes a DriverError."""
        if result is not None and result < 0:
            detail = _libnfs.nfs_get_error(self._context) or os.strerror(-result)
            if "NFS4ERR_EXPIRED" in detail:
                # libnfs gives every context of a process the same NFSv4 client identity, so
                # a second v4 session to the server ends the first one's lease.
                detail += " (another NFSv4 session of this process to the same server took over; use v3 URLs " \
                          "or one v4 session per process)"
            raise DriverError(f"NFS {action} on {self.url} failed: {detail}")
        return result

    @staticmethod
    def _absolute(path: str) -> str:
        parts = [part for part in path.split("/") if part]
        if any(part in (".", "..") for part in parts):
            raise DriverError(f"NFS path {path!r} must not contain '.' or '..'")
        return "/" + "/".join(parts)

    # --- metadata ---------------------------------------------------------------------------

    def stat(self, path: str) -> tuple[int, bool] | None:
        """(size in bytes, is a directory) of ``path``, or None when it does not exist."""
        with self._lock:
            result = _libnfs.nfs_stat_64()
            code = _libnfs.nfs_stat64(self._context, self._absolute(path), result)
            if code == -2:  # ENOENT
                return None
            self._check(code, f"stat of {path}")
            return result.nfs_size, stat.S_ISDIR(result.nfs_mode)

    def listdir(self, path: str) -> list[str]:
        with self._lock:
            handle_pointer = _libnfs.new_NFSDirHandle()
            self._check(_libnfs.nfs_opendir(self._context, self._absolute(path), handle_pointer),
                        f"listing of {path or '/'}")
            handle = _libnfs.NFSDirHandle_value(handle_pointer)
            names = []
            try:
                while (entry := _libnfs.nfs_readdir(self._context, handle)) is not None:
                    if entry.name not in (".", ".."):
                        names.append(entry.name)
            finally:
                _libnfs.nfs_closedir(self._context, handle)
                _libnfs.delete_NFSDirHandle(handle_pointer)
            return sorted(names)

    def makedirs(self, path: str) -> None:
        """Create ``path`` and its missing parents; existing directories are fine."""
        with self._lock:
            current = ""
            for part in self._absolute(path).strip("/").split("/"):
                if not part:
                    continue
                current += "/" + part
                code = _libnfs.nfs_mkdir(self._context, current)
                if code != -17:  # EEXIST
                    self._check(code, f"mkdir of {current}")

    def unlink(self, path: str) -> bool:
        """Remove a file; False when it was not there."""
        with self._lock:
            code = _libnfs.nfs_unlink(self._context, self._absolute(path))
            if code == -2:
                return False
            self._check(code, f"removal of {path}")
            return True

    def rename(self, source: str, target: str) -> None:
        with self._lock:
            self._check(_libnfs.nfs_rename(self._context, self._absolute(source), self._absolute(target)),
                        f"rename of {source} to {target}")

    # --- contents ---------------------------------------------------------------------------

    def read_chunks(self, path: str) -> Iterator[bytes]:
        """The file's bytes, a chunk at a time. The session stays locked while it is read."""
        with self._lock:
            handle = self._open(path, os.O_RDONLY, create=False)
            try:
                buffer = bytearray(self.read_chunk)
                while True:
                    count = self._check(_libnfs.nfs_read(self._context, handle, self.read_chunk, buffer),
                                        f"read of {path}")
                    if count == 0:
                        return
                    yield bytes(buffer[:count])
            finally:
                _libnfs.nfs_close(self._context, handle)

    def write_chunks(self, path: str, chunks: Iterator[bytes]) -> int:
        """Create or truncate ``path`` and write ``chunks`` into it; the bytes written. Data is
        fsync'ed before returning, so a caller that renames the file next renames whole data."""
        with self._lock:
            handle = self._open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, create=True)
            written = 0
            try:
                for chunk in chunks:
                    view = memoryview(chunk)
                    while view:
                        piece = bytearray(view[:self.write_chunk])
                        count = self._check(_libnfs.nfs_write(self._context, handle, len(piece), piece),
                                            f"write of {path}")
                        if count == 0:
                            raise DriverError(f"NFS write of {path} on {self.url} made no progress")
                        view = view[count:]
                        written += count
                self._check(_libnfs.nfs_fsync(self._context, handle), f"fsync of {path}")
            finally:
                _libnfs.nfs_close(self._context, handle)
            return written

    def _open(self, path: str, flags: int, create: bool):
        pointer = _libnfs.new_NFSFileHandle()
        try:
            if create:
                code = _libnfs.nfs_create(self._context, self._absolute(path), flags, 0o644, pointer)
            else:
                code = _libnfs.nfs_open(self._context, self._absolute(path), flags, pointer)
            self._check(code, f"open of {path}")
            return _libnfs.NFSFileHandle_value(pointer)
        finally:
            _libnfs.delete_NFSFileHandle(pointer)
