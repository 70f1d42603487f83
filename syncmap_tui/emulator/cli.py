"""`syncmap-tui emulator`: serve the Sync emulator with uvicorn until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import ipaddress
import os
import re
import signal
import socket
import sqlite3
import sys
import tempfile
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, Callable, Iterator

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8777
LISTENING = "Sync emulator listening on"
"""The start of the line that names the URL; tests read it from stdout (with --port 0)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncmap-tui emulator",
        description="Serve a local Twilio Sync v1 emulator (services, maps, map items).",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to bind (default {DEFAULT_HOST}, loopback only)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks a free one)")
    parser.add_argument(
        "--db", type=_non_empty, help="SQLite file to keep the data in (default: in memory, gone on exit)"
    )
    parser.add_argument("--account-sid", type=_non_empty, help="account SID to accept (default: TWILIO_ACCOUNT_SID, else the local one)")
    token = parser.add_mutually_exclusive_group()
    token.add_argument(
        "--auth-token-file",
        type=_non_empty,
        metavar="PATH",
        help="read the auth token to accept from PATH, one line (default: TWILIO_AUTH_TOKEN, else the local one)",
    )
    token.add_argument(
        "--auth-token",
        type=_non_empty,
        metavar="TOKEN",
        help="auth token to accept; every user of the machine can read it in `ps`: prefer --auth-token-file",
    )
    parser.add_argument(
        "--ready-file",
        type=_non_empty,
        metavar="PATH",
        help="write the URL to PATH once connections are accepted (atomically); removed on exit",
    )
    parser.add_argument("--seed", action="store_true", help="add the demo services, maps and items (once)")
    parser.add_argument("--allow-remote", action="store_true", help="allow binding an address other than loopback")
    limits = parser.add_argument_group("rate limiting (off by default)")
    limits.add_argument("--rate-limit", action="store_true", help="answer 429 (code 54009) like Twilio: 20 writes/s per map")
    limits.add_argument("--rate-limit-per-second", type=float, default=20.0, metavar="N", help="writes per second per map")
    limits.add_argument("--rate-limit-burst", type=float, default=10.0, metavar="SECONDS", help="burst, in seconds of writes")
    faults = parser.add_argument_group("fault injection (also changeable at run time: /__emulator__/faults)")
    faults.add_argument("--latency", type=_latency, default=0.0, metavar="SECONDS", help="added latency, e.g. 0.2 or 0.1-0.5")
    faults.add_argument("--fail-rate", type=float, default=0.0, metavar="P", help="probability of an injected 5xx")
    faults.add_argument("--fail-status", type=int, default=503, metavar="STATUS", help="status of injected failures")
    faults.add_argument("--drop-rate", type=float, default=0.0, metavar="P", help="probability of a dropped connection")
    faults.add_argument("--fault-methods", metavar="METHODS", help="only fault these methods, e.g. POST,DELETE")
    faults.add_argument("--fault-after-commit", action="store_true", help="apply faults after the request is handled")
    faults.add_argument("--fault-seed", type=int, metavar="N", help="seed for reproducible faults")
    parser.add_argument("--log-level", default="warning", choices=["critical", "error", "warning", "info", "debug"])
    parser.add_argument("--access-log", action="store_true", help="log every request")
    return parser


def _non_empty(text: str) -> str:
    """An empty value (`--db "$DB"` with DB unset) would read as the flag left out: the local
    token accepted, the data in memory, no ready file for a script to wait for."""
    if not text:
        raise argparse.ArgumentTypeError("must not be empty")
    return text


def _latency(text: str) -> float | tuple[float, float]:
    low, separator, high = text.partition("-")
    try:
        return (float(low), float(high)) if separator else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not seconds or a LOW-HIGH range: {text!r}") from None


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class CommandLineError(Exception):
    """A flag's value cannot be used; the message says why (never a secret)."""


