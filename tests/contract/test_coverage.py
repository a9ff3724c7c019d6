"""docs/api-coverage.md is generated (`python -m parley.coverage`); CI fails when it is stale."""

from __future__ import annotations

from pathlib import Path

from parley import coverage

ROOT = Path(__file__).resolve().parents[2]


def test_api_coverage_document_is_current() -> None:
    on_disk = (ROOT / coverage.OUTPUT).read_text("utf-8")
    assert on_disk == coverage.render(ROOT), (
        "docs/api-coverage.md is stale: run `python -m parley.coverage` and commit the result"
    )


def test_coverage_knows_implemented_and_missing_operations() -> None:
    ops = {(op.method, op.path): op for op in coverage.operations()}
    routes = coverage.implemented_routes()
    assert coverage.is_implemented(ops[("GET", "/conversations/{conversation_id}")], routes)
    assert coverage.is_implemented(ops[("POST", "/conversations/attributes")], routes)
    assert ops[("POST", "/conversations/attributes")].versions == ("2.16",)
    assert not coverage.is_implemented(ops[("GET", "/companies")], routes)
    tested = coverage.tests_by_operation(
        list(ops.values()),
        [("GET", "/conversations/attributes", "a.py"), ("GET", "/conversations/{cid}", "b.py")],
    )
    assert tested[("GET", "/conversations/attributes")] == ["a.py"]
    assert tested[("GET", "/conversations/{conversation_id}")] == ["b.py"]
