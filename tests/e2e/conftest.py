"""The real `syncmap-tui` processes: a `syncmap-tui emulator` on a free loopback port, and the app in
a pseudo-terminal whose output is fed to a pyte screen, so that tests read what a user would see.

Every wait has a deadline; every process started here is killed in a `finally`.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

import httpx
import pexpect
import pyte
import pytest

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.emulator.cli import LISTENING
from syncmap_tui.ui.type_ahead import TYPE_AHEAD_GUARD_SECONDS

REPO_ROOT = Path(__file__).resolve().parents[2]
COLUMNS, ROWS = 80, 24
WAIT = 15.0
"""Seconds for one wait on the screen or a process: generous for a noisy 2-core machine."""

CTRL_A = "\x01"
CTRL_Q = "\x11"
CTRL_S = "\x13"
ESCAPE = "\x1b"
TAB = "\t"
SHIFT_TAB = "\x1b[Z"
ENTER = "\r"
UP, DOWN, RIGHT, LEFT = "\x1b[A", "\x1b[B", "\x1b[C", "\x1b[D"


def child_env(**extra: str) -> dict[str, str]:
    """The test's environment (HOME and XDG dirs already isolated by tests/conftest.py, TWILIO_*
    unset), made fit for a terminal app at 80×24 that talks to loopback only."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("TEXTUAL") and name.lower() not in {"http_proxy", "https_proxy", "all_proxy"}
    }
    env.update(
        TERM="xterm-256color",
        COLUMNS=str(COLUMNS),
        LINES=str(ROWS),
        NO_PROXY="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
    )
    env.pop("NO_COLOR", None)
    env.update(extra)
    return env


# ---------------------------------------------------------------------------------------------
# `syncmap-tui emulator`


class Emulator:
    """`python -m syncmap_tui emulator --port 0 ...`; stdout is read by a thread so that waiting
    for the `Sync emulator listening on URL` line has a deadline."""

    def __init__(self, *args: str, env: dict[str, str], log: Path) -> None:
        self.output: list[str] = []
        self._log = log.open("w+", encoding="utf-8")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "syncmap_tui", "emulator", "--port", "0", *args],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            encoding="utf-8",
        )
        self._lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.url = self._wait_for_url()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def _wait_for_url(self, timeout: float = WAIT) -> str:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=remaining)
            except queue.Empty:
                break
            if line is None:
                raise AssertionError(f"the emulator exited early: {self.output} {self.stderr()}")
            self.output.append(line)
            if line.startswith(LISTENING):
                return line.removeprefix(LISTENING).strip()
        raise AssertionError(f"no URL line from the emulator within {timeout} s: {self.output} {self.stderr()}")

    def stderr(self) -> str:
        self._log.flush()
        self._log.seek(0)
        return self._log.read()

    def client(self, **kwargs) -> httpx.Client:
        """Another writer: a plain HTTP client of the emulator with its documented credentials."""
        kwargs.setdefault("auth", (DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN))
        return httpx.Client(base_url=self.url, trust_env=False, timeout=10, **kwargs)

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it lingers; the exit status of the first that worked."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    return self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
            return self.process.returncode
        finally:
            self._log.close()


@pytest.fixture
def emulator(isolated_home, tmp_path) -> Iterator[Emulator]:
    """A seeded emulator process on a free loopback port, stopped (status 0) after the test."""
    running = Emulator("--seed", env=child_env(), log=tmp_path / "emulator.stderr")
    try:
        yield running
    finally:
        status = running.stop()
    assert status == 0, f"the emulator did not stop cleanly ({status}): {running.stderr()}"


# ---------------------------------------------------------------------------------------------
# The app in a pseudo-terminal


