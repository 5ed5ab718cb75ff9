"""The last N bytes a terminal printed, addressed by absolute byte offsets, so a viewer that
reconnects (or a page that reloads) can be sent exactly what it has not seen."""
from __future__ import annotations


class OutputRing:
    def __init__(self, capacity: int):
        self.capacity = capacity
        self._data = bytearray()
        self.start = 0  # absolute offset of the first byte still held

    @property
    def end(self) -> int:
        """Absolute offset just past the last byte ever written."""
        return self.start + len(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def append(self, chunk: bytes) -> None:
        self._data += chunk
        excess = len(self._data) - self.capacity
        if excess > 0:
            # Drop whole lines where possible, so a replay does not begin in the middle of an
            # escape sequence or a multi-byte character.
            newline = self._data.find(b"\n", excess, excess + 4096)
            cut = newline + 1 if newline != -1 else excess
            del self._data[:cut]
            self.start += cut

    def read(self, offset: int, limit: int) -> tuple[int, bytes]:
        """Bytes from offset (or from the oldest byte held, if offset has been dropped), at most
        limit of them. Returns (the offset they really start at, the bytes)."""
        offset = max(offset, self.start)
        begin = offset - self.start
        return offset, bytes(self._data[begin:begin + limit])
