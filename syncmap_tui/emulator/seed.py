"""The `--seed` demo data: services, maps of varied sizes, and the items that break naive editors.

Deterministic: SIDs are derived from the account and the names, and values from their index,
so that screenshots and snapshots of seeded data are the same on every run (dates follow the
store's clock; inject one to pin them). Seeding a store that already holds the demo does nothing.
"""

from __future__ import annotations

from typing import Any, Iterable

from syncmap_tui.emulator.errors import EmulatorError
from syncmap_tui.emulator.store import MAP_SID_PREFIX, SERVICE_SID_PREFIX, SyncStore, derived_sid
from syncmap_tui.sync.validation import MAX_DATA_BYTES, MAX_KEY_LENGTH, MAX_TTL_SECONDS, check_key, check_size, encode_data

DEMO_SERVICE = "demo-store"
"""The unique name of the first demo service; its presence marks a store as seeded."""

CATALOG_SIZE = 10_000
ORDERS_SIZE = 120


def _sized(target_bytes: int, fill: str) -> dict[str, Any]:
    """`{"blob": ...}` whose compact JSON is exactly `target_bytes` of UTF-8, built from `fill`."""
    room = target_bytes - len(encode_data({"blob": ""}).encode("utf-8"))
    unit = len(fill.encode("utf-8"))
    blob = fill * (room // unit) + "x" * (room % unit)
    value = {"blob": blob}
    assert len(encode_data(value).encode("utf-8")) == target_bytes
    return value


def _catalog() -> Iterable[tuple[str, Any, int]]:
    colours = ("red", "green", "blue", "black", "white", "teal")
    for index in range(CATALOG_SIZE):
        yield (
            f"sku-{index:05d}",
            {
                "sku": f"SKU-{index:05d}",
                "name": f"Product {index}",
                "price_cents": 99 + (index * 37) % 10_000,
                "in_stock": index % 7 != 0,
                "colour": colours[index % len(colours)],
                "tags": ["demo", f"batch-{index // 1000}"],
            },
            0,
        )


def _orders() -> Iterable[tuple[str, Any, int]]:
    statuses = ("pending", "paid", "shipped", "delivered", "refunded")
    for index in range(1, ORDERS_SIZE + 1):
        yield (
            f"order-{index:04d}",
            {
                "status": statuses[index % len(statuses)],
                "customer": {"name": f"Customer {index}", "email": f"customer{index}@example.com"},
                "lines": [
                    {"sku": f"SKU-{(index * 13) % CATALOG_SIZE:05d}", "qty": 1 + index % 3},
                    {"sku": f"SKU-{(index * 29) % CATALOG_SIZE:05d}", "qty": 1},
                ],
                "total_cents": 1_000 + index * 250,
            },
            0,
        )


def _edge_cases() -> Iterable[tuple[str, Any, int]]:
    nested: dict[str, Any] = {"leaf": True}
    for depth in range(12):
        nested = {f"level{11 - depth}": nested, "index": 11 - depth}
    return [
        ("plain", {"hello": "world"}, 0),
        ("with space", {"note": "the key has a space"}, 0),
        ("a/b/c", {"note": "the key has slashes"}, 0),
        ("what?", {"note": "the key has a question mark"}, 0),
        ("#hash", {"note": "the key starts with #"}, 0),
        ("100%", {"note": "the key has a percent sign"}, 0),
        ("café/ünïcode", {"note": "non-ASCII key with a slash", "greeting": "héllo wörld"}, 0),
        ("emoji 😀", {"note": "an astral character in the key", "mood": "🎉"}, 0),
        ("[bold]x[/bold]", {"note": "markup-like key: must show literally"}, 0),
        ("[bold red]x", {"note": "unclosed markup-like key", "value": "[bold red]not bold[/]"}, 0),
        ("escape-sequence", {"text": "\u001b[2J", "note": "the text holds ESC [2J (clear screen)"}, 0),
        ("nested", nested, 0),
        ("mixed-types", {"n": 1, "f": 1.5, "b": False, "null": None, "list": [1, "two", {"three": 3}], "s": ""}, 0),
        ("empty-object", {}, 0),
        ("scripts", {"ja": "日本語", "ar": "العربية", "he": "עברית", "ru": "русский", "el": "ελληνικά"}, 0),
        ("size-16000", _sized(16_000, "x"), 0),
        ("size-max", _sized(MAX_DATA_BYTES, "x"), 0),
        ("size-max-multibyte", _sized(MAX_DATA_BYTES, "é"), 0),
        ("ttl-1-hour", {"note": "expires an hour after seeding"}, 3_600),
        ("ttl-1-day", {"note": "expires a day after seeding"}, 86_400),
        ("ttl-max", {"note": "expires a year after seeding"}, MAX_TTL_SECONDS),
        ("k" * 257, {"note": "a 257-character key: over Twilio's documented 256"}, 0),
        ("K" * MAX_KEY_LENGTH, {"note": "a key at the 320-character limit"}, 0),
    ]


def _flags() -> Iterable[tuple[str, Any, int]]:
    names = ("checkout-v2", "dark-mode", "new-search", "beta-banner", "rate-limit-bypass", "maintenance")
    return [
        (name, {"enabled": index % 2 == 0, "rollout_percent": (index * 20) % 101, "owner": "platform"}, 0)
        for index, name in enumerate(names)
    ]


def _presence() -> Iterable[tuple[str, Any, int]]:
    return [
        (f"user:{name}", {"status": status, "device": device}, 3_600)
        for name, status, device in (
            ("alice", "online", "web"),
            ("bob", "away", "ios"),
            ("chloé", "online", "android"),
            ("dmitri", "busy", "web"),
        )
    ]


# (unique name or None, friendly name, settings, maps: [(map unique name or None, collection TTL, items)])
_DEMO: tuple[tuple[str | None, str, dict[str, Any], tuple[tuple[str | None, int, Any], ...]], ...] = (
    (
        DEMO_SERVICE,
        "Demo Store",
        {},
        (
            ("catalog", 0, _catalog),
            ("orders", 0, _orders),
            ("edge-cases", 0, _edge_cases),
            ("empty", 0, lambda: []),
            ("carts", 7 * 86_400, lambda: [("cart-1", {"items": 2}, 0), ("cart-2", {"items": 5}, 600)]),
        ),
    ),
    (
        "feature-flags",
        "Feature Flags (production)",
        {"acl_enabled": True, "webhook_url": "https://example.com/sync-webhook", "webhooks_from_rest_enabled": True},
        (("flags", 0, _flags),),
    ),
    ("chat-presence", "Chat Presence", {"reachability_webhooks_enabled": True}, (("presence", 0, _presence),)),
    (None, "Scratch (no unique name)", {}, ((None, 0, lambda: [("note", {"text": "a map without a unique name"}, 0)]),)),
)


def seed_demo(store: SyncStore, account_sid: str) -> bool:
    """Write the demo data for `account_sid`. Returns False (and writes nothing) if it is there already."""
    try:
        store.get_service(account_sid, DEMO_SERVICE)
        return False
    except EmulatorError:
        pass
    with store.transaction():  # all or nothing: a seed cut short must not look seeded next time
        _write_demo(store, account_sid)
    return True


def _write_demo(store: SyncStore, account_sid: str) -> None:
    for service_name, friendly_name, settings, maps in _DEMO:
        service_key = service_name or friendly_name
        service = store.create_service(
            account_sid,
            unique_name=service_name,
            friendly_name=friendly_name,
            sid=derived_sid(SERVICE_SID_PREFIX, account_sid, service_key),
            **settings,
        )
        for map_name, collection_ttl, items in maps:
            sync_map = store.create_map(
                account_sid,
                service.sid,
                unique_name=map_name,
                ttl=collection_ttl,
                sid=derived_sid(MAP_SID_PREFIX, account_sid, service_key, map_name or ""),
            )
            store.create_items(account_sid, service.sid, sync_map.sid, _wire(items()))


def _wire(items: Iterable[tuple[str, Any, int]]) -> Iterable[tuple[str, str, int]]:
    """The seed obeys the same rules as the API: every key and value is checked on the way in."""
    for key, value, ttl in items:
        data = encode_data(value)
        check_size(data)
        yield check_key(key), data, ttl
