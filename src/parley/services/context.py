"""What every use case is given besides its transaction."""

from __future__ import annotations

from dataclasses import dataclass

from parley.kit.clock import Clock
from parley.kit.ids import IdFactory


@dataclass(frozen=True, slots=True)
class Context:
    clock: Clock
    ids: IdFactory
    workspace_id: str
    admin_id: int  # the admin whose token made the request
