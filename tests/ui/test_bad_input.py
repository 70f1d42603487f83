"""Bad input, property-based: whatever is typed or pasted is kept, explained and never sent.

The one exception: a paste with a line longer than the editor takes is refused as a whole, with
the reason, and the editor keeps what it had (see JsonArea.MAX_PASTED_LINE_CHARS).

"Kept" means: as typed, except that a character that does not print enters the editor as its
JSON escape (so nothing raw reaches the terminal, and the JSON value is the same), and CRLF
becomes LF. The rule is written out below (`as_kept`), not imported from the editor.

The app runs once per test and Hypothesis drives many examples through it (pytest-asyncio runs
each example on the test's event loop, so the app stays up between them). An ASGI middleware in
front of the emulator sees every request the app makes: "refused" means no request at all.

Each property test runs short in the default suite and long under `fuzz` (tests/property_runs.py),
with its explicit examples in both: typed text, pastes and TTLs 20 and 160 examples (were 40),
hostile keys 12 and 100 (were 25), deep nesting 5 and 40 (were 10). The five took ~9.1 s of CPU in
the default suite, serial, and take ~5.1 s (of which ~0.3 s each is the app's start); the long
runs take ~24 s.

Also here: hostile keys (control characters, markup, escape sequences) created by another writer
show literally everywhere, and invalid UTF-8 sent straight to the emulator is refused with 54008.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import unicodedata
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from urllib.parse import quote, quote_from_bytes

import httpx
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from property_runs import short_and_long
from textual import events
from textual.pilot import Pilot

from syncmap_tui.emulator import DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN
from syncmap_tui.emulator.inprocess import emulator_transport
from syncmap_tui.sync.editing import parse_optional_ttl
from syncmap_tui.sync.errors import AlreadyExists, TwilioCode
from syncmap_tui.sync.validation import RECURSION_LIMIT, ValidationError, check_data, ensure_nesting_headroom
from syncmap_tui.ui.main_screen import MainScreen

from .conftest import EMULATOR_URL
from .helpers import SIZE, SERVICE, main_screen, record_notifications, settle

KEY = "order-0070"

UI_SETTINGS = settings(
    deadline=None,
    # One app serves every example on purpose: starting one costs seconds.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
"""C0, DEL and C1: what must never reach the terminal raw from remote or typed text."""

LINE_BREAKS = "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
"""What str.splitlines() splits on besides "\\n" and "\\r": Textual's Document would make each a
newline, so the editor must turn them into escapes first."""


def as_kept(text: str) -> str:
    """What the editor must hold for typed or pasted `text`: CRLF and CR as LF; "\\n", "\\t" and every
    printable character as they are; any other character as its JSON escape (lowercase \\uXXXX,
    a surrogate pair of escapes beyond the BMP)."""

    def escape(char: str) -> str:
        code = ord(char)
        if code <= 0xFFFF:
            return f"\\u{code:04x}"
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"

    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c if c.isprintable() or c in "\n\t" else escape(c) for c in text)


def assert_same_json(typed: str, kept: str) -> None:
    """Escaping must not change what valid text means: a valid object stays valid, with the same value."""
    before = check_data(typed)
    if before.error is None:
        after = check_data(kept)
        assert after.error is None and after.value == before.value, (typed, kept, after.error)

FRAGMENTS = [
    "\x00", "\x1b[2J", "\x1b]0;pwned\x07", "\x1b]52;c;SGVsbG8=\x07", "\x9b31m", "\x07", "\x08", "\x7f",
    "[bold]", "[/]", "[red]x[/red]", "[@click=app.quit]q[/]", "[link=https://example.com]l[/link]",
    "\t", "\n", "\u202e", "\u200b", "\ufeff", "\\ud800", "\\udfff", "\\u0000", "\\u001b[2J", "\\",
    '"', "{", "}", "[", "]", ":", ",", "null", "true", "1e999", "-0", "😀", "é", "日本",
]


def typed_text() -> st.SearchStrategy[str]:
    """What a UTF-8 terminal can deliver by typing or pasting: any character but a lone surrogate.

    """
    chars = st.characters(codec="utf-8")
    pieces = st.lists(
        st.sampled_from(FRAGMENTS + list(LINE_BREAKS) + ["\r", "\r\n"]) | st.text(chars, max_size=6), max_size=12
    ).map("".join)
    in_a_string = pieces.map(lambda inner: '{"value": "' + inner + '"}')
    as_a_key = pieces.map(lambda inner: "{" + json.dumps(inner, ensure_ascii=False) + ": 1," + inner + "}")
    return st.one_of(st.text(chars), pieces, in_a_string, as_a_key)


# --- the running app -----------------------------------------------------------------------


class RequestLog:
    """ASGI middleware in front of the emulator: every request that reaches it."""

    def __init__(self, app) -> None:
        self.app = app
        self.seen: list[tuple[str, str]] = []

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            self.seen.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)


@dataclass
class Session:
    pilot: Pilot
    requests: RequestLog
    told: list[str] = field(default_factory=list)
    """Every notification, in order (the app's own list drops them as they time out)."""
    map_sid: str = ""

    @property
    def main(self) -> MainScreen:
        return main_screen(self.pilot)


@asynccontextmanager
async def running_app(build_app, emulator, *link: str):
    requests = RequestLog(emulator.app)
    emulator.app = requests  # the app's client is made at connect time, from emulator.app
    app = build_app(*link)
    told = record_notifications(app)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        yield Session(pilot, requests, told)
        assert app._exception is None
    assert app.return_code in (None, 0)


@pytest.fixture
async def session(build_app, emulator):
    async with running_app(build_app, emulator, SERVICE, "orders", KEY) as running:
        assert running.main.editor.open_item.key == KEY
        yield running


async def press(pilot: Pilot, key: str) -> None:
    """A key as the terminal driver delivers it, without Pilot.press's waits for an idle CPU."""
    key_event = events.Key(key, key if len(key) == 1 else None)
    key_event.set_sender(pilot.app)
    pilot.app.post_message(key_event)
    await pilot.pause(0)


async def paste(pilot: Pilot, text: str) -> None:
    """A bracketed paste, as the driver delivers it: the app forwards it to the focused widget."""
    pilot.app.post_message(events.Paste(text))
    await pilot.pause(0)


def plain(widget) -> str:
    return widget.render().plain


async def until(pilot: Pilot, condition, rounds: int = 400) -> None:
    """Poll briefly: a message bubbles one widget per hop, so one pause may not see it handled.
    Returns either way; the caller's assertion then says what is wrong."""
    for _ in range(rounds):
        if condition():
            return
        await pilot.pause(0.005)


async def refused_save(session: Session) -> str:
    """Press ctrl+s; the save must be refused with a notification and no request. Returns it."""
    pilot = session.pilot
    requests_before, told_before = len(session.requests.seen), len(session.told)
    await press(pilot, "ctrl+s")
    await pilot.app.workers.wait_for_complete()
    await until(pilot, lambda: len(session.told) > told_before)
    new = session.told[told_before:]
    assert len(new) == 1 and new[0].startswith("Not saved: "), new
    assert session.requests.seen[requests_before:] == []
    assert pilot.app.is_running and pilot.app._exception is None
    return new[0]


async def show_text(session: Session, text: str) -> None:
    session.main.editor.replace_text(text)
    await session.pilot.pause(0)


async def check_validation_line(session: Session, text: str) -> ValidationError | None:
    """The validation line says exactly what check_data says, with no raw control character."""
    error = check_data(text).error
    expected = "✓ valid JSON object" if error is None else f"✗ {error.message}"
    validation = session.main.editor.query_one("#validation")
    await until(session.pilot, lambda: plain(validation) == expected)
    line = plain(validation)
    assert not CONTROL.search(line), repr(line)
    assert line == expected
    return error


# --- arbitrary text ----------------------------------------------------------------------------


@short_and_long(
    UI_SETTINGS,
    20,
    160,
    given(text=typed_text()),
    example(text=""),
    example(text="\x00"),
    example(text='{"a": "\x00"}'),
    example(text='{"a": "\x1b[2J"}'),
    example(text="[bold]not markup[/bold]"),
    example(text='{"lone": "\\ud800"}'),
    example(text='{"big": ' + "9" * 5000 + "}"),
    example(text='{"nan": NaN}'),
)
async def test_any_typed_text_is_kept_explained_and_an_invalid_one_never_sent(session, text):
    await show_text(session, text)
    editor = session.main.editor
    kept = as_kept(text)
    assert editor.text == kept
    assert_same_json(text, kept)
    error = await check_validation_line(session, kept)
    if error is None:
        event("valid object: nothing to refuse")
        return
    event("invalid: save refused")
    told = await refused_save(session)
    assert told == f"Not saved: {error.message}"
    assert editor.text == kept
    assert editor.is_dirty or kept == editor.saved_text


@short_and_long(UI_SETTINGS, 20, 160, given(text=typed_text()))
async def test_a_paste_is_kept_with_unprintable_characters_escaped(session, text):
    editor = session.main.editor
    await show_text(session, "")
    editor.json_area.focus()
    await paste(session.pilot, text)
    kept = as_kept(text)
    assert editor.text == kept
    assert_same_json(text, kept)
    error = await check_validation_line(session, kept)
    if error is not None:
        await refused_save(session)
        assert editor.text == kept


async def test_pasted_json_with_cr_line_breaks_stays_valid(session):
    text = '{\r  "a": 1,\r  "b": [true, null]\r}'
    editor = session.main.editor
    await show_text(session, "")
    editor.json_area.focus()
    await paste(session.pilot, text)
    assert check_data(editor.text).error is None
    assert json.loads(editor.text) == {"a": 1, "b": [True, None]}


async def test_a_pasted_line_separator_inside_a_string_keeps_its_value(session):
    text = '{"note": "first\u2028second"}'
    assert check_data(text).error is None
    editor = session.main.editor
    await show_text(session, "")
    editor.json_area.focus()
    await paste(session.pilot, text)
    assert editor.text == '{"note": "first\\u2028second"}'
    assert json.loads(editor.text) == json.loads(text)


# --- deep nesting and size -------------------------------------------------------------------


def nested(depth: int, kind: str) -> str:
    """`depth` levels, one opener per line: a single line this long is its own problem (see the
    minified-JSON xfail), and would make every repaint of this test take seconds."""
    if kind == "arrays":
        return '{"deep":\n' + "[\n" * depth + "]\n" * depth + "}"
    if kind == "objects":
        return '{"a":\n' * depth + "1\n" + "}\n" * depth
    return '{"m":\n' + '[{"a":\n' * (depth // 2) + "0\n" + "}]\n" * (depth // 2) + "}"


def with_the_apps_recursion_limit() -> None:
    """Hypothesis runs each example under a recursion limit of its own, the stack's depth + 2,000
    (its `ensure_free_stackframes`): 2,046 here, against the 11,192 the app runs with
    (sync/validation.py). Under it, whether ~2,000 levels are "nested too deeply" hung on how deep
    the stack was at the call: the editor's check, a few frames deeper than this test's, said so
    when the test's did not (a failure in a full run). Put the app's limit back; Hypothesis then
    leaves it, with a warning (filtered on the test)."""
    ensure_nesting_headroom()
    assert sys.getrecursionlimit() >= RECURSION_LIMIT


@short_and_long(
    UI_SETTINGS,
    5,
    40,
    given(depth=st.integers(1, 3_000), kind=st.sampled_from(["arrays", "objects", "mixed"])),
    example(depth=1_990, kind="arrays"),  # at the boundary that Hypothesis's own limit drew
    example(depth=10_000, kind="arrays"),  # deeper than any item, within the limit: refused for its size
    example(depth=20_000, kind="objects"),  # beyond the limit: nested too deeply
    example(depth=20_000, kind="mixed"),
)
@pytest.mark.filterwarnings("ignore:The recursion limit will not be reset")
async def test_deeply_nested_json_is_refused_clearly(session, depth, kind):
    with_the_apps_recursion_limit()
    text = nested(depth, kind)
    await show_text(session, text)
    editor = session.main.editor
    assert editor.text == text
    error = await check_validation_line(session, text)
    if error is None:
        event("shallow enough to be valid")
        return
    event("refused")
    if depth > RECURSION_LIMIT:
        assert error.message == "JSON is nested too deeply"
    elif depth >= 10_000:
        assert error.message.endswith("the limit is 16,384 bytes"), error.message
    told = await refused_save(session)
    assert told == f"Not saved: {error.message}"
    assert editor.text == text


@functools.cache
def megabyte_of_indented_json() -> str:
    """Just over 1 MiB (14,000 rows: 1,048,798 bytes), made once: indented json.dumps is the pure
    Python encoder, and growing the text 2,000 rows at a time took ~0.35 s of CPU per case."""
    text = json.dumps({"rows": [{"id": i, "name": f"row {i}", "ok": i % 2 == 0} for i in range(14_000)]}, indent=2)
    assert len(text.encode()) >= 1_048_576
    return text


@pytest.mark.parametrize(
    "variant", ["valid-but-too-large", "truncated", "with-a-raw-escape-sequence"]
)
async def test_a_one_megabyte_paste_is_kept_and_refused(session, variant):
    text = megabyte_of_indented_json()
    if variant == "truncated":
        text = text[: len(text) // 2]
    elif variant == "with-a-raw-escape-sequence":
        text = text.replace('"row 7"', '"row \x1b[2J 7"', 1)
    assert len(text.encode()) >= 1_048_576 or variant == "truncated"
    editor = session.main.editor
    await show_text(session, "")
    editor.json_area.focus()
    await paste(session.pilot, text)
    kept = as_kept(text)
    assert editor.text == kept
    error = await check_validation_line(session, kept)
    assert error is not None
    if variant != "truncated":
        assert error.message.startswith("data is ") and "the limit is 16,384 bytes" in error.message
    told = await refused_save(session)
    assert told == f"Not saved: {error.message}"
    assert editor.text == kept


async def test_a_paste_with_a_line_too_long_is_refused_and_the_editor_keeps_its_text(session):
    from syncmap_tui.ui.widgets.json_area import JsonArea

    limit = JsonArea.MAX_PASTED_LINE_CHARS
    editor = session.main.editor
    await show_text(session, '{"kept": true}')
    editor.json_area.focus()
    editor.json_area.move_cursor((0, 1))
    told = record_notifications(session.pilot.app)

    too_long = '"k": "' + "x" * (limit - 7) + '",'
    assert len(too_long) == limit + 1
    await paste(session.pilot, "\n" + too_long + "\n")
    await until(session.pilot, lambda: told)
    assert editor.text == '{"kept": true}'
    assert told == [
        f"Not pasted: it has a line of {limit + 1:,} characters, and the editor takes lines of up to "
        f"{limit:,} (an item's data is at most 16,384 bytes). Format it first, e.g. with jq, or paste "
        "a part. The editor is unchanged."
    ]

    at_limit = too_long[:6] + too_long[7:]
    await paste(session.pilot, "\n" + at_limit + "\n")
    await until(session.pilot, lambda: editor.text != '{"kept": true}')
    assert editor.text == '{\n' + at_limit + '\n"kept": true}'
    assert len(told) == 1


@pytest.mark.xfail(
    strict=True,
    reason=(
        "App bug (performance): minified JSON is slow to edit. Textual's TextArea._render_line "
        "re-styles and re-wraps the WHOLE document line for every screen row it paints, so a repaint "
        "costs O(rows x line length). The test counts that work (characters fetched to paint three "
        "cursor moves: 689,733 minified, 26 indented). A line of more than MAX_LINE_SPANS highlight "
        "spans is drawn plain, which took the worst of it away: with 21 KB of minified JSON at 80x24, "
        "three cursor moves went from ~4.3-5.1 s of CPU to ~0.25 s and three typed keys from ~3.9-5.8 s "
        "to ~0.37 s (indented: ~0.02-0.03 s). The wrapping itself remains."
    ),
)
async def test_minified_json_repaints_about_as_fast_as_the_same_json_indented(session):
    """Work, not time: the characters of document lines that TextArea fetches and styles to paint
    three cursor moves. Indented, each painted row fetches its own short line; minified, every
    row fetches (and styles, and re-wraps) the one 21 KB line."""
    area = session.main.editor.json_area
    fetched = 0
    get_line = area.get_line

    def counting_get_line(line_index: int):
        nonlocal fetched
        line = get_line(line_index)
        fetched += len(line.plain)
        return line

    area.get_line = counting_get_line

    async def cursor_moves_cost(text: str) -> int:
        nonlocal fetched
        await show_text(session, text)
        area.focus()
        area.move_cursor((0, 0))
        await session.pilot.pause(0.05)
        fetched = 0
        for _ in range(3):
            await press(session.pilot, "right")
        await session.pilot.pause(0.05)
        return fetched

    value = {"items": [{"id": i, "ok": True} for i in range(1000)]}
    indented = await cursor_moves_cost(json.dumps(value, indent=2))
    minified = await cursor_moves_cost(json.dumps(value, separators=(",", ":")))
    assert indented > 0
    assert minified <= 5 * indented, f"characters fetched to paint: minified {minified:,} vs indented {indented:,}"


# --- lone surrogates ---------------------------------------------------------------------------


async def test_an_escaped_lone_surrogate_is_refused_with_the_reason(session):
    text = '{"lone": "\\udc80"}'
    await show_text(session, text)
    error = await check_validation_line(session, text)
    assert error is not None and "unpaired surrogate" in error.message and "\\udc80" in error.message
    assert await refused_save(session) == f"Not saved: {error.message}"


async def test_a_raw_lone_surrogate_becomes_its_json_escape(build_app, emulator):
    text = '{"lone": "\ud800"}'
    async with running_app(build_app, emulator, SERVICE, "orders", KEY) as session:
        await show_text(session, text)
        assert session.main.editor.text == '{"lone": "\\ud800"}'
        error = await check_validation_line(session, session.main.editor.text)
        assert error is not None and "unpaired surrogate" in error.message


async def test_a_draft_with_a_lone_surrogate_opens_without_a_crash(build_app, other_writer):
    from syncmap_tui.config import embedded_db_path
    from syncmap_tui.drafts import Draft, DraftStore
    from syncmap_tui.ui.dialogs.drafts import RecoverDraftDialog

    from .helpers import wait_for_screen

    sync_map = await other_writer.fetch_map(SERVICE, "orders")
    service = await other_writer.fetch_service(SERVICE)
    text = '{"lone": "\ud800"}'
    DraftStore().save(
        Draft(
            account_sid=DEFAULT_ACCOUNT_SID, base_url=f"embedded:{embedded_db_path()}", target_label="local emulator",
            service_sid=service.sid, map_sid=sync_map.sid, key="order-0071", base_revision="0", text=text,
            item_ttl="", collection_ttl="", base_data=None,
        )
    )
    app = build_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_screen(pilot, RecoverDraftDialog)
        await pilot.click("#open")
        await settle(pilot)
        assert app._exception is None
        assert main_screen(pilot).editor.open_item.key == "order-0071"


# --- raw controls typed into the editor ------------------------------------------------------


def terminal_output(pilot: Pilot) -> str:
    """What a real terminal would be sent for the whole screen (the headless driver sends nothing)."""
    update = pilot.app.screen._compositor.render_update(full=True)
    return update.render_segments(pilot.app.console)


TEXTUAL_SEQUENCES = re.compile(r"\x1b\[[0-9;]*m|\x1b\[\d+;\d+H|\n")
"""What Textual itself writes for a full update: colours, cursor moves, line ends."""


def raw_controls(output: str) -> list[str]:
    return CONTROL.findall(TEXTUAL_SEQUENCES.sub("", output))


async def test_controls_in_the_editor_text_do_not_reach_the_terminal(session):
    await show_text(session, '{"note": "a\x1b[2Jb\x9b31mc\x1b]52;c;SGk=\x07d"}')
    assert raw_controls(terminal_output(session.pilot)) == []


# --- TTL fields --------------------------------------------------------------------------------


def ttl_text() -> st.SearchStrategy[str]:
    garbage = st.sampled_from(
        ["-1", "31536001", "1y", "1e3", "0x10", "5s5", "½", "١٢٣x", "9" * 30, "99999999999d", " ", "s",
         "\x00", "[bold]", "\x1b[2J", "1h 30", "--5", "+", "2h\n", "∞", "NaN", "1.5h", "1,000"]
    )
    return st.one_of(garbage, st.text(st.characters(codec="utf-8"), max_size=12), garbage.map(lambda g: "1h" + g))


@short_and_long(UI_SETTINGS, 20, 160, given(text=ttl_text(), which=st.sampled_from(["item_ttl", "collection_ttl"])))
async def test_ttl_garbage_is_explained_and_never_sent(session, text, which):
    editor = session.main.editor
    await show_text(session, editor.saved_text)
    editor.item_ttl.value = ""
    editor.collection_ttl.value = ""
    field = getattr(editor, which)
    field.value = text
    hint_widget = field.query_one(".ttl-hint")
    try:
        parse_optional_ttl(text)
    except ValidationError as error:
        reason = error.message
        event("garbage: refused")
        await until(session.pilot, lambda: field.has_class("-invalid") and plain(hint_widget) == reason)
        assert field.value == text
        assert field.has_class("-invalid")
        assert plain(hint_widget) == reason
        assert await refused_save(session) == f"Not saved: {error.message}"
        assert field.value == text
    else:
        event("a real TTL: nothing to refuse")
        await until(session.pilot, lambda: not field.has_class("-invalid") and plain(hint_widget) != "")
        assert not field.has_class("-invalid")
    hint = plain(hint_widget)
    assert not CONTROL.search(hint), repr(hint)
    field.value = ""


async def test_a_ttl_of_five_thousand_digits_is_refused_not_a_crash(build_app, emulator):
    async with running_app(build_app, emulator, SERVICE, "orders", KEY) as session:  # see above
        field = session.main.editor.item_ttl
        field.value = "9" * 5000
        await session.pilot.pause(0)
        assert session.pilot.app._exception is None
        assert field.has_class("-invalid")
        await refused_save(session)


# --- hostile keys from another writer ----------------------------------------------------------


def hostile_key() -> st.SearchStrategy[str]:
    pieces = st.sampled_from(
        ["\x00", "\x1b[2J", "\x1b]0;pwned\x07", "\x9b", "\x85", "\x7f", "\t", "\n", "\r", "[bold]", "[/]",
         "[red]x[/red]", "[@click=app.quit]", "\\", "/", "..", "%2F", "?", "#", " ", "é", "😀"]
    )
    key = st.lists(pieces | st.text(st.characters(codec="utf-8"), max_size=4),
                   min_size=1, max_size=8).map("".join)
    return key.filter(lambda k: 0 < len(k) <= 320 and any(c in k for c in "\x00\x1b\x9b\x85\x7f\t\n\r[\\"))


@pytest.fixture
async def hostile(build_app, emulator, other_writer):
    """The app with a map "hostile" open, its keys made by another writer as each example needs."""
    sync_map = await other_writer.create_map(SERVICE, unique_name="hostile")
    await other_writer.create_item(SERVICE, sync_map.sid, "plain", {"k": "plain"})
    async with running_app(build_app, emulator, SERVICE, "hostile") as running:
        running.map_sid = sync_map.sid
        yield running


def how_a_key_reads(key: str) -> str:
    """How a key must look: every character that does not print as a visible escape (\\xNN up
    to U+00FF, else \\uNNNN), a backslash doubled, spaces at either end and (in a key not in NFC)
    combining marks escaped too (issue #15), everything else as is. Written out here, not
    imported, so that the test states the rule rather than repeating the code."""

    def escape(char: str) -> str:
        code = ord(char)
        return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"

    decomposed = unicodedata.normalize("NFC", key) != key
    inner = range(len(key) - len(key.lstrip(" ")), len(key.rstrip(" ")))
    return "".join(
        "\\\\" if char == "\\"
        else escape(char) if not char.isprintable() or (decomposed and unicodedata.combining(char))
        or (char == " " and index not in inner)
        else char
        for index, char in enumerate(key)
    )


async def open_new_key(running: Session, other_writer, key: str, data: dict) -> None:
    try:
        await other_writer.create_item(SERVICE, running.map_sid, key, data)
    except AlreadyExists:  # an earlier example made it
        pass
    main = running.main
    main.action_refresh()
    await settle(running.pilot)
    assert key in main.item_table.items
    main.open_key_from_palette(key)
    await settle(running.pilot)
    opened = main.editor.open_item
    assert opened is not None and opened.key == key, f"{key!r} did not open: {running.told[-1:]}"


@short_and_long(
    UI_SETTINGS,
    12,
    100,
    given(key=hostile_key()),
    example(key="\x1b[2J"),
    example(key="[bold red]x"),
    example(key="\x1b]0;pwned\x07"),
    example(key="a\x00b"),
    example(key="\x9b31m"),
)
async def test_hostile_keys_show_literally_in_table_heading_and_header(hostile, other_writer, key):
    await open_new_key(hostile, other_writer, key, {"k": key})
    main = hostile.main
    shown = how_a_key_reads(key)
    cells = main.item_table.get_row(key)
    assert cells[0].plain == shown
    assert not cells[0].spans, "markup in the key was parsed"
    for cell in cells:
        assert not CONTROL.search(cell.plain), repr(cell.plain)
    heading = plain(main.editor.query_one("#editor-heading"))
    assert heading.startswith(shown) and not CONTROL.search(heading)
    location = plain(main.header.query_one("#location"))
    assert location.endswith(shown) and not CONTROL.search(location)
    assert raw_controls(terminal_output(hostile.pilot)) == []


async def test_a_key_with_a_newline_inside_can_be_opened(hostile, other_writer):
    key = "first line\nsecond line"
    await open_new_key(hostile, other_writer, key, {"k": key})
    assert hostile.main.item_table.get_row(key)[0].plain == "first line\\x0asecond line"


async def test_a_key_with_a_bidi_override_is_shown_escaped(hostile, other_writer):
    key = "invoice\u202efdp.exe"
    await open_new_key(hostile, other_writer, key, {"spoof": True})
    shown = hostile.main.item_table.get_row(key)[0].plain
    assert all(unicodedata.category(c) != "Cf" for c in shown), repr(shown)


# --- invalid UTF-8 straight to the emulator --------------------------------------------------


def is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


@pytest.fixture
async def raw_http(emulator):
    async with httpx.AsyncClient(
        transport=emulator_transport(emulator.app),
        base_url=EMULATOR_URL,
        auth=(DEFAULT_ACCOUNT_SID, DEFAULT_AUTH_TOKEN),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ) as client:
        yield client


INVALID_UTF8 = [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80", b"\xe2\x82", b"\x80", b"\xf5\x80\x80\x80", b"\xf0\x9f\x98"]


def form(fields: list[tuple[bytes, bytes]], *, percent_encode: bool) -> bytes:
    encode = (lambda b: quote_from_bytes(b, safe="").encode()) if percent_encode else (lambda b: b)
    return b"&".join(name + b"=" + encode(value) for name, value in fields)


def assert_54008(response: httpx.Response) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == TwilioCode.DATA_INVALID == 54008
    assert set(body) == {"code", "message", "more_info", "status"} and body["status"] == 400


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    junk=st.sampled_from(INVALID_UTF8) | st.binary(min_size=1, max_size=12).filter(lambda b: not is_utf8(b)),
    where=st.sampled_from(["in-a-string", "as-a-value", "in-a-name"]),
    percent_encode=st.booleans(),
    update=st.booleans(),
)
@example(junk=b"\xff", where="in-a-string", percent_encode=False, update=False)
@example(junk=b"\xed\xa0\x80", where="in-a-string", percent_encode=True, update=True)
async def test_invalid_utf8_in_data_is_refused_with_54008(emulator, raw_http, junk, where, percent_encode, update):
    data = {
        "in-a-string": b'{"a": "x' + junk + b'y"}',
        "as-a-value": b'{"a": ' + junk + b"}",
        "in-a-name": b'{"' + junk + b'": 1}',
    }[where]
    items = f"/v1/Services/{SERVICE}/Maps/orders/Items"
    if update:
        before = (await raw_http.get(f"{items}/order-0090")).json()
        body = form([(b"Data", data)], percent_encode=percent_encode)
        response = await raw_http.post(f"{items}/order-0090", content=body)
        assert_54008(response)
        after = (await raw_http.get(f"{items}/order-0090")).json()
        assert after["revision"] == before["revision"] and after["data"] == before["data"]
    else:
        key = "utf8-" + quote(junk.hex())
        body = form([(b"Key", key.encode()), (b"Data", data)], percent_encode=percent_encode)
        assert_54008(await raw_http.post(items, content=body))
        assert (await raw_http.get(f"{items}/{key}")).status_code == 404
