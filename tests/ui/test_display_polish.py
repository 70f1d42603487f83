"""What the table and the tree show (issue #15): a countdown that reaches 'expired', with no timer
when nothing expires, and keys that differ invisibly told apart."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from syncmap_tui.ui import formatting

from .conftest import PINNED_NOW
from .helpers import SIZE, SERVICE, answer, main_screen, open_row, record_notifications, settle, wait_for_screen


def expires_cell(table, key: str) -> str:
    return table.get_cell(key, "expires").plain


def hint_of(field) -> str:
    return str(field.query_one(".ttl-hint").render())


def pin_the_clock(monkeypatch, seconds: float) -> None:
    monkeypatch.setattr(formatting, "now_utc", lambda: PINNED_NOW + timedelta(seconds=seconds))


async def test_the_carts_countdowns_and_the_map_ttl_asked_before_it_is_saved(build_app, monkeypatch, other_writer):
    """One start for the carts map (each start costs ~0.27 s of CPU with a deep link): the table's
    and the editor's countdowns on cart-2 first, at the pinned clock; then cart-1, opened from the
    table, for the map's TTL, whose save comes last."""
    from syncmap_tui.ui.dialogs.confirm import ConfirmDialog


    app = build_app(SERVICE, "carts", "cart-2")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_screen(pilot).item_table
        editor = main_screen(pilot).editor

        # The expires column counts down to expired.
        assert expires_cell(table, "cart-2") == "in 10m", "the table's countdown: the cell at start"
        assert table._countdown is not None, "an expiring item is shown: the countdown runs"
        # The TTL hints count down only while something expires (its first half: cart-2 expires).
        assert hint_of(editor.item_ttl) == "now: 2026-01-15 12:10 (in 10m)", "the item TTL hint at start"
        assert editor._ttl_countdown is not None, "an expiring item is open: the hint's countdown runs"

        # The countdown repaints only cells whose text changed.
        updated = []
        real_refresh = table.refresh

        def refresh(*regions, **kwargs):
            updated.append(regions)
            return real_refresh(*regions, **kwargs)

        monkeypatch.setattr(table, "refresh", refresh)
        pin_the_clock(monkeypatch, 20)
        table._count_down()
        assert expires_cell(table, "cart-2") == "in 9m 40s", "repaint: the cell after 20 s"
        assert len(updated) == 1 and len(updated[0]) == 1, "one region repainted"
        assert updated[0][0].height == 1 and updated[0][0].width < 20, "the cell, not the table"
        table._count_down()
        assert len(updated) == 1, "a cell that reads the same is not repainted"

        # The expires column counts down to expired (its second half).
        pin_the_clock(monkeypatch, 561)
        table._count_down()
        assert expires_cell(table, "cart-2") == "in 39s", "the table's countdown after 561 s"
        pin_the_clock(monkeypatch, 600)
        table._count_down()
        assert expires_cell(table, "cart-2") == "expired", "the table's countdown reaches expired"

        pin_the_clock(monkeypatch, 601)
        editor._show_ttl_hints()
        assert hint_of(editor.item_ttl) == "now: 2026-01-15 12:10 (expired)", "the item TTL hint reaches expired"

        # The map TTL is labelled as the map's and shows its expiry.
        pin_the_clock(monkeypatch, 0)
        await open_row(pilot, "cart-1")
        assert str(editor.collection_ttl.query_one("Label").render()) == "map TTL", "the map TTL's label"
        editor.show_map_expiry(PINNED_NOW + timedelta(days=7))
        assert hint_of(editor.collection_ttl) == "now: map 2026-01-22 12:00 (in 7d)", "the map's expiry"
        editor.collection_ttl.value = "1d"
        await pilot.pause()
        assert hint_of(editor.collection_ttl).startswith("→ whole map expires 2026-01-16 12:00 (in 1d)"), \
            "a typed map TTL: the hint says when the whole map would expire"
        editor.collection_ttl.value = ""
        await pilot.pause()

        # A save that sets the map TTL asks first, then shows the new expiry and leaves the TTL field.
        # Issue #15: saving `0` in CollectionTtl by accident cleared a map's expiry, unasked.
        assert hint_of(editor.collection_ttl) == "now: map 2026-01-22 12:00 (in 7d)", "the map's expiry, untyped"
        editor.collection_ttl.input.focus()
        await pilot.press("0")
        await pilot.press("ctrl+s")
        dialog = await wait_for_screen(pilot, ConfirmDialog)
        fields = str(dialog.query_one("#confirm-fields").render())
        assert "2026-01-22 12:00 (in 7d)" in fields and "never expires" in fields, f"the dialog's before and after: {fields}"
        await answer(pilot, ConfirmDialog, False)
        await settle(pilot)
        sync_map = await other_writer.fetch_map(SERVICE, "carts")
        assert sync_map.date_expires is not None, "declined: the map keeps its expiry"
        assert (await other_writer.fetch_item(SERVICE, sync_map.sid, "cart-1")).revision == "0", "declined: no save"

        await pilot.press("ctrl+s")
        await answer(pilot, ConfirmDialog, True)
        await settle(pilot)
        assert (await other_writer.fetch_map(SERVICE, "carts")).date_expires is None, "confirmed: the map's expiry cleared"
        assert hint_of(editor.collection_ttl) == "now: map never expires", "confirmed: the hint shows the new expiry"
        assert editor.json_area.has_focus, "after the save the focus is back in the JSON"


