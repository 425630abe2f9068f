"""Count the event hashes a piece of code computes: the cost of a verification, not its time."""

from __future__ import annotations

import pytest

from portal.audit.chain import EventContent


class HashCounter:
    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        original = EventContent.hash

        def counting(content, *args, **kwargs):
            self.count += 1
            return original(content, *args, **kwargs)

        monkeypatch.setattr(EventContent, "hash", counting)

    def take(self) -> int:
        """The hashes computed since the last call."""
        count, self.count = self.count, 0
        return count
