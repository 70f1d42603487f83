"""`syncmap-tui emulator --ready-file` (a script waits for the URL without parsing output) and
`--auth-token-file` (the token never has to be on the command line, where `ps` shows it)."""

from __future__ import annotations

import errno
import os
import signal
import socket
import threading
import time
from pathlib import Path

import httpx
import pytest
from emulator_support import ACCOUNT_SID, AUTH_TOKEN, EmulatorProcess

from syncmap_tui.emulator import cli
from syncmap_tui.emulator.cli import VISIBLE_TOKEN_WARNING, remove_ready_file, run_emulator_command, write_ready_file

DEAD_URL = "http://127.0.0.1:9\n"


def wait_for_file(path: Path, *, not_equal_to: str = "", timeout: float = 20.0) -> str:
    """The file's text once it exists and differs from `not_equal_to`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        if text and text != not_equal_to:
            return text
        time.sleep(0.02)
    raise AssertionError(f"{path} was not written within {timeout} s")


def test_ready_file_names_the_url_once_serving_and_is_removed_on_sigterm(tmp_path):
    ready = tmp_path / "emulator.url"
    ready.write_text(DEAD_URL, encoding="utf-8")  # left by an emulator that was killed
    with EmulatorProcess("--ready-file", str(ready)) as emulator:
        text = wait_for_file(ready, not_equal_to=DEAD_URL)
        url = emulator.wait_for_url()
        assert text == url + "\n"
        with httpx.Client(base_url=url, auth=(ACCOUNT_SID, AUTH_TOKEN), trust_env=False, timeout=10) as client:
            assert client.get("/v1/Services").status_code == 200
        assert sorted(path.name for path in tmp_path.iterdir()) == ["emulator.url"]  # no temporary file left
        assert emulator.terminate(signal.SIGTERM) == 0
    assert not ready.exists()


def test_a_stale_ready_file_is_removed_even_when_the_emulator_cannot_start(tmp_path, capsys):
    """A script that polls from the moment it starts the emulator must never read a dead URL."""
    ready = tmp_path / "emulator.url"
    ready.write_text(DEAD_URL, encoding="utf-8")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert run_emulator_command(["--port", str(port), "--ready-file", str(ready)]) == 1
    assert "cannot listen" in capsys.readouterr().err
    assert not ready.exists()


def test_the_ready_file_is_not_removed_when_another_server_has_taken_it(tmp_path):
    ready = tmp_path / "emulator.url"
    write_ready_file(ready, "http://127.0.0.1:1111")
    remove_ready_file(ready, "http://127.0.0.1:2222")
    assert ready.read_text(encoding="utf-8") == "http://127.0.0.1:1111\n"
    remove_ready_file(ready, "http://127.0.0.1:1111")
    assert not ready.exists()


def test_a_ready_file_in_a_missing_folder_is_refused_before_listening(tmp_path, capsys):
    assert run_emulator_command(["--port", "0", "--ready-file", str(tmp_path / "no" / "such" / "url")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_a_ready_file_that_cannot_be_written_stops_the_emulator_with_status_1(tmp_path, monkeypatch, capsys):
    def full_disk(ready: Path, url: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(cli, "write_ready_file", full_disk)
    assert run_emulator_command(["--port", "0", "--ready-file", str(tmp_path / "url")]) == 1
    assert f"cannot write --ready-file {tmp_path / 'url'}: {os.strerror(errno.ENOSPC)}" in capsys.readouterr().err


def test_auth_token_file_keeps_the_token_off_the_command_line(tmp_path):
    token = "token-from-a-file-7f3a"
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n", encoding="utf-8")  # as `echo TOKEN > file` writes it
    with EmulatorProcess("--auth-token-file", str(token_file)) as emulator:
        url = emulator.wait_for_url()
        command_line = Path(f"/proc/{emulator.process.pid}/cmdline").read_bytes()
        assert token.encode() not in command_line  # what `ps` shows
        assert token not in "\n".join(emulator.output)
        assert "Auth token:  (from --auth-token-file, not shown)" in emulator.output
        with httpx.Client(base_url=url, trust_env=False, timeout=10) as client:
            assert client.get("/v1/Services", auth=(ACCOUNT_SID, token)).status_code == 200
            assert client.get("/v1/Services", auth=(ACCOUNT_SID, token + "\n")).status_code == 401
            assert client.get("/v1/Services", auth=(ACCOUNT_SID, AUTH_TOKEN)).status_code == 401
        assert emulator.terminate() == 0
        assert VISIBLE_TOKEN_WARNING not in emulator.stderr()


def test_auth_token_on_the_command_line_still_works_but_warns_about_ps():
    with EmulatorProcess("--auth-token", "visible-token") as emulator:
        url = emulator.wait_for_url()
        with httpx.Client(base_url=url, trust_env=False, timeout=10) as client:
            assert client.get("/v1/Services", auth=(ACCOUNT_SID, "visible-token")).status_code == 200
        assert emulator.terminate() == 0
        stderr = emulator.stderr()
    assert VISIBLE_TOKEN_WARNING in stderr
    assert "visible-token" not in stderr


@pytest.mark.parametrize(("token", "warned"), [("a-real-looking-token", True), (AUTH_TOKEN, False)])
def test_only_a_token_that_may_be_secret_is_warned_about(tmp_path, capsys, token, warned):
    """The documented local token is no secret: no warning for it."""
    missing_folder = str(tmp_path / "missing" / "url")  # stops the command after the credentials
    assert run_emulator_command(["--auth-token", token, "--ready-file", missing_folder]) == 2
    assert (VISIBLE_TOKEN_WARNING in capsys.readouterr().err) is warned


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "must hold the token on one line"),
        (b"\n", "must hold the token on one line"),
        (b"secret-one\nsecret-two\n", "must hold the token on one line"),
        (b"\xff\xfesecret", "not UTF-8 text"),
    ],
)
def test_an_unusable_token_file_is_refused_without_echoing_it(tmp_path, capsys, content, reason):
    token_file = tmp_path / "token"
    token_file.write_bytes(content)
    assert run_emulator_command(["--port", "0", "--auth-token-file", str(token_file)]) == 2
    err = capsys.readouterr().err
    assert reason in err and str(token_file) in err
    assert "secret" not in err


def test_a_missing_token_file_and_two_token_flags_are_refused(tmp_path, capsys):
    assert run_emulator_command(["--port", "0", "--auth-token-file", str(tmp_path / "missing")]) == 2
    assert f"cannot read --auth-token-file {tmp_path / 'missing'}: No such file or directory" in capsys.readouterr().err
    token_file = tmp_path / "token"
    token_file.write_text("t", encoding="utf-8")
    assert run_emulator_command(["--auth-token", "x", "--auth-token-file", str(token_file)]) == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_the_token_file_wins_over_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("TWILIO_AUTH_TOKEN", "from-the-environment")
    token_file = tmp_path / "token"
    token_file.write_text("from-the-file", encoding="utf-8")
    args = cli.build_parser().parse_args(["--auth-token-file", str(token_file)])
    assert cli.resolve_credentials(args)[1:] == ("from-the-file", "--auth-token-file")
    args = cli.build_parser().parse_args([])
    assert cli.resolve_credentials(args)[1:] == ("from-the-environment", "TWILIO_AUTH_TOKEN")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_just_before_the_server_takes_over_its_handlers_still_stops_it(tmp_path, monkeypatch, signum):
    """A harness that stops the emulator the moment it printed its URL: the signal came between
    the emulator's own handlers and uvicorn's, was swallowed, and the emulator ran on (found by
    SIGTERM at random moments after the URL line: 1 run in 20 hung)."""
    import uvicorn

    serve = uvicorn.Server.run
    ran_on: list[bool] = []

    def signalled_then_run(server: uvicorn.Server, sockets=None) -> None:
        os.kill(os.getpid(), signum)  # delivered before uvicorn installs its handlers

        def stop_a_hung_server() -> None:
            ran_on.append(True)
            server.should_exit = True

        watchdog = threading.Timer(10.0, stop_a_hung_server)
        watchdog.start()
        try:
            serve(server, sockets=sockets)
        finally:
            watchdog.cancel()

    monkeypatch.setattr(uvicorn.Server, "run", signalled_then_run)
    ready = tmp_path / "url"
    assert run_emulator_command(["--port", "0", "--ready-file", str(ready)]) == 0
    assert not ran_on, "the signal was swallowed: the server ran until the watchdog stopped it"
    assert not ready.exists()


@pytest.mark.parametrize("flag", ["--ready-file", "--auth-token-file", "--auth-token", "--account-sid", "--db"])
def test_an_empty_value_is_refused_not_taken_as_the_flag_left_out(flag, capsys):
    """`--auth-token-file "$TOKEN_FILE"` with the variable unset accepted the documented local
    token, `--db "$DB"` kept the data in memory and `--ready-file "$READY"` wrote no file, so a
    script waited for it for ever."""
    with pytest.raises(SystemExit) as refused:
        cli.build_parser().parse_args([flag, ""])
    assert refused.value.code == 2
    assert f"argument {flag}: must not be empty" in capsys.readouterr().err


def test_a_database_that_cannot_be_used_is_refused_without_a_traceback(tmp_path, capsys):
    not_a_database = tmp_path / "notes.txt"
    not_a_database.write_text("not a database\n" * 100, encoding="utf-8")
    for path, reason in ((not_a_database, "file is not a database"), (tmp_path, "unable to open database file")):
        assert run_emulator_command(["--port", "0", "--db", str(path)]) == 1
        err = capsys.readouterr().err
        assert f"syncmap-tui emulator: cannot use --db {path}: {reason}" in err, err
        assert "Traceback" not in err


def test_a_full_disk_while_seeding_is_reported_without_a_traceback(tmp_path, monkeypatch, capsys):
    import sqlite3

    from syncmap_tui.emulator import seed

    def full_disk(store, account_sid) -> bool:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(seed, "seed_demo", full_disk)
    ready = tmp_path / "url"
    assert run_emulator_command(["--port", "0", "--db", str(tmp_path / "db"), "--seed", "--ready-file", str(ready)]) == 1
    err = capsys.readouterr().err
    assert f"syncmap-tui emulator: cannot seed --db {tmp_path / 'db'}: database or disk is full" in err, err
    assert not ready.exists()


@pytest.mark.parametrize("content", [b"SQLite format 3\x00" + bytes(100), b"my-secret-token\n", b"notes\nmore notes\n"])
def test_a_ready_file_path_that_holds_anything_but_a_url_is_refused_not_removed(tmp_path, content):
    """`--db data.sqlite3 --ready-file data.sqlite3` (a slip of tab completion) deleted the
    database at start, and `--ready-file token.txt` the token file: a file left by an earlier
    emulator holds one URL line, and only such a file is removed."""
    victim = tmp_path / "data"
    victim.write_bytes(content)
    with pytest.raises(cli.CommandLineError, match="is not a ready file"):
        cli.prepare_ready_file(str(victim))
    assert victim.read_bytes() == content


def test_an_empty_file_or_one_url_line_at_the_ready_file_path_is_removed(tmp_path):
    for content in ("", "http://127.0.0.1:8777\n", "http://[::1]:8777\n"):
        ready = tmp_path / "url"
        ready.write_text(content, encoding="utf-8")
        assert cli.prepare_ready_file(str(ready)) == ready
        assert not ready.exists()
