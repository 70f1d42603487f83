"""What the bench scripts share: an isolated home, a program in a real pty, medians, and one result line.

Every script measures this project and a reference in the same run (machines are noisy) and
prints both, their ratio and the target with PASS or FAIL. None of this is a pytest test.
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCH_DIR = Path(__file__).resolve().parent
PYTHON = sys.executable

if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

XDG_NAMES = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME")
PYCACHE = Path(tempfile.gettempdir()) / "syncmap-bench-pycache"
"""Child processes keep bytecode here, as an installed app has it (pip compiles on install): this
environment sets PYTHONDONTWRITEBYTECODE, which would make every start compile the project again."""


# -- results -------------------------------------------------------------------------------------


@dataclass
class Result:
    """One figure of the project against the same figure of a reference, and the target."""

    name: str
    project: float
    reference: float | None
    unit: str
    target: str
    passed: bool | None
    """None: reported for information, no target applies."""
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.reference in (None, 0):
            return None
        return self.project / self.reference

    def line(self) -> str:
        ratio = "—" if self.ratio is None else f"{self.ratio:.2f}×"
        reference = "—" if self.reference is None else f"{fmt(self.reference)} {self.unit}"
        verdict = "" if self.passed is None else ("PASS" if self.passed else "FAIL")
        note = f"  ({self.note})" if self.note else ""
        return (
            f"{self.name:<44} project {fmt(self.project):>9} {self.unit:<6} reference {reference:>14}"
            f"  ratio {ratio:>7}  target {self.target:<14} {verdict}{note}"
        )


def fmt(value: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def report(results: list[Result]) -> int:
    """Print every result; exit status 1 if a target failed."""
    print()
    for result in results:
        print(result.line(), flush=True)
    failed = [r for r in results if r.passed is False]
    return 1 if failed else 0


def median(values: list[float]) -> float:
    return statistics.median(values)


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `fraction` of the values at or below it."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * fraction // 1))
    return ordered[int(rank) - 1]


# -- an isolated home ------------------------------------------------------------------------------


@contextmanager
def isolated_home(prefix: str = "syncmap-bench-") -> Iterator[dict[str, str]]:
    """A temporary HOME with the XDG dirs inside it; yields an environment for child processes.

    The bench process itself also reads it (os.environ is patched) so that `embedded_db_path()`
    names the child's database. Restored and removed on exit.
    """
    home = Path(tempfile.mkdtemp(prefix=prefix))
    saved = {name: os.environ.get(name) for name in ("HOME", *XDG_NAMES)}
    try:
        os.environ["HOME"] = str(home)
        for name in XDG_NAMES:
            folder = home / name.lower()
            folder.mkdir()
            os.environ[name] = str(folder)
        yield child_env()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        shutil.rmtree(home, ignore_errors=True)


def child_env(columns: int = 80, rows: int = 24, **extra: str) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("TEXTUAL", "TWILIO_")) and name.lower() not in {"http_proxy", "https_proxy", "all_proxy"}
    }
    env.update(TERM="xterm-256color", COLUMNS=str(columns), LINES=str(rows), PYTHONUNBUFFERED="1", COLORTERM="truecolor")
    env.pop("NO_COLOR", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(PYCACHE)
    env.update(extra)
    return env


# -- a program in a pty ------------------------------------------------------------------------------


@dataclass
class PtyProgram:
    """A process in a real pseudo-terminal; every byte it writes is counted and fed to a pyte screen."""

    argv: list[str]
    env: dict[str, str]
    columns: int = 80
    rows: int = 24
    started: float = field(init=False)
    total_bytes: int = field(init=False, default=0)
    last_arrival: float = field(init=False, default=0.0)
    """perf_counter() when the latest bytes were read off the pty, before pyte parsed them."""

    def __post_init__(self) -> None:
        import pexpect
        import pyte

        self.screen = pyte.Screen(self.columns, self.rows)
        self.stream = pyte.ByteStream(self.screen)
        self.started = time.perf_counter()
        self.child = pexpect.spawn(
            self.argv[0], self.argv[1:], cwd=str(REPO_ROOT), env=self.env,
            dimensions=(self.rows, self.columns), echo=False,
        )
        self.child.delaybeforesend = None  # pexpect sleeps 50 ms before every send by default

    def read(self, timeout: float) -> int:
        """Read what arrives within `timeout` s of the first byte (0: only what is there); bytes read."""
        import pexpect

        got = 0
        wait = timeout
        while True:
            try:
                data = self.child.read_nonblocking(1 << 16, timeout=wait)
            except (pexpect.TIMEOUT, pexpect.EOF):
                break
            self.last_arrival = time.perf_counter()
            got += len(data)
            self.stream.feed(data)
            wait = 0.0
        self.total_bytes += got
        return got

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, condition: Callable[[str], bool] | str, timeout: float = 30.0) -> float:
        """Read until the screen meets `condition` (or shows the text); seconds since the process started."""
        check = (lambda screen: condition in screen) if isinstance(condition, str) else condition
        deadline = time.perf_counter() + timeout
        while True:
            self.read(0.005)
            if check(self.text()):
                return time.perf_counter() - self.started
            if not self.child.isalive() or time.perf_counter() > deadline:
                raise RuntimeError(f"never saw what was awaited on the screen of {self.argv}:\n{self.text()}")

    def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> int:
        """Read until nothing arrives for `quiet` s; bytes read meanwhile."""
        deadline = time.perf_counter() + timeout
        got = 0
        while time.perf_counter() < deadline:
            chunk = self.read(quiet)
            got += chunk
            if chunk == 0:
                break
        return got

    def cpu_seconds(self) -> float:
        """User + system CPU time the process has used so far (Linux /proc)."""
        fields = Path(f"/proc/{self.child.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def send(self, keys: str) -> None:
        self.child.send(keys.encode("utf-8"))

    def close(self) -> None:
        if self.child.isalive():
            self.child.sendcontrol("q")
            deadline = time.perf_counter() + 3
            while self.child.isalive() and time.perf_counter() < deadline:
                self.read(0.05)
        if self.child.isalive():
            self.child.terminate(force=True)
        self.child.close(force=True)

    def __enter__(self) -> "PtyProgram":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def app_argv(*args: str) -> list[str]:
    return [PYTHON, "-m", "syncmap_tui", *args]


def reference_argv(*args: str) -> list[str]:
    return [PYTHON, str(BENCH_DIR / "ref_textarea_app.py"), *args]


# -- a `syncmap-tui emulator` process ------------------------------------------------------------


class EmulatorProcess:
    """`python -m syncmap_tui emulator --port 0 <args>` on loopback (or `argv`, a server that prints
    the same "listening on URL" line); `url` once it listens. Stopped on exit."""

    def __init__(self, *args: str, argv: list[str] | None = None) -> None:
        import queue
        import subprocess
        import threading

        from syncmap_tui.emulator.cli import LISTENING

        self.process = subprocess.Popen(
            argv or [PYTHON, "-m", "syncmap_tui", "emulator", "--port", "0", *args],
            cwd=REPO_ROOT, env=child_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()

        def read() -> None:
            assert self.process.stdout is not None
            for line in self.process.stdout:
                lines.put(line.rstrip("\n"))
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + 30
        while True:
            line = lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if line is None:
                raise RuntimeError(f"the emulator exited with {self.process.wait()}")
            if line.startswith(LISTENING):
                self.url = line.removeprefix(LISTENING).strip()
                return

    def stop(self) -> None:
        import subprocess

        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> "EmulatorProcess":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
