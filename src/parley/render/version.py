"""Intercom API versions as comparable values."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from functools import total_ordering

from parley.config import API_VERSIONS, DEFAULT_API_VERSION


@functools.cache
def _key(label: str) -> tuple[int, int]:
    # Cached: renderers ask at_least("2.15") for every conversation they render.
    major, minor = label.split(".")
    return int(major), int(minor)


@total_ordering
@dataclass(frozen=True, slots=True)
class ApiVersion:
    label: str
    # Parsed once: renderers compare versions many times per conversation.
    key: tuple[int, int] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", _key(self.label))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, ApiVersion):
            return NotImplemented
        return self.key < other.key

    @property
    def is_legacy(self) -> bool:
        """1.x: the legacy model of seed 003."""
        return self.key[0] == 1

    def at_least(self, label: str) -> bool:
        return self.key >= _key(label)


VERSIONS: dict[str, ApiVersion] = {label: ApiVersion(label) for label in API_VERSIONS}
# Intercom's moving preview version, named `Unstable` by the SDKs (intercom-client's version
# option) and `Preview` in Intercom's docs (case-sensitive): a request header may name it, and
# it is answered in the newest version Parley renders.
PREVIEW_NAMES = ("Unstable", "Preview")
VERSIONS.update({name: VERSIONS[API_VERSIONS[-1]] for name in PREVIEW_NAMES})
DEFAULT = VERSIONS[DEFAULT_API_VERSION]
