"""Headless Sync domain code: models, client, errors, validation, merge. Never imports Textual."""
