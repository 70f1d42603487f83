"""Bytes written to the terminal per keystroke while typing in the editor, and per second at idle.

`python bench/bench_keystroke_bytes.py [--keys 20] [--idle-seconds 3]`

Project: `python -m syncmap_tui --demo demo-store orders bench-14k` in a real pty: a 14,000-byte
item (short lines, as data usually is) opens in the editor with live validation, the size meter
and JSON highlighting on. Reference: bench/ref_textarea_app.py, a stock
`TextArea(language="json")` with the same text, in the same run. Both get the same keys: down,
end, left, left, then characters typed inside a JSON string; after each key the bench reads the
pty master until the app has been quiet for 0.15 s and counts the bytes. At 80×24 and 200×50.

After typing, the project's screen is compared with a full repaint of itself (the pty is resized
and resized back): a partial refresh that left a stale character would show as a difference.

Idle: bytes per second with nothing happening, the focus in the editor, in a TTL field and in the
jump field (Input widgets blink by default). The reference blinks (stock): reported, no target.
Targets: ≤ 1,024 bytes per keystroke at 80×24 (median); 0 bytes per second idle.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _data import ITEM_14K, MAP, SERVICE, editor_text, seed_embedded_home
from _support import PtyProgram, Result, app_argv, child_env, isolated_home, reference_argv, report

TARGET_BYTES = 1024
DOWN, UP, END, LEFT, TAB, CTRL_F = "\x1b[B", "\x1b[A", "\x1b[F", "\x1b[D", "\t", "\x06"
QUIET = 0.15


def settle(program: PtyProgram, quiet: float = 0.4) -> None:
    program.settle(quiet=quiet, timeout=10)


def type_keys(program: PtyProgram, keys: str, typed_after: str = "C-1001") -> list[int]:
    """Send each key alone, wait until the screen shows it, then until the app has been quiet for
    QUIET s; the bytes written for each key."""
    counts = []
    for index, key in enumerate(keys):
        before = program.total_bytes
        program.send(key)
        program.wait_for(typed_after + keys[: index + 1], timeout=10)
        program.settle(quiet=QUIET, timeout=5)
        counts.append(program.total_bytes - before)
    return counts


def move_keys(program: PtyProgram) -> list[int]:
    """Bytes for cursor moves: left along the line, then down and up across lines."""
    counts = []
    for key in (LEFT, LEFT, LEFT, DOWN, DOWN, UP, UP):
        before = program.total_bytes
        program.send(key)
        settle(program, 0.3)
        counts.append(program.total_bytes - before)
    return counts


def move_into_first_string(program: PtyProgram) -> None:
    # Arrow keys reach the TextArea only after bubbling up as bindings: one at a time, settled.
    for key in (DOWN, END, LEFT, LEFT):
        program.send(key)
        settle(program, 0.3)


def idle_rate(program: PtyProgram, seconds: float) -> float:
    settle(program, 0.6)
    began = time.perf_counter()
    written = 0
    while time.perf_counter() - began < seconds:
        written += program.read(0.05)
    return written / seconds


def screen_cells(program: PtyProgram) -> list[list[tuple]]:
    return [
        [(cell.data, cell.fg, cell.bg, cell.bold, cell.reverse) for cell in (row[x] for x in range(program.columns))]
        for row in (program.screen.buffer[y] for y in range(program.rows))
    ]


def full_repaint_matches(program: PtyProgram) -> tuple[bool, str]:
    """Compare the screen with what a full repaint draws; (same?, first differing line)."""
    settle(program)
    before = screen_cells(program)
    text_before = program.screen.display[:]
    program.child.setwinsize(program.rows, program.columns - 1)
    settle(program, 0.5)
    program.child.setwinsize(program.rows, program.columns)
    settle(program, 0.8)
    after = screen_cells(program)
    for y, (old, new) in enumerate(zip(before, after)):
        if old != new:
            return False, f"row {y}: {text_before[y]!r} vs {program.screen.display[y]!r}"
    return True, ""


def forget_drafts() -> None:
    """A run ends with unsaved typing, which the app keeps as a draft and offers at the next start."""
    from syncmap_tui.config import state_dir

    shutil.rmtree(state_dir(), ignore_errors=True)


def run_project(columns: int, rows: int, keys: str, env: dict[str, str], idle_seconds: float) -> dict:
    forget_drafts()
    argv = app_argv("--demo", SERVICE, MAP, ITEM_14K)
    with PtyProgram(argv, dict(env, COLUMNS=str(columns), LINES=str(rows)), columns, rows) as app:
        app.wait_for(lambda s: "✓ valid JSON" in s and ITEM_14K in s and '"customer"' in s)
        settle(app, 0.6)
        move_into_first_string(app)
        counts = type_keys(app, keys)
        typed_ok = "C-1001" + keys in app.text()
        moves = move_keys(app)
        same, difference = full_repaint_matches(app)
        result = {"counts": counts, "typed": typed_ok, "moves": moves, "repaint_same": same, "difference": difference}
        if idle_seconds:
            result["idle_editor"] = idle_rate(app, idle_seconds)
            app.send(TAB)  # from the editor to the ItemTtl field
            result["idle_ttl"] = idle_rate(app, idle_seconds)
            app.send(CTRL_F)
            result["idle_jump"] = idle_rate(app, idle_seconds)
        return result


def run_reference(columns: int, rows: int, keys: str, text_file: Path, idle_seconds: float) -> dict:
    argv = reference_argv("--text-file", str(text_file), "--language", "json")
    with PtyProgram(argv, child_env(columns, rows), columns, rows) as ref:
        ref.wait_for('"customer"')
        settle(ref, 0.6)
        move_into_first_string(ref)
        counts = type_keys(ref, keys)
        typed_ok = "C-1001" + keys in ref.text()
        result = {"counts": counts, "typed": typed_ok, "moves": move_keys(ref)}
        if idle_seconds:
            result["idle_editor"] = idle_rate(ref, idle_seconds)
        return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keys", type=int, default=20)
    parser.add_argument("--idle-seconds", type=float, default=3.0)
    args = parser.parse_args()
    keys = ("abcdefghijklmnopqrstuvwxyz" * 4)[: args.keys]

    results: list[Result] = []
    with isolated_home() as env, tempfile.TemporaryDirectory() as folder:
        documents = seed_embedded_home()
        text_file = Path(folder) / "item.json"
        text_file.write_text(editor_text(documents[ITEM_14K]), encoding="utf-8")
        for columns, rows in ((80, 24), (200, 50)):
            idle = args.idle_seconds if (columns, rows) == (80, 24) else 0
            ours = run_project(columns, rows, keys, env, idle)
            theirs = run_reference(columns, rows, keys, text_file, idle)
            size = f"{columns}×{rows}"
            print(f"{size} project bytes per key: {ours['counts']}", flush=True)
            print(f"{size} reference bytes per key: {theirs['counts']}", flush=True)
            print(f"{size} cursor moves (left ×3, down ×2, up ×2): project {ours['moves']}, reference {theirs['moves']}", flush=True)
            if not (ours["typed"] and theirs["typed"]):
                print(f"{size}: the typed text did not show (project {ours['typed']}, reference {theirs['typed']})")
            if not ours["repaint_same"]:
                print(f"{size}: STALE: the screen after typing differs from a full repaint: {ours['difference']}")
            project, reference = statistics.median(ours["counts"]), statistics.median(theirs["counts"])
            if (columns, rows) == (80, 24):
                passed = project <= TARGET_BYTES and ours["repaint_same"] and ours["typed"]
                results.append(Result(f"bytes per keystroke {size} (median)", project, reference, "B",
                                      f"≤ {TARGET_BYTES:,} B", passed))
            else:
                results.append(Result(f"bytes per keystroke {size} (median)", project, reference, "B",
                                      "(reported)", None if ours["repaint_same"] else False))
            results.append(Result(f"bytes per cursor move {size} (median)", statistics.median(ours["moves"]),
                                  statistics.median(theirs["moves"]), "B", "(reported)", None))
            if idle:
                results.append(Result("idle, focus in editor", ours["idle_editor"], theirs["idle_editor"], "B/s",
                                      "0 B/s", ours["idle_editor"] == 0, "reference blinks, as stock"))
                results.append(Result("idle, focus in a TTL field", ours["idle_ttl"], None, "B/s", "0 B/s",
                                      ours["idle_ttl"] == 0))
                results.append(Result("idle, focus in the jump field", ours["idle_jump"], None, "B/s", "0 B/s",
                                      ours["idle_jump"] == 0))
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
