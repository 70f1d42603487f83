"""Compare-and-set is atomic: of 32 writers holding the same revision, exactly one wins."""

from __future__ import annotations

import asyncio
import json
import threading
from concurrent.futures import ThreadPoolExecutor

from emulator_support import socket_client, sync_socket_client

WRITERS = 32
ITEM = "/v1/Services/svc/Maps/map/Items/contended"


async def test_32_writers_in_process(client, sync, sync_map):
    await sync.item("contended")
    responses = await asyncio.gather(
        *(client.post(ITEM, data={"Data": json.dumps({"writer": n})}, headers={"If-Match": "0"}) for n in range(WRITERS))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [412] * (WRITERS - 1)
    assert all(response.json()["code"] == 54205 for response in responses if response.status_code == 412)
    winner = next(response.json() for response in responses if response.status_code == 200)
    assert (await client.get(ITEM)).json()["data"] == winner["data"]


async def test_32_writers_over_sockets_with_threads(sync, sync_map, server):
    await sync.item("contended")
    start = threading.Barrier(WRITERS)

    def write(over_socket, n: int) -> int:
        start.wait()  # every thread holds the same revision, then all send at once
        return over_socket.post(ITEM, data={"Data": json.dumps({"writer": n})}, headers={"If-Match": "0"}).status_code

    def contend() -> list[int]:
        # One client shared by the threads: its pool opens a connection per concurrent request.
        with sync_socket_client(server.url) as over_socket, ThreadPoolExecutor(WRITERS) as pool:
            return sorted(pool.map(lambda n: write(over_socket, n), range(WRITERS)))

    statuses = await asyncio.to_thread(contend)
    assert statuses == [200] + [412] * (WRITERS - 1)


async def test_32_writers_over_sockets_async(sync, sync_map, server):
    await sync.item("contended")
    async with socket_client(server.url) as over_socket:
        responses = await asyncio.gather(
            *(
                over_socket.post(ITEM, data={"Data": json.dumps({"writer": n})}, headers={"If-Match": "0"})
                for n in range(WRITERS)
            )
        )
        assert sorted(response.status_code for response in responses) == [200] + [412] * (WRITERS - 1)
        final = (await over_socket.get(ITEM)).json()
    assert final["revision"] != "0"
