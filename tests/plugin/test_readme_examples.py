"""The README's "Use the emulator in your tests" examples, run as they are written.

A code block is marked with `<!-- test: NAME -->` on the line before it. The shell example starts
the installed `syncmap-tui emulator` and runs the Python example, then (where Node and the
`twilio` npm package are installed; nothing is downloaded) the Node example.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from test_sync_emulator_plugin import run_project

README = Path(__file__).resolve().parents[2] / "README.md"
MARKED_BLOCK = re.compile(r"^<!-- test: (?P<name>[\w-]+) -->\n```\w*\n(?P<code>.*?)^```$", re.MULTILINE | re.DOTALL)
RUN_PYTHON = "python example.py"
RUN_NODE = "node example.js"
STALE_WRITE_REFUSED = "stale write refused: 412 54205"


def readme_blocks() -> dict[str, str]:
    blocks: dict[str, str] = {}
    for match in MARKED_BLOCK.finditer(README.read_text(encoding="utf-8")):
        assert match["name"] not in blocks, f"two README blocks are marked {match['name']}"
        blocks[match["name"]] = match["code"]
    return blocks


def test_the_readme_marks_every_example_this_file_runs():
    assert set(readme_blocks()) == {"pytest-example", "shell-example", "python-example", "node-example"}
    assert RUN_PYTHON in readme_blocks()["shell-example"]


def test_the_pytest_example(pytester):
    pytester.makepyfile(test_readme_example=readme_blocks()["pytest-example"])
    run_project(pytester).assert_outcomes(passed=3)


def example_environment(home: Path) -> dict[str, str]:
    """The installed commands first on PATH (`syncmap-tui`, `python`), no Twilio settings."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("TWILIO_")}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["HOME"] = str(home)
    return env


def run_shell_example(folder: Path, client_command: str) -> subprocess.CompletedProcess[str]:
    script = readme_blocks()["shell-example"].replace(RUN_PYTHON, client_command)
    # The emulator shares the script's stdout: run() returns only once it has exited too.
    return subprocess.run(
        ["bash", "-c", script],
        cwd=folder,
        env=example_environment(folder),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def test_the_python_example_through_the_shell_example(tmp_path):
    (tmp_path / "example.py").write_text(readme_blocks()["python-example"], encoding="utf-8")
    result = run_shell_example(tmp_path, RUN_PYTHON)
    assert result.returncode == 0, result.stderr
    assert STALE_WRITE_REFUSED in result.stdout.splitlines()
    assert not (tmp_path / "sync-url.txt").exists()  # the emulator exited cleanly on SIGTERM


def test_the_shell_example_never_reads_the_url_of_an_emulator_that_was_killed(tmp_path):
    """kill -9 leaves the ready file behind. The emulator removes it when it starts, but a script
    that polls at once reads the file first: the example went on with the dead server's URL."""
    dead_url = "http://127.0.0.1:9"
    (tmp_path / "sync-url.txt").write_text(dead_url + "\n", encoding="utf-8")
    result = run_shell_example(tmp_path, 'echo "client uses $SYNC_BASE_URL"')
    assert result.returncode == 0, result.stderr
    used = [line for line in result.stdout.splitlines() if line.startswith("client uses ")]
    assert used and used != [f"client uses {dead_url}"], result.stdout


def node_with_twilio(folder: Path) -> bool:
    if shutil.which("node") is None:
        return False
    probe = subprocess.run(["node", "-e", "require.resolve('twilio')"], cwd=folder, capture_output=True, timeout=30)
    return probe.returncode == 0


def test_the_node_example_through_the_shell_example(tmp_path):
    if not node_with_twilio(tmp_path):
        pytest.skip("needs node and the twilio npm package (e.g. NODE_PATH=/path/to/node_modules)")
    (tmp_path / "example.js").write_text(readme_blocks()["node-example"], encoding="utf-8")
    result = run_shell_example(tmp_path, RUN_NODE)
    assert result.returncode == 0, result.stderr
    assert STALE_WRITE_REFUSED in result.stdout.splitlines()
    assert not (tmp_path / "sync-url.txt").exists()
