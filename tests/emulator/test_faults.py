"""Injected faults (latency, 5xx, dropped connections, before or after the commit) and the rate limit,
in-process and over a real uvicorn socket, set directly or through the control endpoint."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from emulator_support import ThreadedServer, socket_client

from syncmap_tui.emulator.app import create_app
from syncmap_tui.emulator.faults import WRITE_METHODS, Faults, RateLimit
from syncmap_tui.sync.errors import TwilioCode, error_body

ITEMS = "/v1/Services/svc/Maps/map/Items"
DROPPED = (httpx.RemoteProtocolError, httpx.ReadError)


async def test_fail_next_answers_twilio_5xx_bodies(client, sync_map, faults: Faults):
    faults.fail_next = 2
    first, second, third = [await client.get("/v1/Services") for _ in range(3)]
    assert first.status_code == second.status_code == 503
    assert first.json() == error_body(TwilioCode.SERVICE_UNAVAILABLE, "Injected fault: HTTP 503")
    assert third.status_code == 200
    faults.update({"fail_next": 1, "fail_status": 500})
    failed = await client.get("/v1/Services")
    assert failed.status_code == 500 and failed.json()["code"] == 20500


async def test_fail_rate_is_reproducible_with_a_seed(client, sync_map, faults: Faults):
    async def outcomes() -> list[int]:
        faults.update({"fail_rate": 0.3, "seed": 7})
        return [(await client.get("/v1/Services")).status_code for _ in range(60)]

    first, second = await outcomes(), await outcomes()
    assert first == second
    assert 5 < first.count(503) < 35


async def test_faults_can_be_limited_to_writes(client, sync_map, faults: Faults):
    faults.update({"fail_rate": 1.0, "methods": WRITE_METHODS})
    assert (await client.get("/v1/Services/svc/Maps/map")).status_code == 200
    assert (await client.post(ITEMS, data={"Key": "k", "Data": "{}"})).status_code == 503
    assert (await client.delete("/v1/Services/svc/Maps/map")).status_code == 503
    faults.reset()
    assert (await client.post(ITEMS, data={"Key": "k", "Data": "{}"})).status_code == 201


async def test_failure_before_commit_writes_nothing(client, sync_map, faults: Faults):
    faults.fail_next = 1
    assert (await client.post(ITEMS, data={"Key": "k", "Data": "{}"})).status_code == 503
    assert (await client.get(f"{ITEMS}/k")).status_code == 404


async def test_failure_after_commit_keeps_the_write(client, sync_map, faults: Faults):
    faults.update({"fail_next": 1, "after_commit": True})
    assert (await client.post(ITEMS, data={"Key": "k", "Data": "{}"})).status_code == 503
    assert (await client.get(f"{ITEMS}/k")).status_code == 200
    # A blind retry of the create now meets the first attempt's item.
    assert (await client.post(ITEMS, data={"Key": "k", "Data": "{}"})).json()["code"] == 54208


async def test_drop_in_process(client, sync_map, faults: Faults):
    faults.drop_next = 1
    with pytest.raises(DROPPED):
        await client.get("/v1/Services")
    assert (await client.get("/v1/Services")).status_code == 200


async def test_drop_after_commit_in_process(client, sync_map, faults: Faults):
    faults.update({"drop_next": 1, "after_commit": True})
    with pytest.raises(DROPPED):
        await client.post(ITEMS, data={"Key": "k", "Data": "{}"})
    assert (await client.get(f"{ITEMS}/k")).status_code == 200


async def test_drop_rate(client, sync_map, faults: Faults):
    faults.update({"drop_rate": 0.5, "seed": 3})
    dropped = 0
    for _ in range(40):
        try:
            await client.get("/v1/Services")
        except DROPPED:
            dropped += 1
    assert 5 < dropped < 35


async def test_latency_fixed_and_range(client, sync_map, faults: Faults):
    faults.latency = 0.05
    started = time.perf_counter()
    await client.get("/v1/Services")
    assert time.perf_counter() - started >= 0.05
    faults.update({"latency": [0.01, 0.03], "seed": 5})
    plans = [faults.plan("GET").latency for _ in range(5)]
    faults.seed = 5
    assert [faults.plan("GET").latency for _ in range(5)] == plans
    assert all(0.01 <= latency <= 0.03 for latency in plans)


async def test_latency_past_the_read_timeout_in_process(client, sync_map, faults: Faults):
    faults.latency = 0.5
    with pytest.raises(httpx.ReadTimeout):
        await client.get("/v1/Services", timeout=0.05)
    faults.latency = 0.0
    assert (await client.get("/v1/Services", timeout=5)).status_code == 200  # not a speed check


async def test_a_stop_drops_the_requests_waiting_out_their_latency_at_once(client, sync_map, faults: Faults):
    """What `syncmap-tui emulator` does as it stops (Faults.release_holds): a write held before its
    commit is dropped and never applied; one held after its commit is dropped and stays applied;
    a request that comes later waits out its latency as before."""
    faults.update({"latency": 60, "methods": ["POST"]})
    before_commit = asyncio.create_task(client.post(ITEMS, data={"Key": "before", "Data": "{}"}))
    await wait_for_holds(faults, 1)
    faults.after_commit = True
    after_commit = asyncio.create_task(client.post(ITEMS, data={"Key": "after", "Data": "{}"}))
    await wait_for_holds(faults, 2)
    faults.release_holds()
    for held in (before_commit, after_commit):
        with pytest.raises(DROPPED):
            await asyncio.wait_for(held, 10)  # not the 60 s
    assert (await client.get(f"{ITEMS}/before")).status_code == 404
    assert (await client.get(f"{ITEMS}/after")).status_code == 200
    assert await faults.hold(0.01), "waited out: a later request is not cut short"


async def wait_for_holds(faults: Faults, count: int) -> None:
    for _ in range(1000):
        if len(faults._holds) >= count:
            return
        await asyncio.sleep(0.005)
    raise AssertionError(f"{count} requests never waited out their latency")


async def test_timeout_after_commit_in_process(client, sync_map, faults: Faults):
    faults.update({"latency": 0.5, "after_commit": True, "methods": ["post"]})
    with pytest.raises(httpx.ReadTimeout):
        await client.post(ITEMS, data={"Key": "k", "Data": "{}"}, timeout=0.05)
    assert (await client.get(f"{ITEMS}/k")).status_code == 200


def test_fault_settings_are_checked():
    with pytest.raises(ValueError):
        Faults(fail_rate=1.5)
    with pytest.raises(ValueError):
        Faults(latency=(0.5, 0.1))
    with pytest.raises(ValueError):
        Faults(fail_status=404)
    faults = Faults(fail_rate=0.2)
    with pytest.raises(ValueError):
        faults.update({"fail_rate": 0.1, "drop_rate": 2.0})
    assert faults.fail_rate == 0.2 and faults.drop_rate == 0.0  # all or nothing
    with pytest.raises(ValueError):
        faults.update({"no_such_fault": 1})


async def test_control_endpoint(client, sync_map):
    assert (await client.get("/__emulator__/faults")).json()["fail_next"] == 0
    changed = await client.post("/__emulator__/faults", json={"fail_next": 1, "methods": ["GET"], "latency": [0, 0.01]})
    assert changed.status_code == 200
    assert changed.json()["methods"] == ["GET"] and changed.json()["latency"] == [0, 0.01]
    # The control endpoint itself is never faulted.
    assert (await client.get("/__emulator__/faults")).status_code == 200
    assert (await client.get("/v1/Services")).status_code == 503
    bad = await client.post("/__emulator__/faults", json={"fail_rate": 7})
    assert bad.status_code == 400 and bad.json()["status"] == 400
    assert (await client.post("/__emulator__/faults", content=b"{not json")).status_code == 400
    await client.post("/__emulator__/faults", json={"fail_next": 5})
    reset = await client.post("/__emulator__/reset")
    assert reset.status_code == 200 and reset.json()["faults"]["fail_next"] == 0
    assert (await client.get("/v1/Services")).status_code == 200
    assert (await client.get("/__emulator__/nothing")).status_code == 404
    assert (await client.delete("/__emulator__/faults")).status_code == 405


async def test_rate_limit_through_the_control_endpoint(client, sync_map):
    assert (await client.get("/__emulator__/rate-limit")).json() == {"enabled": False}
    enabled = await client.post("/__emulator__/rate-limit", json={"per_second": 1, "burst_seconds": 2})
    assert enabled.json() == {"enabled": True, "per_second": 1.0, "burst_seconds": 2.0}
    statuses = [(await client.post(ITEMS, data={"Key": f"k{n}", "Data": "{}"})).status_code for n in range(3)]
    assert statuses == [201, 201, 429]
    assert (await client.post("/__emulator__/rate-limit", json={"enabled": False})).json() == {"enabled": False}
    assert (await client.post(ITEMS, data={"Key": "k9", "Data": "{}"})).status_code == 201


class StoppedClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


async def test_rate_limit_per_map(app, client, sync, sync_map):
    other = await sync.map(unique_name="other")
    clock = StoppedClock()
    app.state.api.rate_limit = RateLimit(per_second=2, burst_seconds=1, clock=clock)
    assert (await client.post(ITEMS, data={"Key": "a", "Data": "{}"})).status_code == 201
    # The same map by its SID shares the bucket.
    by_sid = f"/v1/Services/svc/Maps/{sync_map['sid']}/Items"
    assert (await client.post(by_sid, data={"Key": "b", "Data": "{}"})).status_code == 201
    limited = await client.post(f"{ITEMS}/a", data={"Data": "{}"})
    assert limited.status_code == 429
    assert limited.json() == error_body(TwilioCode.RATE_LIMITED, limited.json()["message"])
    assert limited.headers["retry-after"] == "1"
    # Reads are not limited; another map has its own bucket.
    assert (await client.get(f"{ITEMS}/a")).status_code == 200
    assert (await client.post(f"/v1/Services/svc/Maps/{other['sid']}/Items", data={"Key": "c", "Data": "{}"})).status_code == 201
    clock.now += 0.5  # one write's worth of refill at 2 per second
    assert (await client.delete(f"{ITEMS}/a")).status_code == 204
    assert (await client.delete(f"{ITEMS}/b")).status_code == 429


def test_rate_limit_defaults_follow_twilio():
    limit = RateLimit()
    assert limit.per_second == 20 and limit.capacity == 200  # 20 writes/s with a 10 s burst
    clock = StoppedClock()
    small = RateLimit(per_second=0.25, burst_seconds=4, clock=clock)
    assert small.acquire("MP1") is None
    assert small.acquire("MP1") == 4  # a whole token takes 4 s at 0.25/s


def test_rate_limit_is_off_by_default(store):
    from emulator_support import ACCOUNT_SID, AUTH_TOKEN

    assert create_app(store, account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN).state.api.rate_limit is None


# Over a real socket


async def test_drop_over_a_socket(sync_map, server: ThreadedServer, faults: Faults):
    async with socket_client(server.url) as over_socket:
        faults.drop_next = 1
        with pytest.raises(DROPPED):
            await over_socket.get("/v1/Services")
        assert (await over_socket.get("/v1/Services")).status_code == 200


async def test_drop_after_commit_over_a_socket(sync_map, server: ThreadedServer, faults: Faults):
    faults.update({"drop_next": 1, "after_commit": True})
    async with socket_client(server.url) as over_socket:
        with pytest.raises(DROPPED):
            await over_socket.post(ITEMS, data={"Key": "k", "Data": "{}"})
        assert (await over_socket.get(f"{ITEMS}/k")).status_code == 200


async def test_failure_and_latency_over_a_socket(sync_map, server: ThreadedServer, faults: Faults):
    async with socket_client(server.url) as over_socket:
        faults.fail_next = 1
        failed = await over_socket.get("/v1/Services")
        assert failed.status_code == 503 and failed.json()["code"] == 20503
        faults.latency = 0.5
        with pytest.raises(httpx.ReadTimeout):
            await over_socket.get("/v1/Services", timeout=0.05)
        faults.latency = 0
        assert (await over_socket.get("/v1/Services")).status_code == 200
