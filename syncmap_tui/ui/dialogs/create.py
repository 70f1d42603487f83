"""New items and new maps: every field is checked before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Input, Label, Static, TextArea

from syncmap_tui.sync.validation import ValidationError, check_data, check_key, parse_ttl
from syncmap_tui.ui.display import key_text
from syncmap_tui.ui.literal import literal_block
from syncmap_tui.ui.dialogs.base import Dialog


@dataclass(frozen=True)
class NewItemRequest:
    key: str
    text: str
    data: dict[str, Any]
    item_ttl: int | None
    ttl_text: str

    @property
    def is_blank(self) -> bool:
        """Nothing typed yet: no key, no TTL, an empty object."""
        return not self.key and not self.ttl_text.strip() and "".join(self.text.split()) in ("", "{}")


class NewItemDialog(Dialog["NewItemRequest | None"]):
    """Key, JSON data and an optional TTL; every field is checked before anything is sent."""

    GUARDED = False  # opened by the user to type into: keys are meant for it

    def __init__(self, previous: NewItemRequest | None = None, *, error: str | None = None) -> None:
        super().__init__(back_answer=None)
        self.previous = previous
        self.error = error

    def compose(self) -> ComposeResult:
        previous = self.previous
        with Vertical(classes="dialog -tall"):
            yield Label("New item", classes="dialog-title")
            yield Label("Key")
            yield Input(previous.key if previous else "", id="new-key", compact=True)
            yield Label("Data (a JSON object)")
            yield TextArea(previous.text if previous else self.EMPTY_DATA, language="json", id="new-data")
            yield Label("ItemTtl (empty: never expires; seconds or 90s, 15m, 2h, 7d)")
            yield Input(previous.ttl_text if previous else "", id="new-ttl", compact=True)
            yield Static(literal_block(self.error or "", "bold red"), id="new-item-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", variant="primary", id="create")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#new-key", Input).focus()
        self.query_one("#new-data", TextArea).cursor_blink = False

    def _show_error(self, message: str) -> None:
        self.query_one("#new-item-error", Static).update(literal_block(message, "bold red"))

    EMPTY_DATA = "{\n  \n}"

    def typed(self) -> NewItemRequest:
        """What the fields hold now, checked or not (for a draft when the app quits)."""
        ttl_text = self.query_one("#new-ttl", Input).value
        return NewItemRequest(self.query_one("#new-key", Input).value, self.query_one("#new-data", TextArea).text,
                              {}, None, ttl_text)


    @on(Button.Pressed, "#create")
    def _create(self) -> None:
        key = self.query_one("#new-key", Input).value
        text = self.query_one("#new-data", TextArea).text
        ttl_text = self.query_one("#new-ttl", Input).value
        try:
            check_key(key)
            checked = check_data(text)
            if checked.error is not None:
                raise checked.error
            item_ttl = parse_ttl(ttl_text) if ttl_text.strip() else None
        except ValidationError as error:
            self._show_error(error.message)
            return
        assert checked.value is not None
        self.dismiss(NewItemRequest(key, text, checked.value, item_ttl, ttl_text))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)


@dataclass(frozen=True)
class NewMapRequest:
    unique_name: str | None
    collection_ttl: int | None


class NewMapDialog(Dialog["NewMapRequest | None"]):
    GUARDED = False  # opened by the user to type into: keys are meant for it

    def __init__(self, service_name: str) -> None:
        super().__init__(back_answer=None)
        self.service_name = service_name

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label("New map", classes="dialog-title")
            where = Text("in service ")
            where.append_text(key_text(self.service_name, "bold"))
            yield Static(where)
            yield Label("Unique name (optional)")
            yield Input(id="map-name", compact=True)
            yield Label("CollectionTtl (empty: never expires)")
            yield Input(id="map-ttl", compact=True)
            yield Static("", id="new-map-error")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", variant="primary", id="create")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#map-name", Input).focus()

    @on(Button.Pressed, "#create")
    @on(Input.Submitted)
    def _create(self) -> None:
        name = self.query_one("#map-name", Input).value.strip()
        ttl_text = self.query_one("#map-ttl", Input).value
        try:
            ttl = parse_ttl(ttl_text) if ttl_text.strip() else None
        except ValidationError as error:
            self.query_one("#new-map-error", Static).update(Text(error.message, style="bold red"))
            return
        self.dismiss(NewMapRequest(name or None, ttl))

    @on(Button.Pressed, "#cancel")
    def _cancel(self) -> None:
        self.dismiss(None)
