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


async def test_the_users_process_collects_nothing_during_start_up_then_freezes_it(build_app, monkeypatch):
    """What `run` does in the real process (`manage_gc`): no collection until the first frame with
    the services, then start-up frozen and collections back on with the app's thresholds."""
    from syncmap_tui.ui.app import GC_THRESHOLDS

    thresholds = gc.get_threshold()
    app = build_app("demo-store", "orders", manage_gc=True)
    seen_while_starting: list[bool] = []
    started = app.started

    def started_and_seen() -> None:
        seen_while_starting.append(gc.isenabled())
        started()

    monkeypatch.setattr(app.main_screen, "started", started_and_seen)  # it calls the app's when the first frame is out
    frozen_before = gc.get_freeze_count()
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot)
            assert seen_while_starting == [False]  # collections were off until the first frame
            assert gc.isenabled()
            assert gc.get_threshold() == GC_THRESHOLDS
            assert gc.get_freeze_count() > frozen_before
    finally:
        gc.enable()
        gc.set_threshold(*thresholds)
