"""The round-trip counter the latency bench and the path tests rely on."""

from __future__ import annotations

import asyncio

import httpx

from syncmap_tui.emulator.round_trips import Exchange, RoundTripRecorder, sequential_round_trips


def exchange(started: float, ended: float) -> Exchange:
    return Exchange("GET", "/", started, ended)


def test_overlapping_requests_count_once_and_following_ones_each():
    assert sequential_round_trips([]) == 0
    assert sequential_round_trips([exchange(0, 1), exchange(0.1, 1.1), exchange(0.2, 0.9)]) == 1
    assert sequential_round_trips([exchange(0, 1), exchange(1, 2), exchange(2, 3)]) == 3
    # A long request alongside two short ones in sequence: the path waited for two in a row.
    assert sequential_round_trips([exchange(0, 3), exchange(0, 1), exchange(1.5, 2.5)]) == 2


async def test_the_recorder_sees_concurrent_requests_as_one_round_trip():
    inner = httpx.MockTransport(lambda request: httpx.Response(200, json={"ok": True}))
    recorder = RoundTripRecorder(inner, latency=0.01)
    async with httpx.AsyncClient(transport=recorder, base_url="http://test") as client:
        mark = recorder.mark()
        await asyncio.gather(client.get("/a"), client.get("/b"), client.get("/c"))
        assert recorder.round_trips_since(mark) == 1
        await client.get("/d")
        response = await client.get("/e")
    assert response.json() == {"ok": True}
    assert recorder.round_trips_since(mark) == 3
    assert [str(e) for e in recorder.since(mark)][-2:] == ["GET /d", "GET /e"]
