"""The app's widgets. Only constants live here: importing a widget module costs start-up time."""

EDITOR_EMPTY_TEXT = "No item open. Pick one in the table (enter), or press n for a new one."
"""What the editor pane says with no item open: the ItemEditor, and its stand-in before the first frame."""
