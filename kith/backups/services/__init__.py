"""Backups: make, encrypt, verify, restore and prune database backups (SQLite and PostgreSQL)."""
