"""Intercom API versions as comparable values."""

from __future__ import annotations

from dataclasses import dataclass
from functools import total_ordering

from parley.config import API_VERSIONS, DEFAULT_API_VERSION


@total_ordering
@dataclass(frozen=True, slots=True)
class ApiVersion:
    label: str

    @property
    def key(self) -> tuple[int, int]:
        major, minor = self.label.split(".")
        return int(major), int(minor)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, ApiVersion):
            return NotImplemented
        return self.key < other.key

    @property
    def is_legacy(self) -> bool:
        """1.x: the legacy model of seed 003."""
        return self.key[0] == 1

    def at_least(self, label: str) -> bool:
        return self >= ApiVersion(label)


VERSIONS: dict[str, ApiVersion] = {label: ApiVersion(label) for label in API_VERSIONS}
DEFAULT = VERSIONS[DEFAULT_API_VERSION]