def read_token_file(path: str) -> str:
    """The token on the file's one line, without its line ending. Any file that can be read, so that
    a pipe works too (`--auth-token-file <(pass show sync-token)`). The text is never echoed."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not UTF-8 text"
        raise CommandLineError(f"cannot read --auth-token-file {path}: {reason}") from None
    token = text.rstrip("\r\n")
    if not token or "\n" in token or "\r" in token:
        raise CommandLineError(f"--auth-token-file {path} must hold the token on one line")
    return token


VISIBLE_TOKEN_WARNING = (
    "syncmap-tui emulator: warning: --auth-token is visible to every user of this machine in `ps`; "
    "pass it with --auth-token-file PATH or TWILIO_AUTH_TOKEN instead"
)


def resolve_credentials(args: argparse.Namespace) -> tuple[str, str, str]:
    """(account SID, auth token, where the token came from): flags, else environment, else the local pair."""
    account_sid = args.account_sid or os.environ.get("TWILIO_ACCOUNT_SID") or DEFAULT_ACCOUNT_SID
    if args.auth_token_file:
        return account_sid, read_token_file(args.auth_token_file), "--auth-token-file"
    if args.auth_token:
        return account_sid, args.auth_token, "--auth-token"
    if os.environ.get("TWILIO_AUTH_TOKEN"):
        return account_sid, os.environ["TWILIO_AUTH_TOKEN"], "TWILIO_AUTH_TOKEN"
    return account_sid, DEFAULT_AUTH_TOKEN, "the local default"


def bind(host: str, port: int) -> socket.socket:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    # proto matters: asyncio sets TCP_NODELAY only on sockets whose proto is IPPROTO_TCP, and
    # without it every response waits ~40 ms for a delayed ACK (measured: 22 requests/s, not 900).
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    # Listening now means a client that reads the URL line can connect at once: the kernel
    # queues it until uvicorn starts accepting.
    sock.listen(2048)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


READY_FILE_TEXT = re.compile(r"http://\S+\n")
"""What a ready file holds: the URL and a newline (`write_ready_file`)."""


def prepare_ready_file(path: str) -> Path:
    """Remove a ready file left by an emulator that was killed, so that a script waiting for the
    file never reads a dead server's URL, and check that it can be written before listening.
    Only a file that holds a URL line is removed: `--ready-file` given the path of the database
    or the token file (a slip of tab completion) deleted it."""
    ready = Path(path)
    if not ready.parent.is_dir():
        raise CommandLineError(f"--ready-file {path}: the folder {ready.parent} does not exist")
    try:
        with open(ready, "rb") as file:
            text = file.read(1024).decode("utf-8", errors="replace")
    except FileNotFoundError:
        return ready
    except OSError as exc:
        raise CommandLineError(f"--ready-file {path}: cannot read the old file: {exc.strerror or exc}") from None
    if text and not READY_FILE_TEXT.fullmatch(text):  # empty: nothing to lose
        raise CommandLineError(f"--ready-file {path} exists and is not a ready file (one URL line): not removed")
    try:
        ready.unlink(missing_ok=True)
    except OSError as exc:
        raise CommandLineError(f"--ready-file {path}: cannot remove the old file: {exc.strerror or exc}") from None
    return ready


def write_ready_file(ready: Path, url: str) -> None:
    """Write `url` and a newline to `ready` atomically (a temporary file renamed over it), so that
    a script polling for the file never reads part of the URL."""
    descriptor, temporary = tempfile.mkstemp(dir=ready.parent, prefix=f".{ready.name}.", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(url + "\n")
        os.replace(temporary, ready)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def remove_ready_file(ready: Path, url: str) -> None:
    """Remove the ready file if it still names this server (another emulator may have taken the path)."""
    with suppress(OSError):
        if ready.read_text(encoding="utf-8") == url + "\n":
            ready.unlink()


def _server_calling_when_started(config: Any, on_started: Callable[[], None], on_stopping: Callable[[], None]) -> Any:
    """A uvicorn.Server that calls `on_started()` once its listening socket is being served, and
    `on_stopping()` as its shutdown begins. If `on_started()` fails (the ready file cannot be
    written), the server stops and `failure` says why."""
    import uvicorn

    class Server(uvicorn.Server):
        failure: str | None = None

        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            on_stopping()  # before uvicorn waits for the requests in flight
            await super().shutdown(sockets)

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if not self.started or self.should_exit:  # told to stop while starting: no ready file
                return
            try:
                on_started()
            except OSError as exc:
                self.failure = exc.strerror or str(exc)
                self.should_exit = True

    return Server(config)


class _StopOnSignals:
    """SIGINT and SIGTERM stop the server, with exit status 0, whenever they come.

    uvicorn installs handlers of its own only once it runs, and re-raises the signal after its
    graceful shutdown into the handlers it found: these, which then only ask a stopped server to
    stop. A signal before uvicorn's handlers (while seeding, binding, or starting the event loop)
    is kept and stops the server as it starts; with do-nothing handlers it was swallowed, and the
    emulator served on after SIGTERM."""

    HANDLED = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested = False
        self._server: Any = None

    def stop(self, server: Any) -> None:
        """Stop `server` on a signal, now if one came already."""
        self._server = server
        if self.requested:
            server.should_exit = True

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True
        if self._server is not None:
            self._server.should_exit = True

    @contextmanager
    def installed(self) -> Iterator["_StopOnSignals"]:
        previous = {sig: signal.signal(sig, self._handle) for sig in self.HANDLED}
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def run_emulator_command(argv: list[str]) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if not args.allow_remote and not is_loopback(args.host):
        print(
            f"syncmap-tui emulator: refusing to listen on {args.host}, which is not a loopback address: "
            "anyone who can reach it could read and change the data. Pass --allow-remote if you mean it.",
            file=sys.stderr,
        )
        return 2

    try:
        account_sid, auth_token, token_source = resolve_credentials(args)
        if token_source == "--auth-token" and auth_token != DEFAULT_AUTH_TOKEN:
            print(VISIBLE_TOKEN_WARNING, file=sys.stderr)
        ready = prepare_ready_file(args.ready_file) if args.ready_file else None
    except CommandLineError as exc:
        print(f"syncmap-tui emulator: {exc}", file=sys.stderr)
        return 2

    # Deferred: uvicorn and Starlette are needed only here, not when the editor imports the package.
    import uvicorn

    from syncmap_tui.emulator.app import create_app
    from syncmap_tui.emulator.faults import Faults, RateLimit
    from syncmap_tui.emulator.seed import seed_demo
    from syncmap_tui.emulator.store import SyncStore

    try:
        faults = Faults(
            latency=args.latency,
            fail_rate=args.fail_rate,
            fail_status=args.fail_status,
            drop_rate=args.drop_rate,
            methods=args.fault_methods,
            after_commit=args.fault_after_commit,
            seed=args.fault_seed,
        )
        rate_limit = RateLimit(args.rate_limit_per_second, args.rate_limit_burst) if args.rate_limit else None
    except ValueError as exc:
        parser.print_usage(sys.stderr)
        print(f"syncmap-tui emulator: {exc}", file=sys.stderr)
        return 2
    with _StopOnSignals().installed() as stop_on_signals:
        try:
            sock = bind(args.host, args.port)
        except OSError as exc:
            print(f"syncmap-tui emulator: cannot listen on {args.host}:{args.port}: {exc.strerror or exc}", file=sys.stderr)
            return 1

        try:
            store = SyncStore(args.db or ":memory:")
        except (sqlite3.Error, OSError, RuntimeError) as exc:  # RuntimeError: written by a newer emulator
            sock.close()
            print(f"syncmap-tui emulator: cannot use --db {args.db}: {exc}", file=sys.stderr)
            return 1
        try:
            if args.seed:
                try:
                    seed_demo(store, account_sid)
                except (sqlite3.Error, OSError) as exc:  # a full disk
                    print(f"syncmap-tui emulator: cannot seed --db {args.db or 'in memory'}: {exc}", file=sys.stderr)
                    return 1
            app = create_app(store, account_sid=account_sid, auth_token=auth_token, faults=faults, rate_limit=rate_limit)
            url = url_of(sock)
            _print_banner(url, account_sid, auth_token, token_source, args)
            server = _server_calling_when_started(
                uvicorn.Config(app, log_level=args.log_level, access_log=args.access_log, lifespan="off"),
                on_started=(lambda: write_ready_file(ready, url)) if ready is not None else lambda: None,
                on_stopping=faults.release_holds,
            )
            stop_on_signals.stop(server)
            try:
                server.run(sockets=[sock])
            finally:
                if ready is not None:
                    remove_ready_file(ready, url)
        finally:
            sock.close()
            store.close()
    if server.failure is not None:
        print(f"syncmap-tui emulator: cannot write --ready-file {args.ready_file}: {server.failure}", file=sys.stderr)
        return 1
    return 0


def _print_banner(url: str, account_sid: str, auth_token: str, token_source: str, args: Any) -> None:
    # Print the token only when it is the documented local one: never echo a user's real token.
    token = auth_token if auth_token == DEFAULT_AUTH_TOKEN else f"(from {token_source}, not shown)"
    lines = [
        f"Account SID: {account_sid}",
        f"Auth token:  {token}",
        f"Data:        {args.db or 'in memory (gone on exit)'}{' + demo seed' if args.seed else ''}",
        f"{LISTENING} {url}",
    ]
    print("\n".join(lines), flush=True)
