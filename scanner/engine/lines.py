"""Line numbers, line bounds and columns for offsets visited in ascending order.

The engine needs, for every match, the line it starts on (filters and pragmas look at it, a diff
keeps only added lines) and its line number and column (reports). Searching back and forth from
each match costs the length of its line, so a long line holding many matches (minified code, a
data dump, an attacker's file) costs the square of its length. A cursor that only moves forward
looks at each byte a bounded number of times, however many matches there are.
"""

from __future__ import annotations

import codecs


class Lines:
    """A forward-only cursor over the lines of ``data``. After :meth:`seek`, ``start``/``end``
    bound the current line (``end`` is its newline or the end of the data) and ``number`` is its
    1-based number."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.start = 0
        self.end = -1  # no line yet
        self.number = 1
        self.examined = 0  # bytes searched for newlines and decoded (the engine's work count)
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._decoded_to = -1  # bytes of the current line fed to the decoder (-1: none yet) ...
        self._chars = 0  # ... and the characters they gave

    def seek(self, offset: int) -> bool:
        """Move to the line holding ``offset`` (never before the current one); True when that is
        a new line."""
        if offset <= self.end:
            return False
        data, done = self.data, max(self.end, 0)  # the newline ending the last line, or 0
        self.examined += offset - done
        self.number += data.count(b"\n", done, offset)
        self.start = data.rfind(b"\n", done, offset) + 1
        end = data.find(b"\n", offset)
        self.end = len(data) if end < 0 else end
        self.examined += self.end - offset
        self._decoded_to = -1  # the decoder is reset when a column is asked for on this line
        return True

    def column(self, offset: int) -> int:
        """1-based column of ``offset`` on the current line, in characters (UTF-8, invalid bytes
        counted as one replacement character each, as ``bytes.decode(errors="replace")`` does);
        offsets on one line must come in ascending order."""
        if self._decoded_to < 0:
            self._decoder.reset()
            self._decoded_to, self._chars = self.start, 0
        if offset > self._decoded_to:
            self.examined += offset - self._decoded_to
            self._chars += len(self._decoder.decode(self.data[self._decoded_to : offset]))
            self._decoded_to = offset
        pending = self._decoder.getstate()[0]  # the start of a character cut at ``offset``
        return self._chars + len(pending.decode("utf-8", "replace")) + 1