class Terminal:
    """A `syncmap-tui` process in a pty of 80×24, its output kept in a pyte screen.

    `raw` is every byte the app wrote, `screens` every distinct screen text seen while waiting:
    both are there to prove that something (a secret) never showed.
    """

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.screen = pyte.Screen(COLUMNS, ROWS)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = bytearray()
        self.screens: list[str] = []
        self.eof = False
        self.started = time.monotonic()
        self.timeline: list[str] = []
        """What was waited for and when (seconds since start): printed after each test, which
        pytest shows when the test fails."""
        self.child = pexpect.spawn(
            sys.executable,
            ["-m", "syncmap_tui", *args],
            cwd=str(REPO_ROOT),
            env=env,
            dimensions=(ROWS, COLUMNS),
            echo=False,
        )

    # -- output ---------------------------------------------------------------------------

    def pump(self, wait: float = 0.05) -> bool:
        """Feed what the app has written to the screen, waiting up to `wait` s for the first byte.
        True if anything arrived."""
        got = False
        timeout = wait
        stop = time.monotonic() + wait + 0.5  # a chatty app must not keep the caller here forever
        while not self.eof and time.monotonic() < stop:
            try:
                data = self.child.read_nonblocking(65536, timeout=timeout)
            except pexpect.TIMEOUT:
                break
            except pexpect.EOF:
                self.eof = True
                break
            self.raw += data
            self.stream.feed(data)
            got = True
            timeout = 0
        if got:
            text = self.text()
            if not self.screens or self.screens[-1] != text:
                self.screens.append(text)
        return got

    def display(self) -> list[str]:
        return list(self.screen.display)

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, *texts: str, timeout: float = WAIT) -> str:
        """Wait until every one of `texts` is on the screen at once; return the screen text."""
        return self.wait_until(lambda screen: all(t in screen for t in texts), what=" and ".join(map(repr, texts)), timeout=timeout)

    def wait_for_dialog(self, *texts: str, timeout: float = WAIT) -> str:
        """Wait for a dialog showing `texts`, then out its type-ahead guard: keys typed sooner
        are ignored (SyncMapApp.on_event), as those of someone who had not seen it yet."""
        self.wait_for(*texts, timeout=timeout)
        time.sleep(TYPE_AHEAD_GUARD_SECONDS)  # from when it is seen: the app showed it earlier still
        self.timeline.append(f"{time.monotonic() - self.started:6.2f}s waited out the dialog's guard")
        self.pump()  # the rest of the dialog's first frame, if `texts` came before it all
        return self.text()

    def wait_until(self, condition: Callable[[str], bool], *, what: str, timeout: float = WAIT) -> str:
        began = time.monotonic()
        deadline = began + timeout
        while True:
            self.pump()
            text = self.text()
            if condition(text):
                now = time.monotonic()
                self.timeline.append(f"{now - self.started:6.2f}s (+{now - began:5.2f}s) {what}")
                return text
            if self.eof:
                raise AssertionError(f"the app exited ({self.exit_status()}) before showing {what}:\n{text}")
            if time.monotonic() > deadline:
                raise AssertionError(f"not on the screen within {timeout} s: {what}\n{text}")

    def cursor_line(self) -> str:
        """The screen line that holds the terminal's cursor: Textual puts it at the focused
        TextArea's cursor (for input methods), even while it is hidden."""
        return self.screen.display[self.screen.cursor.y]

    def wait_for_cursor_on(self, text: str, timeout: float = WAIT) -> None:
        """Wait until the cursor is on the line that shows `text`.

        Keys handled by bindings (arrows, home, ...) reach their widget only after the key has
        bubbled up to the app, so printable keys sent in the same burst overtake them. Send a
        movement, wait for it with this, and only then type."""
        self.wait_until(lambda _: text in self.cursor_line(), what=f"the cursor on the line with {text!r}", timeout=timeout)

    def style_of(self, text: str) -> tuple:
        """The colours and attributes of the cells of the first `text` on the screen."""
        for y, line in enumerate(self.screen.display):
            x = line.find(text)
            if x >= 0:
                row = self.screen.buffer[y]
                return tuple((c.fg, c.bg, c.bold, c.reverse, c.underscore) for c in (row[x + i] for i in range(len(text))))
        raise AssertionError(f"{text!r} is not on the screen:\n{self.text()}")

    def wait_for_restyle(self, text: str, before: tuple, timeout: float = WAIT) -> None:
        """Wait until `text` is drawn differently from `before` (a style_of): e.g. it got the focus."""
        self.wait_until(lambda _: self.style_of(text) != before, what=f"{text!r} drawn differently", timeout=timeout)

    def settle(self, quiet: float = 0.3, timeout: float = 5.0) -> None:
        """Read until the app has written nothing for `quiet` seconds (or `timeout` passed)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pump(quiet):
            pass

    # -- input ----------------------------------------------------------------------------

    def send(self, keys: str) -> None:
        self.timeline.append(f"{time.monotonic() - self.started:6.2f}s send {keys!r}")
        self.child.send(keys.encode("utf-8"))

    # -- the process ------------------------------------------------------------------------

    def wait_for_exit(self, timeout: float = WAIT) -> int | None:
        """Read until the app exits; its exit status (None if a signal ended it)."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            if time.monotonic() > deadline:
                raise AssertionError(f"the app did not exit within {timeout} s:\n{self.text()}")
            self.pump(0.1)
        while self.child.isalive():
            if time.monotonic() > deadline:
                raise AssertionError(f"the app closed its terminal but did not exit within {timeout} s")
            time.sleep(0.05)
        self.timeline.append(f"{time.monotonic() - self.started:6.2f}s exited: {self.exit_status()}")
        return self.exit_status()

    def exit_status(self) -> int | None:
        if self.child.isalive():
            return None
        return self.child.exitstatus

    def kill(self) -> None:
        """SIGKILL at once: pexpect's terminate() tries SIGHUP, SIGCONT and SIGINT first, sleeping
        after each, and close() sleeps again: 0.3-0.7 s of every pty test's teardown (measured).
        A test that means to hang up or interrupt the app sends that signal itself."""
        if self.child.isalive():
            os.kill(self.child.pid, signal.SIGKILL)
            deadline = time.monotonic() + WAIT
            while self.child.isalive() and time.monotonic() < deadline:
                time.sleep(0.01)
        self.child.ptyproc.delayafterclose = 0  # the process is gone: nothing to wait for
        self.child.close(force=True)


@pytest.fixture
def start_app(isolated_home) -> Iterator[Callable[..., Terminal]]:
    """`start_app(*args, env=...)` runs `python -m syncmap_tui *args` in a pty; killed after the test."""
    started: list[Terminal] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Terminal:
        terminal = Terminal(list(args), env if env is not None else child_env())
        started.append(terminal)
        return terminal

    try:
        yield start
    finally:
        for terminal in started:
            terminal.kill()
            print(f"timeline of syncmap-tui {' '.join(terminal.child.args[3:])}:", *terminal.timeline, sep="\n  ")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`--dist loadgroup`) the pty tests run one after another on one worker:
    each starts real processes and reads a terminal under deadlines, which a machine busy with
    three other workers' tests would stretch."""
    e2e = Path(__file__).parent
    for item in items:
        if e2e in Path(item.fspath).parents:
            item.add_marker(pytest.mark.xdist_group("pty"))
