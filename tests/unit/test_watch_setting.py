"""`--no-watch` and a profile's `watch = false` turn the watch off (config.py, cli.py)."""

from __future__ import annotations

import os

from syncmap_tui.cli import build_parser
from syncmap_tui.config import Profile, config_path, load_config, resolve_target, save_profile

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


def test_a_saved_profile_keeps_watch_false(isolated_home) -> None:
    save_profile("quiet", Profile(account_sid=SID, auth_token="t", watch=False))
    save_profile("loud", Profile(account_sid=SID, auth_token="t"))
    profiles = load_config().profiles
    assert profiles["quiet"].watch is False and profiles["loud"].watch is True
    assert "watch" not in config_path().read_text().split("[profiles.loud]")[1]
