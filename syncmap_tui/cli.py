"""Command line: `syncmap-tui [SERVICE [MAP [KEY]]]` opens the editor; `syncmap-tui emulator` serves
one; `syncmap-tui export` and `syncmap-tui import` move a map's items to and from a file.

The connection flags (`--base-url`, `--profile`, `--demo`, `--read-only`) are defined once, in
`add_connection_flags`, and turned into a Target once, in `target_from_args`, for all of them."""

from __future__ import annotations

import argparse
import gc
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from syncmap_tui.config import Target

COMMANDS = ("emulator", "export", "import")
"""First arguments that name a command, not a service. A service whose unique name is one of them
is deep-linked after `--`: `syncmap-tui -- export MAP KEY`."""

EPILOG = """\
Deep links take SIDs or unique names (a service also by its friendly name):
  syncmap-tui demo-store orders order-0001
Without credentials (flags, TWILIO_* environment, or a profile) it opens the embedded local emulator.
Commands: syncmap-tui emulator|export|import --help
A service named like a command goes after --: syncmap-tui -- export orders order-0001
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
    add_connection_flags(parser)
    parser.add_argument("--no-watch", action="store_true",
                        help="do not re-read the open item and the item list while the app has focus")
    parser.add_argument("--no-mouse", action="store_true", help="leave the mouse to the terminal (for selecting text)")
    return parser


def add_connection_flags(parser: argparse.ArgumentParser) -> None:
    """Where to connect: the same flags for the editor, `export` and `import`."""
    parser.add_argument("--base-url", help="Sync API base URL, e.g. http://127.0.0.1:8777 for `syncmap-tui emulator`")
    parser.add_argument("--profile", help="a profile from the config file, or else from twilio-cli's")
    parser.add_argument("--demo", action="store_true", help="use the embedded local emulator with demo data")
    parser.add_argument("--read-only", action="store_true", help="never send a write request")


def target_from_args(args: argparse.Namespace, *, watch: bool = True) -> Target | None:
    """The Target the connection flags choose, or None after printing why there is none. `watch`
    False (the editor's --no-watch) overrides the profile's setting."""
    from syncmap_tui.config import ConfigError, resolve_target

    try:
        return resolve_target(base_url=args.base_url, profile=args.profile, demo=args.demo, read_only=args.read_only,
                              watch=watch)
    except ConfigError as error:
        from syncmap_tui.ui.literal import visible_lines

        # The message quotes paths and values from the environment and the command line.
        print(f"syncmap-tui: {visible_lines(error.message)}", file=sys.stderr)
        return None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["emulator"]:
        from syncmap_tui.emulator.cli import run_emulator_command

        return run_emulator_command(argv[1:])
    if argv[:1] in (["export"], ["import"]):
        from syncmap_tui.transfer_cli import run_transfer_command

        return run_transfer_command(argv[0], argv[1:])
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.service in COMMANDS and "--" not in argv:
        # `syncmap-tui --profile prod export …`: a command after a flag. Opening a service named
        # "export" instead would surprise; one named so is reached after `--`.
        parser.error(f"{args.service!r} is a command: put it first (syncmap-tui {args.service} --help), "
                     f"or, for a service named {args.service!r}, write: syncmap-tui -- {args.service} …")

    target = target_from_args(args, watch=not args.no_watch)
    if target is None:
        return 2

    # Importing the UI allocates about half of the start-up's objects, all long-lived: the app
    # keeps garbage collection off from here until its first frame is out (SyncMapApp.started).
    gc.disable()
    from syncmap_tui.ui.app import make_app
    from syncmap_tui.ui.launch import DeepLink

    app = make_app(target, deep_link=DeepLink(args.service, args.map, args.key))
    app.run(mouse=not args.no_mouse)
    return app.return_code or 0
