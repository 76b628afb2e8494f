"""Encryption of secrets at rest (workspace app keys) with Fernet keys from MEETBOT_SECRET_KEY,
and the key file generated once into the data directory when that variable is unset.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Final

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

__all__ = ["KEY_FILE_NAME", "SecretBox", "SecretDecryptError", "load_or_create_key"]

KEY_FILE_NAME: Final = "secret.key"

logger = logging.getLogger(__name__)


class SecretDecryptError(Exception):
    """A stored secret that none of the configured keys opens (the token is not echoed)."""


class SecretBox:
    """Encrypts with the first key and decrypts with any (MultiFernet), so keys can rotate:
    put the new key first, keep the old ones after it until everything is re-encrypted."""

    __slots__ = ("_fernet", "_key_count")

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("MEETBOT_SECRET_KEY: no key given")
        fernets = []
        for position, key in enumerate(keys, start=1):
            try:
                fernets.append(Fernet(key))
            except (ValueError, TypeError):
                # Never echo the key: say which entry is wrong and what a key looks like.
                raise ValueError(
                    f"MEETBOT_SECRET_KEY: key #{position} is not a Fernet key "
                    "(32 url-safe base64-encoded bytes, e.g. from `Fernet.generate_key()`)"
                ) from None
        self._fernet = MultiFernet(fernets)
        self._key_count = len(fernets)

    @classmethod
    def from_keys(cls, keys: str) -> SecretBox:
        """Keys as MEETBOT_SECRET_KEY holds them: comma separated, newest (encrypting) first."""
        return cls([k.strip().encode() for k in keys.split(",") if k.strip()])

    @staticmethod
    def generate_key() -> str:
        """A new random Fernet key."""
        return Fernet.generate_key().decode()

    def encrypt(self, plain: str) -> str:
        """`plain` encrypted and authenticated with the first key, as URL-safe text."""
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        """The plain text of `token`; SecretDecryptError if no configured key opens it."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise SecretDecryptError(
                "a stored secret could not be decrypted with any key in MEETBOT_SECRET_KEY; "
                "was a key removed before the secrets were re-encrypted?"
            ) from None

    def opens(self, token: str) -> bool:
        """Whether some configured key opens `token` (the plain text is not kept)."""
        try:
            self._fernet.decrypt(token.encode())
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        """`token` re-encrypted with the first key (after a key rotation)."""
        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken:
            raise SecretDecryptError(
                "a stored secret could not be decrypted with any key in MEETBOT_SECRET_KEY"
            ) from None

    def __repr__(self) -> str:
        return f"SecretBox(<{self._key_count} key(s)>)"


def load_or_create_key(data_dir: Path) -> str:
    """The key in `<data_dir>/secret.key`, generated (mode 0600) on first use.

    Creation is atomic (written to a temporary file, then linked into place without
    overwriting), so two processes starting at once end up sharing one key.
    """
    path = data_dir / KEY_FILE_NAME
    if not path.exists():
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkstemp creates the file with mode 0600.
        fd, tmp_name = tempfile.mkstemp(dir=data_dir, prefix=".secret.key.")
        try:
            with os.fdopen(fd, "w") as tmp:
                tmp.write(SecretBox.generate_key() + "\n")
                tmp.flush()
                os.fsync(tmp.fileno())
            try:
                os.link(tmp_name, path)
                logger.info("generated a new secret key file in %s", data_dir)
            except FileExistsError:
                pass  # another process won the race; use its key
        finally:
            os.unlink(tmp_name)
    if path.stat().st_mode & 0o077:
        logger.warning("%s is readable by other users; it should be mode 0600", path)
    key = path.read_text().strip()
    try:
        SecretBox.from_keys(key)  # fail at start, not at the first decrypt
    except ValueError:
        raise ValueError(f"{path} does not hold a valid Fernet key") from None
    return key
