"""`syncmap-tui export` / `import` as commands, on the embedded emulator (--demo) in a private HOME."""

from __future__ import annotations

import json
import stat

import pytest

from syncmap_tui import cli


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_export_then_import_into_another_map_of_the_demo(tmp_path, capsys):
    path = tmp_path / "edge.jsonl"
    code, out, err = run(capsys, "export", "--demo", "demo-store", "edge-cases", "-o", str(path))
    assert code == 0 and out == ""
    lines = path.read_bytes().splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "syncmap-tui map export" and header["map"] == "edge-cases"
    assert f"Exported {len(lines) - 1:,} items" in err
    assert stat.S_IMODE(path.stat().st_mode) == 0o600, "item data is often personal data"
    assert b"\x1b" not in path.read_bytes()

    code, out, err = run(capsys, "import", "--demo", "Demo Store", "empty", str(path))  # a friendly name
    assert code == 0, err
    assert f"{len(lines) - 1:,} created" in err

    code, out, err = run(capsys, "import", "--demo", "demo-store", "empty", str(path))
    assert code == 0 and f"0 created, 0 updated, {len(lines) - 1:,} already as in the file" in err


def test_export_to_standard_output(capsys):
    code, out, err = run(capsys, "export", "--demo", "demo-store", "carts")
    assert code == 0
    assert [json.loads(line).get("key") for line in out.splitlines()] == [None, "cart-1", "cart-2"]


def test_a_failed_export_leaves_the_file_as_it_was(tmp_path, capsys):
    path = tmp_path / "old.jsonl"
    path.write_text("previous export\n")
    code, _, err = run(capsys, "export", "--demo", "demo-store", "no-such-map", "-o", str(path))
    assert code == 2 and "Map no-such-map not found" in err
    assert path.read_text() == "previous export\n"


def test_read_only_refuses_an_import_but_not_a_dry_run(tmp_path, capsys):
    path = tmp_path / "carts.jsonl"
    assert run(capsys, "export", "--demo", "demo-store", "carts", "-o", str(path))[0] == 0
    code, _, err = run(capsys, "import", "--demo", "--read-only", "demo-store", "empty", str(path))
    assert code == 2 and "read-only" in err
    code, _, err = run(capsys, "import", "--demo", "--read-only", "--dry-run", "demo-store", "empty", str(path))
    assert code == 0 and "2 would be created" in err
    code, _, err = run(capsys, "export", "--demo", "demo-store", "empty")
    assert code == 0 and "Exported 0 items" in err, "the dry run wrote nothing"


def test_a_bad_line_refuses_the_whole_import(tmp_path, capsys):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"key":"first","data":{}}\n{"key":"second","data":[]}\n')
    code, _, err = run(capsys, "import", "--demo", "demo-store", "empty", str(path))
    assert code == 2 and "line 2" in err and "Nothing was imported" in err
    _, out, _ = run(capsys, "export", "--demo", "demo-store", "empty")
    assert len(out.splitlines()) == 1


def test_failures_exit_non_zero(tmp_path, capsys):
    path = tmp_path / "conflict.jsonl"
    path.write_text('{"key":"cart-1","data":{"items":99}}\n')
    code, _, err = run(capsys, "import", "--demo", "--on-conflict", "fail", "demo-store", "carts", str(path))
    assert code == 1 and "Stopped at a conflict on key 'cart-1'" in err


def test_a_command_after_a_flag_is_refused(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--demo", "export", "demo-store", "orders"])
    assert exited.value.code == 2
    assert "syncmap-tui -- export" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["export", "import", "emulator"])
def test_a_service_named_like_a_command_is_deep_linked_after_a_double_dash(monkeypatch, name):
    import syncmap_tui.ui.app as app_module

    opened = {}

    class FakeApp:
        return_code = 0

        def run(self, mouse: bool) -> None:
            opened["ran"] = True

    def make_app(target, deep_link):
        opened["link"] = deep_link
        return FakeApp()

    monkeypatch.setattr(app_module, "make_app", make_app)
    assert cli.main(["--demo", "--", name, "orders", "order-1"]) == 0
    link = opened["link"]
    assert (link.service, link.map, link.key) == (name, "orders", "order-1") and opened["ran"]


def test_an_import_into_a_service_whose_writes_call_its_webhook_says_so(tmp_path, capsys):
    path = tmp_path / "flags.jsonl"
    path.write_text('{"key":"new-flag","data":{"on":true}}\n')
    code, _, err = run(capsys, "import", "--demo", "feature-flags", "flags", str(path))
    assert code == 0 and "calls its webhook on every REST write" in err
    code, _, err = run(capsys, "import", "--demo", "demo-store", "empty", str(path))
    assert "webhook" not in err


def test_a_pipe_is_refused_rather_than_used_up_by_the_check(tmp_path, capsys):
    import os

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)  # so that opening it to read does not wait
    try:
        code, _, err = run(capsys, "import", "--demo", "demo-store", "empty", str(fifo))
    finally:
        os.close(writer)
    assert code == 2 and "not a regular file" in err
