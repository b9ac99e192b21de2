"""Writes of privacy tooling. Every entry point (web, API, jobs) calls these."""
