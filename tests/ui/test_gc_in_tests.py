"""A headless `run` (a snapshot test's screenshot) leaves the test process's garbage collector
alone: the freeze that suits the user's process kept every earlier test's garbage for good."""

from __future__ import annotations

import gc

from .helpers import settle


def test_a_headless_run_neither_freezes_nor_retunes_the_collector(build_app):
    frozen, thresholds = gc.get_freeze_count(), gc.get_threshold()
    app = build_app("demo-store", "orders", "order-0001")

    async def auto_pilot(pilot) -> None:
        await settle(pilot)  # past the first frame with the services, where the app would freeze
        app.exit()

    app.run(headless=True, auto_pilot=auto_pilot, size=(80, 24))
    assert not app.manage_gc
    assert gc.isenabled()
    assert gc.get_threshold() == thresholds
    assert gc.get_freeze_count() <= frozen  # frozen objects may die; none were added
