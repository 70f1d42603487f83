"""What the table and the tree show (issue #15): a countdown that reaches 'expired', with no timer
when nothing expires, and keys that differ invisibly told apart."""

from __future__ import annotations

import unicodedata
from datetime import timedelta

from syncmap_tui.ui import formatting

from .conftest import PINNED_NOW
from .helpers import SERVICE, main_screen, settle

SIZE = (100, 30)


def expires_cell(table, key: str) -> str:
    return table.get_cell(key, "expires").plain


async def test_the_expires_column_counts_down_to_expired(build_app, monkeypatch):
    app = build_app(SERVICE, "carts")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_screen(pilot).item_table
        assert expires_cell(table, "cart-2") == "in 10m"
        assert table._countdown is not None, "an expiring item is shown: the countdown runs"

        monkeypatch.setattr(formatting, "now_utc", lambda: PINNED_NOW + timedelta(seconds=561))
        table._count_down()
        assert expires_cell(table, "cart-2") == "in 39s"
        monkeypatch.setattr(formatting, "now_utc", lambda: PINNED_NOW + timedelta(seconds=600))
        table._count_down()
        assert expires_cell(table, "cart-2") == "expired"


async def test_no_countdown_timer_when_nothing_expires(build_app):
    app = build_app(SERVICE, "catalog")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_screen(pilot).item_table
        assert table.row_count > 0
        assert table._countdown is None, "idle must stay 0 B/s: no timer without an expiring item"


async def test_the_countdown_repaints_only_cells_whose_text_changed(build_app, monkeypatch):
    app = build_app(SERVICE, "carts")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_screen(pilot).item_table
        updated = []
        real_refresh = table.refresh

        def refresh(*regions, **kwargs):
            updated.append(regions)
            return real_refresh(*regions, **kwargs)

        monkeypatch.setattr(table, "refresh", refresh)
        monkeypatch.setattr(formatting, "now_utc", lambda: PINNED_NOW + timedelta(seconds=20))
        table._count_down()
        assert expires_cell(table, "cart-2") == "in 9m 40s"
        assert len(updated) == 1 and len(updated[0]) == 1, "one region repainted"
        assert updated[0][0].height == 1 and updated[0][0].width < 20, "the cell, not the table"
        table._count_down()
        assert len(updated) == 1, "a cell that reads the same is not repainted"


async def test_keys_that_differ_invisibly_read_differently_in_the_table(build_app, other_writer):
    nfc, nfd = unicodedata.normalize("NFC", "café"), unicodedata.normalize("NFD", "café")
    sync_map = await other_writer.fetch_map(SERVICE, "empty")
    for key in (nfc, nfd, "sku", "sku ", "a\\x0ab", "a\nb"):
        await other_writer.create_item(SERVICE, sync_map.sid, key, {"k": key})
    app = build_app(SERVICE, "empty")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        table = main_screen(pilot).item_table
        shown = [table.get_row_at(row)[0].plain for row in range(table.row_count)]
        assert len(shown) == 6 and len(set(shown)) == 6, shown
        assert "cafe\\u0301" in shown and "sku\\x20" in shown and "a\\\\x0ab" in shown and "a\\x0ab" in shown


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


def hint_of(field) -> str:
    return str(field.query_one(".ttl-hint").render())


async def test_the_ttl_hints_count_down_only_while_something_expires(build_app, monkeypatch):
    app = build_app(SERVICE, "carts", "cart-2")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        editor = main_screen(pilot).editor
        assert hint_of(editor.item_ttl) == "now: 2026-01-15 12:10 (in 10m)"
        assert editor._ttl_countdown is not None
        monkeypatch.setattr(formatting, "now_utc", lambda: PINNED_NOW + timedelta(seconds=601))
        editor._show_ttl_hints()
        assert hint_of(editor.item_ttl) == "now: 2026-01-15 12:10 (expired)"

    app = build_app(SERVICE, "orders", "order-0001")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        editor = main_screen(pilot).editor
        assert hint_of(editor.item_ttl) == "now: never expires"
        assert editor._ttl_countdown is None, "nothing expires: no timer (idle stays 0 B/s)"


