"""The key bar at the bottom: Textual's Footer, rebuilt only when the keys it shows change."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


class SteadyFooter(Footer):
    """Textual's Footer recomposes (unmounts and mounts one FooterKey per binding, each restyled)
    on every bindings signal: three times while the app starts, before the first frame with the
    services (~40 ms each on a 2-core machine), and at every focus change, even when the keys
    stay the same. Here signals that arrive together make one rebuild, and a rebuild that would
    show the same keys is skipped."""

    _keys_shown: tuple[object, ...] | None = None
    _rebuild_pending = False

    def compose(self) -> ComposeResult:
        # A FooterKey starts compact and is then bound to the footer's (not) compact: two restyles
        # of each key as it mounts. Starting it as the footer is makes the binding a no-op. The
        # command palette's key is not bound: it stays compact, as Textual draws it.
        for widget in super().compose():
            if isinstance(widget, FooterKey) and not widget.has_class("-command-palette"):
                widget.set_reactive(FooterKey.compact, self.compact)
                widget.set_class(self.compact, "-compact", update=False)
            yield widget

    def bindings_changed(self, screen: Screen[object]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._rebuild_pending:
            self._rebuild_pending = True
            self.call_after_refresh(self._rebuild_if_changed)

    async def _rebuild_if_changed(self) -> None:
        self._rebuild_pending = False
        if not self.is_attached:
            return
        keys = self._keys()
        if keys == self._keys_shown:
            return
        self._keys_shown = keys
        await self.recompose()

    def _keys(self) -> tuple[object, ...]:
        """What `compose` draws from: every shown binding with its state, and the palette key."""
        app = self.app
        active = self.screen.active_bindings
        shown = tuple(
            (binding.key, app.get_key_display(binding), binding.action, binding.description, binding.group, enabled, tooltip)
            for _, binding, enabled, tooltip in active.values()
            if binding.show
        )
        palette = active.get(app.COMMAND_PALETTE_BINDING)
        palette_state = None if palette is None else (palette[1].key, palette[1].description, palette[2], palette[3])
        return shown, palette_state, self.show_command_palette, app.ENABLE_COMMAND_PALETTE, self.compact
