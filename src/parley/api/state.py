"""What the app holds for its lifetime, built by the composition root (create_app)."""

from __future__ import annotations

from dataclasses import dataclass

from parley.config import Settings
from parley.db.database import Database
from parley.kit.clock import Clock
from parley.kit.ids import IdFactory


@dataclass(slots=True)
class AppState:
    settings: Settings
    db: Database
    clock: Clock
    ids: IdFactory
