"""End to end: the real `syncmap-tui` command in a pseudo-terminal against a real
`syncmap-tui emulator` process, asserting on the screen a user would see (pyte) and on the server."""

from __future__ import annotations

import json
import subprocess
import sys

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID

from .conftest import CTRL_Q, CTRL_S, DOWN, ENTER, ESCAPE, REPO_ROOT, TAB, WAIT, child_env

ITEM_PATH = "/v1/Services/demo-store/Maps/orders/Items/order-0001"
TRACEBACK = "Traceback (most recent call last)"


def fetch_item(client) -> dict:
    response = client.get(ITEM_PATH)
    assert response.status_code == 200, response.text
    return response.json()


def test_deep_link_edit_save_conflict_and_quit(emulator, start_app):
    with emulator.client() as server:
        loaded = fetch_item(server)
        app = start_app("demo-store", "orders", "order-0001", "--base-url", emulator.url)

        # 1. The deep link opens the item in the editor, which has the focus: type a new first member.
        app.wait_for('"status": "paid"', f"order-0001  rev {loaded['revision']}", "✓ valid JSON")
        app.send(DOWN)
        app.wait_for_cursor_on('"status": "paid"')
        app.send('"e2e": "first", ')
        app.wait_for('"e2e": "first",   "status": "paid",', "● modified", "✓ valid JSON")
        app.send(CTRL_S)
        screen = app.wait_for("Saved 'order-0001'")

        # 2. The server has the edit, at a new revision, and the editor says so.
        saved = fetch_item(server)
        assert saved["data"] == {"e2e": "first", **loaded["data"]}
        assert saved["revision"] != loaded["revision"]
        app.wait_until(
            lambda text: f"order-0001  rev {saved['revision']}" in text and "● modified" not in text,
            what=f"the heading at revision {saved['revision']}, unmodified",
        )
        assert TRACEBACK not in screen

        # 3. Someone else writes the item behind the app's back; then the app saves another edit.
        theirs_data = {"status": "cancelled", "by": "other-writer"}
        response = server.post(ITEM_PATH, data={"Data": json.dumps(theirs_data)})
        assert response.status_code == 200, response.text
        theirs = response.json()
        assert theirs["revision"] != saved["revision"]

        app.send('"second": 2, ')
        app.wait_for('"e2e": "first", "second": 2,', "● modified", "✓ valid JSON")
        app.send(CTRL_S)

        # 4. The save is refused with If-Match: the conflict dialog shows, and their value stands.
        screen = app.wait_for_dialog("Someone else changed this item")
        assert f"revision {saved['revision']}" in screen and f"revision {theirs['revision']}" in screen, screen
        assert fetch_item(server)["data"] == theirs_data
        assert fetch_item(server)["revision"] == theirs["revision"]

        # Escape goes back to editing, with the edit still unsaved (wait_for_dialog waited out the
        # type-ahead guard).
        app.send(ESCAPE)
        app.wait_until(
            lambda text: "Someone else changed this item" not in text and "● modified" in text,
            what="the editor again, still modified",
        )

        # ctrl+q asks about the unsaved edit; tab moves from Save to Discard; enter quits.
        app.send(CTRL_Q)
        app.wait_for_dialog("Unsaved changes", "has unsaved changes", "Discard", "Cancel")
        app.settle()
        unfocused = app.style_of("Discard")
        app.send(TAB)
        app.wait_for_restyle("Discard", unfocused)
        app.send(ENTER)
        assert app.wait_for_exit() == 0
        assert TRACEBACK not in app.text()

        # Quitting with discard wrote nothing.
        after = fetch_item(server)
        assert after["data"] == theirs_data and after["revision"] == theirs["revision"]


def test_wrong_credentials_say_connecting_failed_and_never_show_the_token(emulator, start_app):
    token = "wrong-token-5eb2c1"
    env = child_env(TWILIO_ACCOUNT_SID=DEFAULT_ACCOUNT_SID, TWILIO_AUTH_TOKEN=token)
    app = start_app("demo-store", "orders", "order-0001", "--base-url", emulator.url, env=env)

    app.wait_for("Connecting failed", "401", "Not connected")
    app.settle()
    screen = app.text()
    assert "Connecting failed" in screen and "Not connected" in screen, screen
    assert TRACEBACK not in screen
    assert token.encode() not in bytes(app.raw)
    assert not [seen for seen in app.screens if token in seen]

    app.send(CTRL_Q)
    assert app.wait_for_exit() == 0
    assert token.encode() not in bytes(app.raw)
    assert TRACEBACK.encode() not in bytes(app.raw)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "syncmap_tui", *args],
        cwd=REPO_ROOT,
        env=child_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )


def test_help_documents_deep_links_and_config_errors_exit_2(isolated_home):
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: syncmap-tui")
    assert "[service] [map] [key]" in result.stdout
    assert "Deep links take SIDs or unique names" in result.stdout
    assert "item key: opens it in the editor" in result.stdout
    assert "--base-url" in result.stdout and "syncmap-tui emulator" in result.stdout
    assert result.stderr == ""

    result = run_cli("--demo", "--profile", "x")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("syncmap-tui: ") and "--demo" in lines[0] and "--profile" in lines[0]
    assert TRACEBACK not in result.stderr