async def test_nothing_expires_in_orders_so_no_timer_runs_and_alt_e_shows_the_whole_json_error(build_app):
    """One start on an item of a map where nothing expires, at the smallest size the app is made
    for (the alt+e step needs a line that 80 columns cut; the others read no width)."""

    app = build_app(SERVICE, "orders", "order-0001")
    told = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_screen(pilot).item_table
        editor = main_screen(pilot).editor

        # No countdown timer when nothing expires (the table).
        assert table.row_count > 0, "the orders are shown"
        assert table._countdown is None, "idle must stay 0 B/s: no timer without an expiring item"

        # The TTL hints count down only while something expires (its second half: nothing does).
        assert hint_of(editor.item_ttl) == "now: never expires", "the item TTL hint of an item without TTL"
        assert editor._ttl_countdown is None, "nothing expires: no timer (idle stays 0 B/s)"

        # Alt+e shows the whole JSON error that its line cuts.
        editor.replace_text('{"a": 1,, "this error message is long enough to be cut at eighty columns": 2}')
        await pilot.pause()
        validation = editor.query_one("#validation")
        assert validation.size.height == 1, "a parse error takes one line, not the JSON's rows"
        await pilot.press("alt+e")
        await pilot.pause()
        assert any(message == editor.check.error.message for message in told), f"alt+e: the whole error told: {told}"


async def test_every_column_fits_at_80_columns_and_the_dates_keep_their_year_when_wide(build_app):
    """Issue #15: `expires` was cut (`in 23h 50`); at 80 columns the dates drop their year instead."""
    for size, updated in (((80, 24), "01-15 12:00"), ((200, 50), "2026-01-15 12:00")):
        app = build_app(SERVICE, "carts")
        async with app.run_test(size=size) as pilot:
            await settle(pilot)
            table = main_screen(pilot).item_table
            used = sum(column.get_render_width(table) for column in table.columns.values())
            assert used <= table.scrollable_content_region.width, size
            assert not table.show_horizontal_scrollbar, "no row lost to a horizontal scrollbar"
            assert table.get_cell("cart-2", "updated").plain == updated
            assert table.get_cell("cart-2", "expires").plain == "in 10m"


def test_the_private_data_table_members_the_countdown_relies_on_are_there():
    """ItemTable._show_expires writes the cell into DataTable's `_data` and bumps `_update_count`
    (its render caches are keyed on it) so as to repaint one cell: an upgrade that renames either
    must fail here, not leave a countdown that never shows."""
    import inspect

    from textual.widgets import DataTable

    table = DataTable()
    assert isinstance(table._data, dict) and isinstance(table._update_count, int)
    assert "self._update_count" in inspect.getsource(DataTable._render_line_in_row)


async def test_keys_that_differ_invisibly_read_differently_and_a_production_delete_takes_the_characters(
    build_app, other_writer
):
    """One start on the empty map with the look-alike keys in it, under a production profile (which
    the table's steps do not read); the delete comes last."""
    from syncmap_tui.config import Target
    from syncmap_tui.ui.dialogs.confirm import ConfirmDialog


    nfc, nfd = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    sync_map = await other_writer.fetch_map(SERVICE, "empty")
    for key in (nfc, nfd, "sku", "sku ", "a\\x0ab", "a\nb"):
        await other_writer.create_item(SERVICE, sync_map.sid, key, {"k": key})
    target = Target(label="acme-prod", base_url=None, credentials=None, production=True)
    app = build_app(SERVICE, "empty", target=target)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_screen(pilot).item_table

        # Keys that differ invisibly read differently in the table.
        shown = [table.get_row_at(row)[0].plain for row in range(table.row_count)]
        assert len(shown) == 6 and len(set(shown)) == 6, f"six keys, each shown its own way: {shown}"
        assert "cafe\\u0301" in shown and "sku\\x20" in shown and "a\\\\x0ab" in shown and "a\\x0ab" in shown, \
            f"the look-alikes escaped: {shown}"

        # A production delete of a look-alike key says to type the characters, not the escapes.
        table.focus()
        assert table.select_key("sku "), "'sku ' is not in the table"
        await pilot.press("d")
        dialog = await wait_for_screen(pilot, ConfirmDialog)
        text = " ".join(str(static.render()) for static in dialog.query("Static"))
        assert "key: sku\\x20" in text and "not the escapes" in text, f"the dialog's prompt: {text}"
        await pilot.press(*"sku\\x20", "enter")
        await pilot.pause()
        assert app.screen is dialog, "the escapes are not the key"
        dialog.query_one("#type-to-confirm").value = "sku "
        await pilot.press("enter")
        await settle(pilot)
        assert "sku " not in table.items, "the characters typed: 'sku ' deleted"
        assert "sku" in table.items, "its look-alike 'sku' stays"
