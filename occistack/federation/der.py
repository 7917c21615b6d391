"""A small reader of DER, for the structures `cryptography` does not parse: the VOMS attribute
certificates (RFC 5755) inside proxies, and the ProxyCertInfo extension (RFC 3820).

Only what those need: definite lengths, tag numbers below 31, and the handful of universal
types they use. Every element keeps the exact bytes it was read from, because a signature is
checked over the bytes as they were signed, never over a re-encoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

INTEGER, BIT_STRING, OCTET_STRING, NULL, OBJECT_IDENTIFIER = 0x02, 0x03, 0x04, 0x05, 0x06
UTF8_STRING, PRINTABLE_STRING, T61_STRING, IA5_STRING = 0x0C, 0x13, 0x14, 0x16
UNIVERSAL_STRING, BMP_STRING, VISIBLE_STRING = 0x1C, 0x1E, 0x1A
GENERALIZED_TIME, BOOLEAN = 0x18, 0x01
SEQUENCE, SET = 0x30, 0x31
_CONTEXT = 0x80
_CONSTRUCTED = 0x20


class DERError(ValueError):
    """The bytes are not the DER structure expected."""


@dataclass(frozen=True, slots=True)
class Element:
    #: the identifier octet: class, constructed bit and tag number.
    tag: int
    content: bytes
    #: the whole element (identifier, length, content) as it appeared.
    encoded: bytes

    def children(self) -> list[Element]:
        if not self.tag & _CONSTRUCTED:
            raise DERError(f"element with tag 0x{self.tag:02x} is primitive: it has no inner elements")
        return read_all(self.content)

    def is_context(self, number: int) -> bool:
        """Whether this is the context-specific tag ``[number]`` (implicit or explicit)."""
        return self.tag & 0xC0 == _CONTEXT and self.tag & 0x1F == number

    def expect(self, tag: int, what: str) -> Element:
        if self.tag != tag:
            raise DERError(f"{what}: expected tag 0x{tag:02x}, found 0x{self.tag:02x}")
        return self


def read_one(data: bytes) -> Element:
    """The single element ``data`` holds, nothing before or after it."""
    element, end = _read(data, 0)
    if end != len(data):
        raise DERError(f"{len(data) - end} bytes follow the element")
    return element


def read_all(data: bytes) -> list[Element]:
    elements, offset = [], 0
    while offset < len(data):
        element, offset = _read(data, offset)
        elements.append(element)
    return elements


def _read(data: bytes, offset: int) -> tuple[Element, int]:
    start = offset
    if offset + 2 > len(data):
        raise DERError("truncated element")
    tag = data[offset]
    if tag & 0x1F == 0x1F:
        raise DERError("tag numbers above 30 are not used by these structures")
    length = data[offset + 1]
    offset += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or offset + count > len(data):
            raise DERError("indefinite or impossible length (DER needs a definite one)")
        length = int.from_bytes(data[offset:offset + count], "big")
        offset += count
    end = offset + length
    if end > len(data):
        raise DERError(f"element of {length} bytes runs past the end of its container")
    return Element(tag, data[offset:end], data[start:end]), end


def integer(element: Element) -> int:
    return int.from_bytes(element.content, "big", signed=True)


def object_identifier(element: Element) -> str:
    element.expect(OBJECT_IDENTIFIER, "object identifier")
    content = element.content
    if not content:
        raise DERError("empty object identifier")
    arcs, value = [], 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            arcs.append(value)
            value = 0
    first = min(arcs[0] // 40, 2)
    return ".".join(map(str, [first, arcs[0] - 40 * first, *arcs[1:]]))


def bit_string(element: Element) -> bytes:
    element.expect(BIT_STRING, "bit string")
    if not element.content or element.content[0] != 0:
        raise DERError("a signature is a whole number of bytes")
    return element.content[1:]


def generalized_time(element: Element) -> datetime:
    element.expect(GENERALIZED_TIME, "time")
    text = element.content.decode("ascii")
    try:
        return datetime.strptime(text, "%Y%m%d%H%M%SZ").replace(tzinfo=timezone.utc)
    except ValueError:
        raise DERError(f"time {text!r} is not YYYYMMDDHHMMSSZ") from None


def text(element: Element) -> str:
    """The value of any of the string types a distinguished name may use."""
    codecs = {UTF8_STRING: "utf-8", PRINTABLE_STRING: "ascii", IA5_STRING: "ascii", VISIBLE_STRING: "ascii",
              T61_STRING: "latin-1", BMP_STRING: "utf-16-be", UNIVERSAL_STRING: "utf-32-be",
              OCTET_STRING: "utf-8"}
    codec = codecs.get(element.tag)
    if codec is None:
        raise DERError(f"tag 0x{element.tag:02x} is not a string")
    return element.content.decode(codec, errors="replace")
