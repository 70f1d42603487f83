"""A 16 KB paste delivered as keystrokes (a terminal or tmux without bracketed paste), until it is in.

`python bench/bench_key_storm.py [--kib 16] [--runs 3]`

Project: `python -m syncmap_tui --demo demo-store orders order-0001` at 80×24. The cursor goes to
the start of the second line, between members; the bench writes 16 KB of new members
(`"k0000": "xxx…",` one a line) into the pty as plain bytes, which the app reads as 16,000-odd
key events, and reads the pty until the screen shows the last new member and the size meter's
figure for the whole text: the paste with its live validation. Reference, same run, same app:
the same bytes as one bracketed paste (ESC[200~ … ESC[201~), which Textual delivers as one Paste
event. Target: the keys are in within 5 s ("in seconds"; before key_storm.py, about two minutes).
The bytes are written from a thread while the bench reads the screen: a pty holds a few KB, and
the app must be able to write its frames meanwhile.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time

from _data import MAP, SERVICE
from _support import PtyProgram, Result, app_argv, isolated_home, report
from bench_keystroke_bytes import forget_drafts, settle

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID
from syncmap_tui.emulator.seed import seed_demo
from syncmap_tui.emulator.store import SyncStore
from syncmap_tui.sync.validation import MAX_DATA_BYTES, encode_data

ITEM = "order-0001"
TARGET_SECONDS = 5.0
DOWN, HOME = "\x1b[B", "\x1b[H"
PASTE_START, PASTE_END = "\x1b[200~", "\x1b[201~"
LAST_KEY = "zz-last-member"


def members_of(kib: int) -> tuple[str, dict[str, str]]:
    """Lines of new members, about `kib` KiB of text, and the members as data."""
    added: dict[str, str] = {}
    lines = []
    index = 0
    while sum(map(len, lines)) < kib * 1024 - 40:
        key = f"k{index:04d}"
        added[key] = "x" * 20
        lines.append(f'  "{key}": "{"x" * 20}",\n')
        index += 1
    added[LAST_KEY] = "end"
    lines.append(f'  "{LAST_KEY}": "end",\n')
    return "".join(lines), added


def write_all(program: PtyProgram, data: bytes) -> None:
    """Write every byte into the pty (blocking writes, from a thread)."""
    import os

    view = memoryview(data)
    while view:
        written = os.write(program.child.child_fd, view[:4096])
        view = view[written:]


def time_paste(env: dict[str, str], payload: str, expected_meter: str, *, bracketed: bool) -> float:
    """Seconds from the first byte written until the screen shows the last member and the meter."""
    forget_drafts()
    with PtyProgram(app_argv("--demo", SERVICE, MAP, ITEM), env) as app:
        app.wait_for(lambda s: "✓ valid JSON" in s and '"status"' in s)
        settle(app, 0.6)
        for key in (DOWN, HOME):  # arrows reach the TextArea as bindings: one at a time, settled
            app.send(key)
            settle(app, 0.3)
        # A terminal sends a pasted line break as CR, which Textual reads as enter.
        typed = payload.replace("\n", "\r")
        data = (PASTE_START + typed + PASTE_END if bracketed else typed).encode()
        writer = threading.Thread(target=write_all, args=(app, data), daemon=True)
        began = time.perf_counter()
        writer.start()
        deadline = began + 120
        while True:
            if app.read(0.01):
                screen = app.text()
                if LAST_KEY in screen and expected_meter in screen:
                    break
            if time.perf_counter() > deadline:
                raise RuntimeError(f"the paste never showed in full:\n{app.text()}")
        took = app.last_arrival - began
        writer.join(10)
        return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--kib", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    payload, added = members_of(args.kib)

    with isolated_home() as env:
        from syncmap_tui.config import embedded_db_path

        with SyncStore(embedded_db_path()) as store:
            seed_demo(store, DEFAULT_ACCOUNT_SID)
            original = json.loads(store.get_item(DEFAULT_ACCOUNT_SID, SERVICE, MAP, ITEM).data)
        size = len(encode_data({**added, **original}).encode())
        expected_meter = f"{size:,} / {MAX_DATA_BYTES:,} bytes"
        keys, pastes = [], []
        for _ in range(args.runs):  # interleaved: the machine's load changes during a run
            keys.append(time_paste(env, payload, expected_meter, bracketed=False))
            pastes.append(time_paste(env, payload, expected_meter, bracketed=True))

    print(f"{len(payload):,} bytes, {payload.count(chr(10)):,} lines")
    print("as keys s:        ", " ".join(f"{x:.2f}" for x in keys))
    print("bracketed paste s:", " ".join(f"{x:.2f}" for x in pastes))
    took = statistics.median(keys)
    return report([
        Result(f"{args.kib} KiB pasted as keys, until shown (median)", took, statistics.median(pastes), "s",
               f"≤ {TARGET_SECONDS:.0f} s", took <= TARGET_SECONDS, "reference: the same bytes as a bracketed paste"),
    ])


if __name__ == "__main__":
    sys.exit(main())
