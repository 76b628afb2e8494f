"""What storage raises: its callers never see the database driver's or SQLAlchemy's errors."""

from __future__ import annotations

__all__ = ["StorageError"]


class StorageError(Exception):
    """A query or transaction failed (constraint, connection, bad value); nothing of it was
    committed. The original error is the `__cause__`."""
