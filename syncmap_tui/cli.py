"""Command line: `syncmap-tui [SERVICE [MAP [KEY]]]` opens the editor; `syncmap-tui emulator` serves one."""

from __future__ import annotations

import argparse
import gc
import sys

EPILOG = """\
Deep links take SIDs or unique names (a service also by its friendly name):
  syncmap-tui demo-store orders order-0001
Without credentials (flags, TWILIO_* environment, or a profile) it opens the embedded local emulator.
Run a standalone emulator with: syncmap-tui emulator --help
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="syncmap-tui",
        description="A terminal editor for Twilio Sync Maps.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from syncmap_tui import __version__

    parser.add_argument("--version", action="version", version=f"syncmap-tui {__version__}")
    parser.add_argument("service", nargs="?", help="service SID, unique name or friendly name")
    parser.add_argument("map", nargs="?", help="map SID or unique name")
    parser.add_argument("key", nargs="?", help="item key: opens it in the editor")
    parser.add_argument("--base-url", help="Sync API base URL, e.g. http://127.0.0.1:8777 for `syncmap-tui emulator`")
    parser.add_argument("--profile", help="a profile from the config file")
    parser.add_argument("--demo", action="store_true", help="open the embedded local emulator with demo data")
    parser.add_argument("--read-only", action="store_true", help="never send a write request")
    parser.add_argument("--no-watch", action="store_true",
                        help="do not re-read the open item and the item list while the app has focus")
    parser.add_argument("--no-mouse", action="store_true", help="leave the mouse to the terminal (for selecting text)")
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["emulator"]:
        from syncmap_tui.emulator.cli import run_emulator_command

        return run_emulator_command(argv[1:])
    args = build_parser().parse_args(argv)

    from syncmap_tui.config import ConfigError, resolve_target

    try:
        target = resolve_target(base_url=args.base_url, profile=args.profile, demo=args.demo, read_only=args.read_only,
                                watch=not args.no_watch)
    except ConfigError as error:
        from syncmap_tui.ui.literal import visible_lines

        # The message quotes paths and values from the environment and the command line.
        print(f"syncmap-tui: {visible_lines(error.message)}", file=sys.stderr)
        return 2

    # Importing the UI allocates about half of the start-up's objects, all long-lived: the app
    # keeps garbage collection off from here until its first frame is out (SyncMapApp.started).
    gc.disable()
    from syncmap_tui.ui.app import DeepLink, make_app

    app = make_app(target, deep_link=DeepLink(args.service, args.map, args.key))
    app.run(mouse=not args.no_mouse)
    return app.return_code or 0
