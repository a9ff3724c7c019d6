"""Ids from the IdFactory: the shapes the wire format needs, unique, reproducible when seeded."""

from __future__ import annotations

import uuid

from parley.kit.ids import IdFactory


def test_request_ids_are_uuid_shaped_and_never_repeat() -> None:
    ids = IdFactory()
    many = [ids.request_id() for _ in range(10_000)]
    assert len(set(many)) == len(many)
    for value in (many[0], many[-1]):
        assert str(uuid.UUID(value)) == value  # canonical form: what `format: uuid` accepts
    # Two processes (factories) draw their own prefixes.
    assert IdFactory().request_id()[:24] != IdFactory().request_id()[:24]


def test_stored_uuids_are_random_version_4_ids() -> None:
    ids = IdFactory()
    drawn = {ids.uuid() for _ in range(1000)}
    assert len(drawn) == 1000
    assert all(uuid.UUID(value).version == 4 for value in drawn)


def test_a_seeded_factory_is_reproducible() -> None:
    one, two = IdFactory(7), IdFactory(7)
    assert [one.request_id(), one.uuid(), one.contact_id()] == [
        two.request_id(), two.uuid(), two.contact_id()
    ]  # fmt: skip
