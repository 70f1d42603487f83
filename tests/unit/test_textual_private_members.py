"""JsonArea (ui/widgets/json_area.py) leans on private members of Textual's TextArea and
WrappedDocument. Each one it relies on is checked here against the installed Textual, so that an
upgrade which renames or reshapes one fails here, loudly, instead of making the editor slow or
wrong quietly."""

from __future__ import annotations

import inspect

import pytest
from textual.document._wrapped_document import WrappedDocument
from textual.widgets import TextArea
from textual.widgets.text_area import TextAreaTheme

from syncmap_tui.ui.widgets.json_area import JsonArea, _WrappedDocument

SAMPLE = '{\n  "note": "' + "gift wrap, please. " * 20 + '",\n  "lines": [1, 2, 3]\n}'

OVERRIDDEN_METHODS = {
    # name: the parameters JsonArea's override takes and passes on
    "_set_document": ["self", "text", "language"],
    "_build_highlight_map": ["self"],
    "_watch_selection": ["self", "previous_selection", "selection"],
    "_on_paste": ["self", "event"],
    "render_lines": ["self", "crop"],
    "edit": ["self", "edit"],
    "post_message": ["self", "message"],
    "notify_style_update": ["self"],
}


@pytest.mark.parametrize("name", sorted(OVERRIDDEN_METHODS))
def test_each_overridden_text_area_method_still_has_its_signature(name):
    stock = getattr(TextArea, name)
    assert list(inspect.signature(stock).parameters) == OVERRIDDEN_METHODS[name]
    assert getattr(JsonArea, name) is not stock


def test_text_area_still_calls_the_hooks_json_area_replaces():
    """The overrides only work if TextArea still calls them: `_build_highlight_map` after every edit
    (JsonArea computes rows lazily instead), `_set_document` for every text loaded (the wrapped
    document's class swap), and `apply_css` in `render_lines` (which JsonArea skips until the theme
    changes, calling the render_lines under TextArea's)."""
    source = inspect.getsource(TextArea)
    assert source.count("self._build_highlight_map()") >= 3  # edit, undo, redo (and load)
    assert "self._set_document(" in inspect.getsource(TextArea.load_text)
    render_lines = inspect.getsource(TextArea.render_lines)
    assert "theme.apply_css(self)" in render_lines and "super().render_lines(crop)" in render_lines
    assert callable(TextAreaTheme.apply_css) and "syntax_styles" in TextAreaTheme.__dataclass_fields__


def test_the_private_attributes_json_area_reads_are_there():
    area = TextArea(SAMPLE, language="json", soft_wrap=True)
    for name in ("_highlight_query", "_highlights", "_line_cache", "_theme", "_matching_bracket_location"):
        assert hasattr(area, name), name
    assert area._highlight_query is not None  # tree-sitter JSON is installed: highlighting is on
    assert isinstance(area._highlights, dict)
    assert hasattr(area.document, "query_syntax_tree")
    for name in ("refresh_lines", "gutter_width", "suggestion", "wrapped_document"):
        assert hasattr(area, name), name
    for name in ("location_to_offset", "offset_to_location", "get_offsets", "wrap", "wrap_range"):
        assert callable(getattr(WrappedDocument, name)), name


def test_the_swapped_wrapped_document_keeps_the_stock_height():
    """`_WrappedDocument.height` is the length of `_offset_to_line_info`, one entry per screen line,
    which `wrap` and `wrap_range` keep up to date; the stock property sums every line's sections."""
    area = TextArea(SAMPLE, language="json", soft_wrap=True)
    wrapped = area.wrapped_document
    wrapped.wrap(30)
    stock_height = WrappedDocument.height.fget(wrapped)
    assert stock_height > SAMPLE.count("\n") + 1  # the long line wraps
    wrapped.__class__ = _WrappedDocument  # as JsonArea._set_document does
    assert wrapped.height == stock_height
    edit_result = area.document.replace_range((1, 10), (1, 10), "x" * 200)
    wrapped.wrap_range((1, 10), (1, 10), edit_result.end_location)
    assert wrapped.height == WrappedDocument.height.fget(wrapped)


def test_json_area_swaps_its_wrapped_document():
    area = JsonArea()
    area.load_text(SAMPLE)
    assert type(area.wrapped_document) is _WrappedDocument