async def test_the_map_ttl_is_labelled_as_the_maps_and_shows_its_expiry(build_app):
    app = build_app(SERVICE, "carts", "cart-1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        editor = main_screen(pilot).editor
        assert str(editor.collection_ttl.query_one("Label").render()) == "map TTL"
        editor.show_map_expiry(PINNED_NOW + timedelta(days=7))
        assert hint_of(editor.collection_ttl) == "now: map 2026-01-22 12:00 (in 7d)"
        editor.collection_ttl.value = "1d"
        await pilot.pause()
        assert hint_of(editor.collection_ttl).startswith("→ whole map expires 2026-01-16 12:00 (in 1d)")


async def test_alt_e_shows_the_whole_json_error_that_its_line_cuts(build_app):
    from .helpers import record_notifications

    app = build_app(SERVICE, "orders", "order-0001")
    told = record_notifications(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        editor = main_screen(pilot).editor
        editor.replace_text('{"a": 1,, "this error message is long enough to be cut at eighty columns": 2}')
        await pilot.pause()
        validation = editor.query_one("#validation")
        assert validation.size.height == 1, "a parse error takes one line, not the JSON's rows"
        await pilot.press("alt+e")
        await pilot.pause()
        assert any(message == editor.check.error.message for message in told), told


async def test_a_save_that_sets_the_map_ttl_asks_first_then_shows_the_new_expiry_and_leaves_the_ttl_field(
    build_app, other_writer
):
    """Issue #15: saving `0` in CollectionTtl by accident cleared a map's expiry, unasked."""
    from syncmap_tui.ui.dialogs.confirm import ConfirmDialog

    from .helpers import answer, wait_for_screen

    app = build_app(SERVICE, "carts", "cart-1")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        editor = main_screen(pilot).editor
        assert hint_of(editor.collection_ttl) == "now: map 2026-01-22 12:00 (in 7d)"
        editor.collection_ttl.input.focus()
        await pilot.press("0")
        await pilot.press("ctrl+s")
        dialog = await wait_for_screen(pilot, ConfirmDialog)
        fields = str(dialog.query_one("#confirm-fields").render())
        assert "2026-01-22 12:00 (in 7d)" in fields and "never expires" in fields
        await answer(pilot, ConfirmDialog, False)
        await settle(pilot)
        sync_map = await other_writer.fetch_map(SERVICE, "carts")
        assert sync_map.date_expires is not None, "declined: the map keeps its expiry"
        assert (await other_writer.fetch_item(SERVICE, sync_map.sid, "cart-1")).revision == "0"

        await pilot.press("ctrl+s")
        await answer(pilot, ConfirmDialog, True)
        await settle(pilot)
        assert (await other_writer.fetch_map(SERVICE, "carts")).date_expires is None
        assert hint_of(editor.collection_ttl) == "now: map never expires"
        assert editor.json_area.has_focus, "after the save the focus is back in the JSON"


def test_the_private_data_table_members_the_countdown_relies_on_are_there():
    """ItemTable._show_expires writes the cell into DataTable's `_data` and bumps `_update_count`
    (its render caches are keyed on it) so as to repaint one cell: an upgrade that renames either
    must fail here, not leave a countdown that never shows."""
    import inspect

    from textual.widgets import DataTable

    table = DataTable()
    assert isinstance(table._data, dict) and isinstance(table._update_count, int)
    assert "self._update_count" in inspect.getsource(DataTable._render_line_in_row)


async def test_a_production_delete_of_a_look_alike_key_says_to_type_the_characters_not_the_escapes(build_app, other_writer):
    from syncmap_tui.config import Target
    from syncmap_tui.ui.dialogs.confirm import ConfirmDialog

    from .helpers import wait_for_screen

    sync_map = await other_writer.fetch_map(SERVICE, "empty")
    await other_writer.create_item(SERVICE, sync_map.sid, "sku ", {"k": 1})
    target = Target(label="acme-prod", base_url=None, credentials=None, production=True)
    app = build_app(SERVICE, "empty", target=target)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        main_screen(pilot).item_table.focus()
        await pilot.press("d")
        dialog = await wait_for_screen(pilot, ConfirmDialog)
        text = " ".join(str(static.render()) for static in dialog.query("Static"))
        assert "key: sku\\x20" in text and "not the escapes" in text
        await pilot.press(*"sku\\x20", "enter")
        await pilot.pause()
        assert app.screen is dialog, "the escapes are not the key"
        dialog.query_one("#type-to-confirm").value = "sku "
        await pilot.press("enter")
        await settle(pilot)
        assert "sku " not in main_screen(pilot).item_table.items
