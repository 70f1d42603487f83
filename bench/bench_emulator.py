"""The emulator's throughput on loopback with concurrent clients, against its bare HTTP stack.

`python bench/bench_emulator.py [--clients 8] [--seconds 3] [--memory]`

Extends tests/emulator/bench_emulator.py (its client processes and requests are imported from
there): `syncmap-tui emulator --port 0 --seed` (a WAL database file unless --memory) serves N
client processes, each with one keep-alive http.client connection, for S seconds per operation:
fetch an item and list a page of 50 from a `From` key (reads), update an item and create one
(writes). The reference, in the same run: bench/ref_bare_server.py, the same uvicorn and
Starlette set-up answering a fixed item for every request, measured with the same clients for
a read (GET) and a write (POST). No target: reported.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from _support import BENCH_DIR, PYTHON, REPO_ROOT, EmulatorProcess, Result, report

sys.path.insert(0, str(REPO_ROOT / "tests" / "emulator"))
from bench_emulator import measure  # noqa: E402  (tests/emulator/bench_emulator.py)

READS = ("fetch item", "list page of 50 (From)")
WRITES = ("update item", "create item")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--memory", action="store_true", help="in-memory store instead of a WAL file")
    args = parser.parse_args()
    rates: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as folder:
        db = [] if args.memory else ["--db", str(Path(folder) / "bench.sqlite3")]
        with EmulatorProcess("--seed", *db) as emulator, EmulatorProcess(argv=[PYTHON, str(BENCH_DIR / "ref_bare_server.py")]) as bare:
            print(f"emulator at {emulator.url} ({'in memory' if args.memory else 'WAL file'}), bare stack at {bare.url}")
            for operation in (*READS, *WRITES):
                rates[operation] = measure(emulator.url, operation, args.clients, args.seconds)
                if operation in ("fetch item", "update item"):
                    rates[f"bare {operation}"] = measure(bare.url, operation, args.clients, args.seconds)
    clients = f"{args.clients} clients"
    return report([
        Result(f"reads/s: fetch an item, {clients}", rates["fetch item"], rates["bare fetch item"], "req/s", "(reported)", None,
               "reference: bare uvicorn+Starlette, fixed answer"),
        Result(f"reads/s: list a page of 50 (From), {clients}", rates["list page of 50 (From)"], rates["bare fetch item"],
               "req/s", "(reported)", None, "reference: bare stack, one item"),
        Result(f"writes/s: update an item, {clients}", rates["update item"], rates["bare update item"], "req/s", "(reported)",
               None, "reference: bare stack POST, fixed answer"),
        Result(f"writes/s: create an item, {clients}", rates["create item"], rates["bare update item"], "req/s", "(reported)",
               None, "reference: bare stack POST"),
    ])


if __name__ == "__main__":
    sys.exit(main())
