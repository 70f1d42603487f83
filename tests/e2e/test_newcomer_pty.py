"""End to end, issue #15: what a newcomer tried at 80×24 in a real terminal.

A key jump is cleared by an empty jump (the status no longer says where the last one landed, and
the list starts at the first key again); and the command palette finds a map of a service that was
never expanded in the tree, and opens it.
"""

from __future__ import annotations

from .conftest import ENTER

TRACEBACK = "Traceback (most recent call last)"

CTRL_F = "\x06"
CTRL_P = "\x10"
CTRL_U = "\x15"


def test_an_empty_jump_clears_the_jump_and_the_palette_opens_a_map_of_an_unexpanded_service(emulator, start_app):
    app = start_app("demo-store", "catalog", "--base-url", emulator.url)
    app.wait_for("sku-00000", "loaded")

    app.send(CTRL_F)
    app.settle()
    app.send("sku-0450")
    app.send(ENTER)
    app.wait_for("from 'sku-0450'", "sku-04500")
    assert "sku-00000" not in app.text()

    app.send(CTRL_F)
    app.settle()
    app.send(CTRL_U)  # the field still holds the last jump: empty it
    app.send(ENTER)
    app.wait_until(
        lambda text: "from 'sku-0450'" not in text and "sku-00000" in text,
        what="the list from its first key, the jump forgotten",
    )

    # "Chat Presence" was never expanded: its map "presence" is found all the same, and opened.
    assert "presence" not in app.text().replace("Chat Presence", "")
    app.send(CTRL_P)
    app.settle()
    app.send("map presence")
    app.wait_for("map: Chat Presence › presence")
    app.settle()
    app.send(ENTER)
    app.wait_for("Chat Presence › presence", "user:alice")
    assert TRACEBACK not in app.text()
