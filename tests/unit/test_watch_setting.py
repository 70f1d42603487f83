"""`--no-watch` and a profile's `watch = false` turn the watch off (config.py, cli.py)."""

from __future__ import annotations

import os

from syncmap_tui.cli import build_parser
from syncmap_tui.config import config_path, resolve_target

SID = "AC" + "0123456789abcdef" * 2


def _write(text: str) -> None:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o600)


def test_watch_is_on_by_default_and_off_by_flag_or_profile(isolated_home) -> None:
    _write(f"""
[profiles.quiet]
account_sid = "{SID}"
auth_token = "t"
watch = false
[profiles.loud]
account_sid = "{SID}"
auth_token = "t"
""")
    assert resolve_target(environ={}).watch
    assert not resolve_target(watch=False, environ={}).watch
    assert not resolve_target(demo=True, watch=False, environ={}).watch
    assert not resolve_target(profile="quiet", environ={}).watch
    assert resolve_target(profile="loud", environ={}).watch
    assert not resolve_target(profile="loud", watch=False, environ={}).watch
    assert build_parser().parse_args(["--no-watch"]).no_watch
