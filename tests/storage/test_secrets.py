"""SecretBox encrypts with the newest key and opens tokens of any configured key; the key file
is generated once with mode 0600 and reused; keys and tokens never show in errors or repr."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from storage.secrets import KEY_FILE_NAME, SecretBox, SecretDecryptError, load_or_create_key

OLD = Fernet.generate_key().decode()
NEW = Fernet.generate_key().decode()
PLAIN = "app-key: s3cr3t/ü 'quoted' \"double\""


def test_encrypt_round_trips_and_hides_the_plain_text() -> None:
    box = SecretBox.from_keys(NEW)
    token = box.encrypt(PLAIN)
    assert PLAIN not in token
    assert "s3cr3t" not in token
    assert box.decrypt(token) == PLAIN


def test_each_encryption_is_different() -> None:
    box = SecretBox.from_keys(NEW)
    assert box.encrypt(PLAIN) != box.encrypt(PLAIN)


def test_rotation_new_key_first_still_opens_old_tokens() -> None:
    old_token = SecretBox.from_keys(OLD).encrypt(PLAIN)
    rotated = SecretBox.from_keys(f"{NEW}, {OLD}")
    assert rotated.decrypt(old_token) == PLAIN
    # New secrets are encrypted with the first key only: the old key alone cannot open them.
    new_token = rotated.encrypt(PLAIN)
    assert SecretBox.from_keys(NEW).decrypt(new_token) == PLAIN
    with pytest.raises(SecretDecryptError):
        SecretBox.from_keys(OLD).decrypt(new_token)


def test_rotate_re_encrypts_under_the_first_key() -> None:
    old_token = SecretBox.from_keys(OLD).encrypt(PLAIN)
    re_encrypted = SecretBox.from_keys(f"{NEW},{OLD}").rotate(old_token)
    assert SecretBox.from_keys(NEW).decrypt(re_encrypted) == PLAIN


def test_token_no_key_opens_is_a_clear_error_without_the_token() -> None:
    token = SecretBox.from_keys(OLD).encrypt(PLAIN)
    with pytest.raises(SecretDecryptError, match="MEETBOT_SECRET_KEY") as info:
        SecretBox.from_keys(NEW).decrypt(token)
    assert token not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__


@pytest.mark.parametrize(
    "keys",
    [
        pytest.param("not-a-fernet-key-hunter2", id="garbage"),
        pytest.param(f"{NEW},hunter2", id="second-bad"),
        pytest.param(" , ", id="empty"),
    ],
)
def test_bad_keys_name_the_setting_without_echoing_them(keys: str) -> None:
    with pytest.raises(ValueError, match="MEETBOT_SECRET_KEY") as info:
        SecretBox.from_keys(keys)
    assert "hunter2" not in str(info.value)
    assert NEW not in str(info.value)


def test_repr_shows_no_key() -> None:
    box = SecretBox.from_keys(f"{NEW},{OLD}")
    assert NEW not in repr(box)
    assert OLD not in repr(box)
    assert NEW not in str(box)


def test_key_file_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    data_dir = tmp_path / "data" / "nested"
    key = load_or_create_key(data_dir)
    path = data_dir / KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_text().strip() == key
    assert load_or_create_key(data_dir) == key
    assert SecretBox.from_keys(key).decrypt(SecretBox.from_keys(key).encrypt(PLAIN)) == PLAIN
    assert [p.name for p in data_dir.iterdir()] == [KEY_FILE_NAME]


def test_concurrent_first_starts_share_one_key(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=8) as pool:
        keys = set(pool.map(lambda _: load_or_create_key(tmp_path), range(16)))
    assert len(keys) == 1
    assert [p.name for p in tmp_path.iterdir()] == [KEY_FILE_NAME]


def test_an_existing_key_file_is_used_as_is(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE_NAME).write_text(f"{OLD}\n")
    assert load_or_create_key(tmp_path) == OLD


def test_a_corrupt_key_file_fails_without_echoing_it(tmp_path: Path) -> None:
    (tmp_path / KEY_FILE_NAME).write_text("hunter2\n")
    with pytest.raises(ValueError, match=KEY_FILE_NAME) as info:
        load_or_create_key(tmp_path)
    assert "hunter2" not in str(info.value)
