"""The one exception every parser raises for input it cannot read."""

from __future__ import annotations


class OCCIParseError(ValueError):
    """A request body or OCCI header that does not parse, located for the client.

    ``line`` is the 1-based line of a text/plain or JSON body (None for a header or when the
    position is unknown); ``column`` is 1-based within that line, or within the header's value
    for a header. ``source`` names what was being read: ``"body"`` or ``"header Category"``.
    ``context`` is a short excerpt of the input around the error.
    """

    def __init__(self, message: str, *, line: int | None = None, column: int | None = None,
                 source: str = "body", context: str = ""):
        self.message = message
        self.line = line
        self.column = column
        self.source = source
        self.context = context
        super().__init__(self._describe())

    def _describe(self) -> str:
        where = []
        if self.line is not None:
            where.append(f"line {self.line}")
        elif self.source != "body":
            where.append(self.source)
        if self.column is not None:
            where.append(f"column {self.column}")
        text = self.message
        if where:
            text = ", ".join(where) + ": " + text
        if self.context:
            text += f" (near {self.context!r})"
        return text

    def __str__(self) -> str:
        return self._describe()
