"""Throughput of the emulator on loopback: `python tests/emulator/bench_emulator.py [--clients N] [--seconds S]`.

Starts `syncmap-tui emulator --port 0 --seed` as its own process (uvicorn; a WAL database file
unless --memory), then runs N client processes, each with one keep-alive connection
(http.client: the lightest Python client, so that the figure is the server's, not httpx's), for
S seconds per operation: fetch one item, fetch a page of 50 from a `From` key in the
10,000-item map, update an item, create an item. Not a pytest test.
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from emulator_support import ACCOUNT_SID, AUTH_TOKEN, EmulatorProcess  # noqa: E402

ITEMS = "/v1/Services/demo-store/Maps/catalog/Items"
AUTHORIZATION = "Basic " + base64.b64encode(f"{ACCOUNT_SID}:{AUTH_TOKEN}".encode()).decode()
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--memory", action="store_true", help="in-memory store instead of a WAL file")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = [] if args.memory else ["--db", str(Path(folder) / "bench.sqlite3")]
        with EmulatorProcess("--seed", *db) as emulator:
            url = emulator.wait_for_url()
            print(f"emulator at {url}, {'in memory' if args.memory else 'WAL file'}", flush=True)
            for operation in ("fetch item", "list page of 50 (From)", "update item", "create item"):
                measure(url, operation, args.clients, args.seconds)
            emulator.terminate()


if __name__ == "__main__":
    main()
