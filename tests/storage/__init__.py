"""Tests of the storage package (SQLite always, PostgreSQL when configured)."""
