"""Template checksums: ``<algorithm>:<hex>`` strings, checked while the bytes stream past.

Registries and image lists publish digests in several algorithms; these are the ones accepted.
The hex part is checked for length up front, so a truncated checksum is refused before a
multi-gigabyte download rather than reported as a mismatch after it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from occistack.drivers.base import DriverError

#: The same as the admin API accepts at registration (plane/admin/templates.py): sha1 and
#: md5 are weak, but appliance catalogues still publish them, and a registered template must be
#: downloadable.
ACCEPTED_ALGORITHMS = ("sha256", "sha512", "sha1", "md5")


@dataclass(frozen=True, slots=True)
class Checksum:
    algorithm: str
    expected: str  # lower-case hex

    def hasher(self):
        return hashlib.new(self.algorithm)

    def verify(self, hasher, what: str) -> None:
        """Raise DriverError naming both digests unless ``hasher`` saw the expected bytes."""
        actual = hasher.hexdigest()
        if actual != self.expected:
            raise DriverError(f"checksum mismatch for {what}: expected {self.algorithm}:{self.expected}, "
                              f"got {self.algorithm}:{actual}")


def parse_checksum(checksum: str) -> Checksum:
    """The algorithm and digest of ``checksum``; a DriverError saying what is accepted otherwise."""
    algorithm, separator, digest = checksum.strip().partition(":")
    algorithm, digest = algorithm.lower(), digest.lower()
    if not separator or algorithm not in ACCEPTED_ALGORITHMS:
        raise DriverError(f"checksum {checksum!r} is not '<algorithm>:<hex>' with an algorithm among "
                          f"{', '.join(ACCEPTED_ALGORITHMS)}")
    length = hashlib.new(algorithm).digest_size * 2
    if len(digest) != length or any(c not in "0123456789abcdef" for c in digest):
        raise DriverError(f"checksum {checksum!r}: a {algorithm} digest is {length} hexadecimal digits")
    return Checksum(algorithm, digest)
