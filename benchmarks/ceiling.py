"""The ceiling: what this machine's web stack can serve when the response costs nothing.

A bare Starlette app under uvicorn with the settings `parley serve` uses (uvloop, httptools, no
access log, one process). Its one route, GET /conversations/{conversation_id}, answers every id
with the same pre-serialized bytes: a real GET /conversations/{id} response captured from the
seeded Parley server (run.py saves it), with the same content type and an X-Request-Id header
like Parley's. Parley's GET throughput is reported as a fraction of this.

    python benchmarks/ceiling.py --body-file benchmarks/results/<run>/sample-conversation.json \\
        --port 8766
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

JSON_TYPE = "application/json; charset=utf-8"  # what parley.api.endpoint sends
REQUEST_ID = "00000000-0000-4000-a000-000000000000"


def create_app(body: bytes) -> Starlette:
    headers = {"X-Request-Id": REQUEST_ID}

    async def conversation(request: Request) -> Response:
        return Response(body, media_type=JSON_TYPE, headers=headers)

    return Starlette(
        routes=[Route("/conversations/{conversation_id}", conversation, methods=["GET"])]
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="The ceiling server for run.py.")
    parser.add_argument("--body-file", type=Path, required=True, help="the response body")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8766)
    args = parser.parse_args(argv)
    serve_like_parley(create_app(args.body_file.read_bytes()), args.host, args.port)


def serve_like_parley(app: Starlette, host: str, port: int) -> None:
    """uvicorn with `parley serve`'s settings (also reply_floor.py's server)."""
    uvicorn.run(
        app,
        host=host,
        port=port,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level="warning",
    )


if __name__ == "__main__":
    main()
