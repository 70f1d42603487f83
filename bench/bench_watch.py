"""The watch's cost: requests per minute with the watch on, idle and while typing, and bytes written
to the terminal per second while nothing changes.

`python bench/bench_watch.py [--seconds 60]`

Project: `python -m syncmap_tui --base-url URL demo-store orders order-0001` in a real pty at 80×24,
against an emulator served by this script (uvicorn, the project's Starlette app) behind a middleware
that counts every request. After the item is open and the screen is quiet: `--seconds` idle, then
`--seconds` typing a character every 0.25 s inside a JSON string. Requests are counted from the
start of each phase. Reference: the same app with `--no-watch`, idle, in the same run.

Targets: at most sync/watch.py's BUDGET_PER_MINUTE (14) requests a minute, idle and typing; 0 bytes
a second while nothing changes (the polls find what the screen shows and draw nothing).
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from typing import Any

from _support import PtyProgram, Result, app_argv, child_env, isolated_home, report

from syncmap_tui.sync.watch import BUDGET_PER_MINUTE

DOWN, END, LEFT = "\x1b[B", "\x1b[F", "\x1b[D"
TYPING_INTERVAL = 0.25


class CountingEmulator:
    """The emulator app in a thread of this process, every request it answers counted."""

    def __init__(self) -> None:
        self.requests: list[tuple[float, str, str]] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._ready = threading.Event()
        self._server: Any = None
        threading.Thread(target=self._serve, daemon=True).start()
        if not self._ready.wait(30):
            raise RuntimeError("the emulator did not start")

    def _serve(self) -> None:
        import uvicorn

        from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
        from syncmap_tui.emulator.app import create_app
        from syncmap_tui.emulator.seed import seed_demo
        from syncmap_tui.emulator.store import SyncStore

        store = SyncStore(":memory:")
        seed_demo(store, DEFAULT_ACCOUNT_SID)
        inner = create_app(store, account_sid=DEFAULT_ACCOUNT_SID, auth_token=DEFAULT_AUTH_TOKEN)

        async def counting(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] == "http":
                self.requests.append((time.monotonic(), scope["method"], scope["path"]))
            await inner(scope, receive, send)

        self._server = uvicorn.Server(uvicorn.Config(counting, log_level="warning", lifespan="off"))
        self._ready.set()
        self._server.run(sockets=[self._sock])

    def since(self, moment: float) -> int:
        return sum(1 for at, _, _ in self.requests if at >= moment)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True


def idle_phase(app: PtyProgram, emulator: CountingEmulator, seconds: float) -> tuple[float, float]:
    """(requests a minute, bytes a second) over `seconds` of nothing happening."""
    began = time.monotonic()
    written = 0
    while time.monotonic() - began < seconds:
        written += app.read(0.05)
    elapsed = time.monotonic() - began
    return emulator.since(began) * 60 / elapsed, written / elapsed


def typing_phase(app: PtyProgram, emulator: CountingEmulator, seconds: float) -> float:
    for key in (DOWN, END, LEFT, LEFT):
        app.send(key)
        app.settle(quiet=0.3)
    began = time.monotonic()
    letters = "abcdefghijklmnopqrstuvwxyz"
    typed = 0
    while time.monotonic() - began < seconds:
        app.send(letters[typed % len(letters)])
        typed += 1
        app.read(TYPING_INTERVAL)
    return emulator.since(began) * 60 / (time.monotonic() - began)


def run(emulator: CountingEmulator, seconds: float, *extra: str) -> dict[str, float]:
    argv = app_argv("--base-url", emulator.url, "demo-store", "orders", "order-0001", *extra)
    with PtyProgram(argv, child_env(80, 24), 80, 24) as app:
        app.wait_for(lambda s: "✓ valid JSON" in s and "order-0001" in s and "watch o" in s)
        # Quiet for longer than start-up's last redraw (the cached tree's "refreshing…" replaced by
        # the server's listing can come late on a loaded machine), shorter than a poll interval.
        app.settle(quiet=2.0)
        idle_requests, idle_bytes = idle_phase(app, emulator, seconds)
        result = {"idle_requests": idle_requests, "idle_bytes": idle_bytes}
        if "--no-watch" not in extra:
            result["typing_requests"] = typing_phase(app, emulator, seconds)
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase")
    args = parser.parse_args()
    results: list[Result] = []
    with isolated_home():
        emulator = CountingEmulator()
        try:
            # The reference first: the typing run leaves a draft, which the next start would offer.
            reference = run(emulator, args.seconds, "--no-watch")
            ours = run(emulator, args.seconds)
        finally:
            emulator.stop()
    budget = f"≤ {BUDGET_PER_MINUTE:g}/min"
    results.append(Result("requests a minute, watch on, idle", ours["idle_requests"], reference["idle_requests"],
                          "req/min", budget, ours["idle_requests"] <= BUDGET_PER_MINUTE, "reference: --no-watch"))
    results.append(Result("requests a minute, watch on, typing", ours["typing_requests"], reference["idle_requests"],
                          "req/min", budget, ours["typing_requests"] <= BUDGET_PER_MINUTE, "reference: --no-watch, idle"))
    results.append(Result("bytes to the terminal while nothing changes, watch on", ours["idle_bytes"],
                          reference["idle_bytes"], "B/s", "0 B/s", ours["idle_bytes"] == 0))
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
