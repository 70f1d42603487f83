"""Flows of the main screen that are more than routing: each module one concern."""
