"""The reference for bench/bench_emulator.py: the emulator's HTTP stack with no emulator behind it.

`python bench/ref_bare_server.py` serves, with the same uvicorn settings and socket set-up as
`syncmap-tui emulator`, a Starlette app whose one route answers every request with a fixed item
JSON of the seeded catalog's size (no authentication, no SQLite, no rendering), and prints
the emulator's "listening on URL" line. What the emulator costs beyond it is its own work.
"""

from __future__ import annotations

import json
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from syncmap_tui.emulator.cli import LISTENING, bind, url_of

ITEM = json.dumps(
    {
        "key": "sku-00042", "account_sid": "AC" + "0" * 32, "service_sid": "IS" + "0" * 32,
        "map_sid": "MP" + "0" * 32, "url": "http://127.0.0.1/v1/Services/IS/Maps/MP/Items/sku-00042",
        "revision": "0", "data": {"sku": "SKU-00042", "name": "Product 42", "price_cents": 1653,
                                  "in_stock": True, "colour": "red", "tags": ["demo", "batch-0"]},
        "date_expires": None, "date_created": "2026-01-15T12:00:00Z", "date_updated": "2026-01-15T12:00:00Z",
        "created_by": "system",
    }
).encode()


async def answer(request: Request) -> Response:
    await request.body()
    return Response(ITEM, media_type="application/json")


def main() -> int:
    app = Starlette(routes=[Route("/{path:path}", answer, methods=["GET", "POST"])])
    sock = bind("127.0.0.1", 0)
    print(f"{LISTENING} {url_of(sock)}", flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off"))
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
