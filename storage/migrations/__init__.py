"""Alembic migrations of the meetbot schema (a package so installs ship them)."""
