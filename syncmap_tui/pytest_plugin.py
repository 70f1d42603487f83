"""pytest fixtures that serve a Twilio Sync emulator on a loopback port: `sync_emulator` (a fresh
one for each test) and `sync_emulator_session` (one for the whole run).

Registered under the `pytest11` entry point, so any project that installs syncmap-tui has them.
The plugin is inert until a test asks for a fixture: importing this module imports only pytest
and the standard library (no Starlette, uvicorn, Textual or twilio) and starts nothing.

    def test_stale_write_is_refused(sync_emulator):
        client = sync_emulator.twilio_client()
        ...
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Iterator, Mapping

import pytest

if TYPE_CHECKING:
    from twilio.rest import Client

    from syncmap_tui.emulator.faults import Faults

LOOPBACK = "127.0.0.1"
START_TIMEOUT_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 10.0
GRACEFUL_SHUTDOWN_SECONDS = 1
"""How long a stopping server waits for requests still in flight (a test's injected latency)."""

Items = Mapping[str, Any]
"""Item key -> data (a JSON object)."""
Maps = Mapping[str, Items]
"""Map unique name -> its items."""


class _LoopbackServer:
    """uvicorn on 127.0.0.1 (a free port) in a background thread, serving whichever emulator
    `emulator` holds at the time of each request.

    Starting a server takes ~7 ms, but stopping one takes ~0.2 s (uvicorn polls for its exit flag
    every 0.1 s, then gives connections 0.1 s to close): one server serves every `sync_emulator`
    of the session in turn, so that a test pays only for a fresh store.
    """

    def __init__(self) -> None:
        # Deferred: pytest loads this module in every run of every project that has the package.
        import uvicorn

        from syncmap_tui.emulator.cli import bind, url_of

        self.emulator: SyncEmulator | None = None
        self._socket = bind(LOOPBACK, 0)
        self.base_url = url_of(self._socket)
        config = uvicorn.Config(
            self._serve_current_app,
            interface="asgi3",  # uvicorn takes a bound method for an ASGI2 app unless told
            # log_config=None leaves the logging of the project under test alone: the emulator's
            # errors reach the root logger, where pytest captures them.
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, name="sync-emulator", daemon=True
        )

    async def _serve_current_app(self, scope: Any, receive: Any, send: Any) -> None:
        emulator = self.emulator
        if emulator is None:  # a client kept from a test that has ended
            from starlette.responses import JSONResponse

            from syncmap_tui.sync.errors import TwilioCode, error_body

            body = error_body(TwilioCode.SERVICE_UNAVAILABLE, "No test is using the Sync emulator now", 503)
            await JSONResponse(body, 503)(scope, receive, send)
            return
        await emulator._handle(scope, receive, send)

    def start(self) -> "_LoopbackServer":
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Sync emulator did not start within {START_TIMEOUT_SECONDS} s")
            time.sleep(0.005)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        if self._thread.is_alive():
            self._thread.join(STOP_TIMEOUT_SECONDS)
        self._socket.close()


class SyncEmulator:
    """A Sync emulator with its data in memory, served on 127.0.0.1.

    `base_url`, `account_sid` and `auth_token` are what any client needs. `twilio_client()` gives
    an official twilio-python client pointed at it; `seed()` adds data; `faults`, `set_faults()`
    and `limit_writes()` make it fail or throttle the way Twilio can.
    """

    def __init__(self, base_url: str, account_sid: str, auth_token: str) -> None:
        from syncmap_tui.emulator.app import create_app
        from syncmap_tui.emulator.faults import Faults
        from syncmap_tui.emulator.store import SyncStore

        self.account_sid = account_sid
        self.auth_token = auth_token
        self.base_url = base_url
        """`http://127.0.0.1:PORT`, without a trailing slash."""
        self._store = SyncStore(":memory:")
        self._faults = Faults()
        self._app = create_app(self._store, account_sid=account_sid, auth_token=auth_token, faults=self._faults)
        self._requests_in_flight = 0
        self._closed = False
        self._closing = threading.Lock()

    def close(self) -> None:
        """Close the data once no request is using it. A request the test left on its way (a
        thread, a slow fault) is answered, and the last one closes the store: closed under it,
        it failed with a bare 500 and logged an error into the next test."""
        with self._closing:
            self._closed = True
            if self._requests_in_flight:
                return
        self._store.close()

    async def _handle(self, scope: Any, receive: Any, send: Any) -> None:
        with self._closing:
            self._requests_in_flight += 1
        try:
            await self._app(scope, receive, send)
        finally:
            with self._closing:
                self._requests_in_flight -= 1
                last = self._closed and not self._requests_in_flight
            if last:
                self._store.close()

    def __repr__(self) -> str:
        return f"<SyncEmulator {self.base_url} account {self.account_sid}>"

    def twilio_client(self) -> "Client":
        """An official twilio-python `Client` whose Sync requests go to this emulator."""
        try:
            from twilio.http.http_client import TwilioHttpClient
            from twilio.rest import Client
        except ImportError as exc:
            raise ImportError(
                "sync_emulator.twilio_client() needs the official Twilio client: pip install twilio"
            ) from exc
        http_client = TwilioHttpClient()
        assert http_client.session is not None
        # A proxy from HTTP_PROXY must not be asked for 127.0.0.1 (requests has no default NO_PROXY).
        http_client.session.trust_env = False
        client = Client(self.account_sid, self.auth_token, http_client=http_client)
        # TWILIO_EDGE or TWILIO_REGION in the environment would rewrite the host of every URL,
        # the emulator's included: this client ignores them.
        client.edge = None
        client.region = None
        client.sync.base_url = self.base_url
        return client

    def seed(self, services: Mapping[str, Maps] | None = None, *, demo: bool = False) -> dict[str, str]:
        """Add data, addressed by unique names: `{service: {map: {key: data}}}`. Returns the SID of
        each service named (Twilio addresses services by SID, maps by SID or unique name).

        A service or map that exists already is added to; a key that exists already is an error
        (ValueError), and so is anything the API itself would refuse (a key over 320 characters,
        data that is not a JSON object or is over 16 KiB). `demo=True` also adds the demo data
        of `syncmap-tui emulator --seed` (services `demo-store`, `feature-flags`, ...).
        """
        import sqlite3

        from syncmap_tui.emulator.seed import seed_demo
        from syncmap_tui.sync.validation import check_key, check_size, check_unique_name, encode_data, parse_data

        if demo:
            seed_demo(self._store, self.account_sid)
        service_sids: dict[str, str] = {}
        for service_name, maps in (services or {}).items():
            service_sid = service_sids[service_name] = self._service_sid(check_unique_name(service_name))
            for map_name, items in maps.items():
                map_sid = self._map_sid(service_sid, check_unique_name(map_name))
                rows = []
                for key, value in items.items():
                    data = encode_data(value)
                    check_size(data)
                    parse_data(data)  # the top level must be an object, as for the API
                    rows.append((check_key(key), data, 0))
                try:
                    self._store.create_items(self.account_sid, service_sid, map_sid, rows)
                except sqlite3.IntegrityError:
                    raise ValueError(f"map {map_name!r} of service {service_name!r} already holds one of these keys") from None
        return service_sids

    def _service_sid(self, unique_name: str) -> str:
        from syncmap_tui.emulator.errors import EmulatorError

        try:
            return self._store.get_service(self.account_sid, unique_name).sid
        except EmulatorError:
            return self._store.create_service(self.account_sid, unique_name=unique_name).sid

    def _map_sid(self, service_sid: str, unique_name: str) -> str:
        from syncmap_tui.emulator.errors import EmulatorError

        try:
            return self._store.get_map(self.account_sid, service_sid, unique_name).sid
        except EmulatorError:
            return self._store.create_map(self.account_sid, service_sid, unique_name=unique_name).sid

    @property
    def faults(self) -> "Faults":
        """The live fault settings (see `syncmap_tui.emulator.faults.Faults`): set a field and the
        next request sees it, e.g. `sync_emulator.faults.fail_next = 1`."""
        return self._faults

    def set_faults(self, **settings: Any) -> None:
        """Change several fault settings at once, checked, all or none: `latency` (seconds or a
        (low, high) range), `fail_rate`, `fail_next`, `fail_status` (5xx), `drop_rate`,
        `drop_next`, `methods` (e.g. "POST,DELETE"), `after_commit`, `seed`. ValueError if invalid."""
        self._faults.update(settings)

    def limit_writes(self, per_second: float | None, burst_seconds: float | None = None) -> None:
        """Answer writes over `per_second` per map with 429 (code 54009) and a Retry-After, as
        Twilio does (its figures: 20 per second, a 10 s burst). `None` turns the limit off."""
        from syncmap_tui.emulator.faults import DEFAULT_BURST_SECONDS, RateLimit

        api = self._app.state.api
        if per_second is None:
            api.rate_limit = None
        else:
            api.rate_limit = RateLimit(per_second, DEFAULT_BURST_SECONDS if burst_seconds is None else burst_seconds)

    def clear_faults(self) -> None:
        """No faults and no rate limit; the data stays."""
        self._faults.reset()
        self.limit_writes(None)


def _serve(server: _LoopbackServer) -> Iterator[SyncEmulator]:
    from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN

    emulator = SyncEmulator(server.base_url, DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN)
    server.emulator = emulator
    try:
        yield emulator
    finally:
        server.emulator = None
        emulator.close()


@pytest.fixture(scope="session")
def _sync_emulator_server() -> Iterator[_LoopbackServer]:
    """The server that every `sync_emulator` uses, started by the first test that asks for one."""
    server = _LoopbackServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sync_emulator(_sync_emulator_server: _LoopbackServer) -> Iterator[SyncEmulator]:
    """A Twilio Sync emulator of its own for this test, empty, on 127.0.0.1. Every test gets a
    fresh one; the port stays the same during a run, and a request that arrives after the test
    that made it has ended gets a 503."""
    yield from _serve(_sync_emulator_server)


@pytest.fixture(scope="session")
def sync_emulator_session() -> Iterator[SyncEmulator]:
    """One Twilio Sync emulator for the whole test run, on a port of its own: data, faults and
    rate limits set by one test are there for the next (`clear_faults()` undoes the last two)."""
    server = _LoopbackServer().start()
    try:
        yield from _serve(server)
    finally:
        server.stop()
