"""syncmap-tui: a terminal editor for Twilio Sync Maps."""

__version__ = "0.1.0"
