"""Command line: `syncmap-tui [SERVICE [MAP [KEY]]]` opens the editor; `syncmap-tui emulator` serves one."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["emulator"]:
        from syncmap_tui.emulator.cli import run_emulator_command

        return run_emulator_command(argv[1:])
    parser = argparse.ArgumentParser(prog="syncmap-tui")
    parser.parse_args(argv)
    return 0
