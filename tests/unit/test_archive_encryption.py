"""AES-256 archives: every member encrypted, readable with the passphrase and only with it."""
import datetime as dt
import zipfile

import pytest
import pyzipper

from workflows.archive import build_archive, stage_store
from workflows.stores.base import Record


def test_encrypted_archive_opens_only_with_its_passphrase(tmp_path):
    staging = tmp_path / "staging"
    stage_store(staging, "accounts", [Record("accounts", "users", {"id": 1, "name": "Alice"})])
    target = tmp_path / "out.zip"
    build_archive(staging, target, reference="DSR-TEST-0001",
                  generated_at=dt.datetime(2026, 11, 27, tzinfo=dt.UTC),
                  statement={"company": "CraftOS", "stores": []}, password=b"correct horse")
    with zipfile.ZipFile(target) as plain:
        assert all(info.flag_bits & 0x1 for info in plain.infolist())
        with pytest.raises(RuntimeError, match="password required"):
            plain.read("data/accounts/users.json")
    with pyzipper.AESZipFile(target) as encrypted:
        encrypted.setpassword(b"wrong")
        with pytest.raises(RuntimeError):
            encrypted.read("data/accounts/users.json")
        encrypted.setpassword(b"correct horse")
        assert b"Alice" in encrypted.read("data/accounts/users.json")
        assert encrypted.read("index.html").lower().startswith(b"<!doctype html")
