"""`syncmap-tui export` and `import` as real processes against a `syncmap-tui emulator`: ctrl+c
(SIGINT) part-way through an import, then the same import again."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time

from .conftest import REPO_ROOT, WAIT, child_env

SLOW_WRITES = {"latency": 0.05, "methods": ["POST"]}
"""120 creates at 50 ms each: about 6 s, long enough to interrupt half-way on a busy machine."""


def command(emulator, *args: str) -> list[str]:
    return [sys.executable, "-m", "syncmap_tui", args[0], "--base-url", emulator.url, *args[1:]]


def ctrl_c_heard() -> None:
    """In the child: SIGINT as a terminal's ctrl+c delivers it. A shell runs a background job (the
    test run started with `&`) with SIGINT ignored, which its children inherit and Python then
    keeps: the import ran to its end and the test failed."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def counts(stderr: str) -> tuple[int, int]:
    created = re.search(r"([\d,]+) created", stderr)
    already = re.search(r"([\d,]+) already as in the file", stderr)
    assert created and already, stderr
    return int(created[1].replace(",", "")), int(already[1].replace(",", ""))


def test_an_import_interrupted_by_ctrl_c_is_finished_by_running_it_again(emulator, tmp_path):
    path = tmp_path / "orders.jsonl"
    exported = subprocess.run(command(emulator, "export", "demo-store", "orders", "-o", str(path)),
                              cwd=REPO_ROOT, env=child_env(), capture_output=True, text=True, timeout=WAIT)
    assert exported.returncode == 0 and "Exported 120 items" in exported.stderr, exported.stderr

    with emulator.client() as control:
        control.post("/__emulator__/faults", json=SLOW_WRITES).raise_for_status()
    importing = subprocess.Popen(command(emulator, "import", "demo-store", "empty", str(path)), cwd=REPO_ROOT,
                                 env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                 preexec_fn=ctrl_c_heard)
    try:
        # Interrupted once three items are in (reads are not slowed): the import writes one at a
        # time, so it has counted two at least.
        with emulator.client() as reader:
            deadline = time.monotonic() + WAIT
            while len(reader.get("/v1/Services/demo-store/Maps/empty/Items").json()["items"]) < 3:
                assert time.monotonic() < deadline and importing.poll() is None, "the import wrote nothing"
                time.sleep(0.05)
        importing.send_signal(signal.SIGINT)
        _, stderr = importing.communicate(timeout=WAIT)
    finally:
        if importing.poll() is None:
            importing.kill()
            importing.wait()
    assert importing.returncode == 130, stderr
    assert "Interrupted the import" in stderr and "Run the same import again" in stderr, stderr
    assert "Traceback" not in stderr, stderr
    first, _ = counts(stderr)
    assert 0 < first < 120, stderr

    with emulator.client() as control:
        control.post("/__emulator__/faults", json={"latency": 0}).raise_for_status()
    again = subprocess.run(command(emulator, "import", "demo-store", "empty", str(path)), cwd=REPO_ROOT,
                           env=child_env(), capture_output=True, text=True, timeout=WAIT * 2)
    assert again.returncode == 0, again.stderr
    created, already = counts(again.stderr)
    assert created + already == 120 and already in (first, first + 1), again.stderr  # +1: the write in flight

    with emulator.client() as reader:
        listed = reader.get("/v1/Services/demo-store/Maps/empty/Items", params={"PageSize": 100}).json()
        second = reader.get(listed["meta"]["next_page_url"]).json()
    assert len(listed["items"]) + len(second["items"]) == 120


def test_an_export_to_standard_output_cut_short_says_the_output_is_incomplete(emulator):
    """Standard output cannot be replaced atomically: when a page fails half-way, the lines already
    written stay in the caller's file or pipe. The message must say that they are not the whole map
    (a JSON Lines export has no end marker, so an import would take them for a complete export)."""
    with emulator.client() as control:
        control.post("/__emulator__/faults", json={"latency": 0.3, "methods": ["GET"]}).raise_for_status()
    exporting = subprocess.Popen(command(emulator, "export", "demo-store", "catalog"), cwd=REPO_ROOT,
                                 env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2.0)  # the service, the map and a few pages of 10,000 items
        with emulator.client() as control:
            control.post("/__emulator__/faults", json={"latency": 0, "drop_next": 100}).raise_for_status()
        stdout, stderr = exporting.communicate(timeout=WAIT)
    finally:
        if exporting.poll() is None:
            exporting.kill()
            exporting.wait()
        with emulator.client() as control:
            control.post("/__emulator__/faults", json={"drop_next": 0}).raise_for_status()
    written = len(stdout.splitlines()) - 1
    assert exporting.returncode != 0, stderr
    assert 0 < written < 10_000, stderr
    assert "incomplete" in stderr and f"{written:,} items" in stderr, stderr
