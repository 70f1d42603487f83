"""First frame: process start until the navigator shows the embedded emulator's services, in a real pty.

`python bench/bench_startup.py [--runs 7]`

Project: `python -m syncmap_tui --demo` with HOME and XDG_* in a temporary folder, until
"Demo Store" (a seeded service) is on the screen. The first run of a fresh home also creates and
seeds the database (reported once per round, with a fresh home each round); the warm run reuses
a seeded home, and the target applies to it. Reference: bench/ref_textarea_app.py, a bare Textual
app with one TextArea, until its text is on the screen. Also reported: the floor of this
architecture, bench/ref_floor_app.py, the same bare app that also opens the embedded emulator
(httpx, Starlette, SQLite) and shows its services' names in the TextArea, until "Demo Store"
shows: no app on this architecture can show the services sooner. Runs are interleaved; medians
reported. Target: warm first frame ≤ 1.3× the bare app.
"""

from __future__ import annotations

import argparse
import sys

from _support import BENCH_DIR, PYTHON, PtyProgram, Result, app_argv, child_env, isolated_home, median, reference_argv, report

SERVICE_SHOWN = "Demo Store"
READY_TEXT = "Reference TextArea ready"
TARGET_RATIO = 1.3


def first_frame(argv: list[str], text: str, env: dict[str, str]) -> float:
    with PtyProgram(argv, env) as program:
        return program.wait_for(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    cold, warm, bare, floor = [], [], [], []
    with isolated_home() as env:
        first_frame(app_argv("--demo"), SERVICE_SHOWN, env)  # seeds this home for the warm runs
        for run in range(args.runs):
            bare.append(first_frame(reference_argv(), READY_TEXT, child_env()))
            warm.append(first_frame(app_argv("--demo"), SERVICE_SHOWN, env))
            floor.append(first_frame([PYTHON, str(BENCH_DIR / "ref_floor_app.py")], SERVICE_SHOWN, env))
            with isolated_home() as fresh:
                cold.append(first_frame(app_argv("--demo"), SERVICE_SHOWN, fresh))
            print(f"run {run + 1}: bare {bare[-1]:.3f} s  warm {warm[-1]:.3f} s  floor {floor[-1]:.3f} s  "
                  f"first run {cold[-1]:.3f} s", flush=True)

    reference = median(bare)
    results = [
        Result("first frame, warm (seeded home)", median(warm), reference, "s", f"≤ {TARGET_RATIO}× bare",
               median(warm) <= TARGET_RATIO * reference),
        Result("  floor: bare app + embedded emulator", median(floor), reference, "s", "(reported)", None,
               "bench/ref_floor_app.py: the least this architecture takes to show the services"),
        Result("first frame, first run (creates + seeds DB)", median(cold), reference, "s", "(reported)", None),
    ]
    return report(results)


if __name__ == "__main__":
    sys.exit(main())
