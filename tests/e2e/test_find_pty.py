"""Find in values in the real process: escape stops a scan at once, and no further page is scanned."""

from __future__ import annotations

import re
import time

from .conftest import CTRL_Q, ENTER, ESCAPE

CTRL_G = "\x07"
PAGE_LATENCY = 0.1
SCANNED = re.compile(r"([\d,]+) items scanned")


def scanned(text: str) -> int:
    found = SCANNED.search(text)
    return int(found.group(1).replace(",", "")) if found else 0


def test_escape_stops_a_find_at_once(emulator, start_app):
    app = start_app("demo-store", "catalog", "--base-url", emulator.url)
    app.wait_for("sku-00000")
    with emulator.client() as server:
        # Each page now takes 0.1 s on the server: the 100 pages of the catalog take 10 s or more.
        response = server.post("/__emulator__/faults", json={"latency": PAGE_LATENCY, "methods": "GET"})
        assert response.status_code == 200, response.text
        app.send(CTRL_G)
        app.wait_for("Find in the values of catalog")
        app.send("nothing-has-this" + ENTER)
        app.wait_until(lambda text: scanned(text) >= 200, what="two pages scanned")
        app.send(ESCAPE)
        stopped = app.wait_for("stopped (escape)")
        at_escape = scanned(stopped)
        assert at_escape < 10_000
        time.sleep(5 * PAGE_LATENCY)  # five pages' time
        app.settle()
        assert scanned(app.text()) == at_escape, "a page was scanned after escape"
        assert "Find in the values of catalog" in app.text()  # the first escape stops; the dialog stays
        server.post("/__emulator__/reset")
    app.send(ESCAPE)
    app.wait_until(lambda text: "Find in the values" not in text, what="the dialog to close")
    app.send(CTRL_Q)
    assert app.wait_for_exit() == 0
