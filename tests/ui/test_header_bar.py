"""The header at 80 columns with remote text that is wider than it is long."""

from __future__ import annotations

from rich.cells import cell_len
from textual.widgets import Static

from syncmap_tui.ui.widgets.header import NOTICE_MAX_WIDTH, HeaderBar

from .helpers import settle

WIDE = "同步服务" * 8
"""32 characters, 64 cells: each takes two columns of the terminal."""


async def test_a_notice_of_wide_characters_keeps_its_width_and_the_count_of_the_others(build_app):
    app = build_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        header = pilot.app.screen.query_one(HeaderBar)
        notice = header.query_one("#notice", Static)
        header.show_notice("watch", "watching")
        header.show_notice("behind-server", WIDE, "warning")
        await pilot.pause()
        text = notice.render().plain
        assert text.endswith("… +1"), text
        assert cell_len(text) <= NOTICE_MAX_WIDTH - 2, text
        drawn = "".join(segment.text for segment in notice.render_line(0))
        assert drawn.rstrip().endswith("+1"), drawn
