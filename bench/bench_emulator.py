"""The emulator's throughput on loopback with concurrent clients, against its bare HTTP stack.

`python bench/bench_emulator.py [--clients 8] [--seconds 3] [--memory]`

`syncmap-tui emulator --port 0 --seed` (a WAL database file unless --memory) serves N
client processes, each with one keep-alive http.client connection, for S seconds per operation:
fetch an item and list a page of 50 from a `From` key (reads), update an item and create one
(writes). The reference, in the same run: bench/ref_bare_server.py, the same uvicorn and
Starlette set-up answering a fixed item for every request, measured with the same clients for
a read (GET) and a write (POST). No target: reported.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

from _support import BENCH_DIR, PYTHON, EmulatorProcess, Result, report

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

ITEMS = "/v1/Services/demo-store/Maps/catalog/Items"
AUTHORIZATION = "Basic " + base64.b64encode(f"{DEFAULT_ACCOUNT_SID}:{DEFAULT_AUTH_TOKEN}".encode()).decode()
FORM = {"Authorization": AUTHORIZATION, "Content-Type": "application/x-www-form-urlencoded"}


def request_for(operation: str, client: int, n: int) -> tuple[str, str, str | None]:
    if operation == "fetch item":
        return "GET", f"{ITEMS}/sku-{(n * 7919 + client) % 10_000:05d}", None
    if operation == "list page of 50 (From)":
        return "GET", f"{ITEMS}?{urlencode({'From': f'sku-{(n * 131) % 9_900:05d}'})}", None
    if operation == "update item":
        return "POST", f"{ITEMS}/sku-{client:05d}", urlencode({"Data": json.dumps({"n": n})})
    return "POST", ITEMS, urlencode({"Key": f"bench-{client}-{n}", "Data": json.dumps({"n": n})})


def client_process(url: str, operation: str, client: int, start_at: float, seconds: float, results) -> None:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port)
    while time.time() < start_at:
        time.sleep(0.001)
    done, deadline = 0, start_at + seconds
    while time.time() < deadline:
        method, path, body = request_for(operation, client, done)
        connection.request(method, quote(path, safe="/?=&%"), body=body, headers=FORM)
        response = connection.getresponse()
        response.read()
        assert response.status < 300, (response.status, path)
        done += 1
    results.put(done)


def measure(url: str, operation: str, clients: int, seconds: float) -> float:
    results: multiprocessing.Queue = multiprocessing.Queue()
    start_at = time.time() + 0.5
    workers = [
        multiprocessing.Process(target=client_process, args=(url, operation, n, start_at, seconds, results))
        for n in range(clients)
    ]
    for worker in workers:
        worker.start()
    total = sum(results.get() for _ in workers)
    for worker in workers:
        worker.join()
    rate = total / seconds
    print(f"{operation:<26} {rate:8.0f} requests/s  ({clients} client processes)", flush=True)
    return rate


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
