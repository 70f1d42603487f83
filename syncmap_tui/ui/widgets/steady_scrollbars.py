"""A mixin for ScrollView widgets (TextArea, DataTable, Tree) that repaints its scrollbars only when they change."""

from __future__ import annotations

from textual.geometry import Size


class SteadyScrollbars:
    """Skip ScrollView's scrollbar update in a layout pass that changed nothing for this widget.

    Textual 8.2.8's `ScrollView._size_updated` compares the widget's own virtual size with the one
    the compositor passes, which for a ScrollView never match, so every layout pass anywhere on the
    screen (a Static whose text changed width, say) repaints every scrollbar: ~3.5 KB over SSH at
    80×24 for this app's four. Only when the size, the virtual size, the gutter or a scrollbar
    style differs from the last update is the update needed.
    """

    _scrollbars_drawn_for: tuple[object, ...] | None = None

    def _size_updated(self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True) -> bool:
        styles = self.styles  # type: ignore[attr-defined]
        drawn_for = (
            size,
            self.virtual_size,  # type: ignore[attr-defined]
            styles.gutter.totals,
            styles.overflow_x,
            styles.overflow_y,
            styles.scrollbar_size_vertical,
            styles.scrollbar_size_horizontal,
            styles.scrollbar_gutter,
        )
        if drawn_for == self._scrollbars_drawn_for and size == self._size:  # type: ignore[attr-defined]
            return bool(self._container_size != container_size)  # type: ignore[attr-defined]
        resized = super()._size_updated(size, virtual_size, container_size, layout)  # type: ignore[misc]
        # Showing or hiding a scrollbar changes the room for the other: Textual settles that over
        # the next layout passes (`_scrollbar_changes` holds what changed), so skip none until then.
        settled = not self._scrollbar_changes  # type: ignore[attr-defined]
        self._scrollbars_drawn_for = drawn_for if settled else None
        return bool(resized)
