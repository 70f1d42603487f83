"""Bench data: JSON documents of a given wire size, and an embedded-emulator home that holds them."""

from __future__ import annotations

import json
from typing import Any

from _support import REPO_ROOT  # noqa: F401  (puts the repository on sys.path)

from syncmap_tui.sync.validation import encode_data, format_data

SERVICE = "demo-store"
MAP = "orders"
ITEM_14K = "bench-14k"
ITEM_16K = "bench-16k"


def document_of_size(wire_bytes: int) -> dict[str, Any]:
    """An order book of short lines (as people keep data) whose compact JSON is `wire_bytes` long, or just under."""
    lines: list[dict[str, Any]] = []
    document: dict[str, Any] = {"customer": "C-1001", "currency": "EUR", "lines": lines, "note": ""}
    index = 0
    while True:
        line = {"sku": f"SKU-{index:05d}", "qty": 1 + index % 4, "price": 100 + index * 7 % 900, "gift": index % 5 == 0}
        lines.append(line)
        if len(encode_data(document).encode()) > wire_bytes:
            lines.pop()
            break
        index += 1
    document["note"] = "x" * (wire_bytes - len(encode_data(document).encode()))
    assert len(encode_data(document).encode()) == wire_bytes
    return document


def editor_text(document: dict[str, Any]) -> str:
    """The document as the editor shows it (and as the reference TextArea gets it)."""
    return format_data(document)


def seed_embedded_home() -> dict[str, dict[str, Any]]:
    """Seed the embedded emulator's database of the current (isolated) home and add the bench items.

    Call inside `isolated_home()`: `embedded_db_path()` reads the patched XDG variables.
    """
    from syncmap_tui.config import embedded_db_path
    from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID
    from syncmap_tui.emulator.seed import seed_demo
    from syncmap_tui.emulator.store import SyncStore

    items = {ITEM_14K: document_of_size(14_000), ITEM_16K: document_of_size(16_000)}
    with SyncStore(embedded_db_path()) as store:
        seed_demo(store, DEFAULT_ACCOUNT_SID)
        for key, document in items.items():
            store.create_item(DEFAULT_ACCOUNT_SID, SERVICE, MAP, key, json.dumps(document, separators=(",", ":")))
    return items
