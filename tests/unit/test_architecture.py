"""The headless layers never import Textual, so they stay usable and testable without a terminal."""

from __future__ import annotations

import subprocess
import sys

HEADLESS_MODULES = [
    "syncmap_tui.sync.client",
    "syncmap_tui.sync.conflict",
    "syncmap_tui.sync.editing",
    "syncmap_tui.sync.find",
    "syncmap_tui.sync.merge",
    "syncmap_tui.sync.models",
    "syncmap_tui.sync.paging",
    "syncmap_tui.sync.session",
    "syncmap_tui.sync.shell_commands",
    "syncmap_tui.sync.undo",
    "syncmap_tui.sync.watch",
    "syncmap_tui.history",
    "syncmap_tui.sync.validation",
    "syncmap_tui.config",
    "syncmap_tui.ui.clipboard",
    "syncmap_tui.tree_cache",
    "syncmap_tui.emulator.app",
    "syncmap_tui.emulator.store",
]


def test_headless_modules_do_not_import_textual():
    code = (
        "import importlib, sys\n"
        f"for name in {HEADLESS_MODULES!r}:\n"
        "    importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_the_first_frame_imports_no_http_stack():
    """httpx (~40 ms) and Starlette load in the connecting worker (connection.open_client), after the
    first frame, and the dialogs (~18 ms) when first shown. Imports for annotations had pulled
    httpx (the edit session) and the dialogs (MainScreen) in."""
    code = (
        "import sys\n"
        "import syncmap_tui.cli, syncmap_tui.ui.app, syncmap_tui.ui.main_screen, syncmap_tui.ui.widgets.editor\n"
        "print(sorted(m for m in ('httpx', 'starlette', 'uvicorn', 'syncmap_tui.ui.dialogs') if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
