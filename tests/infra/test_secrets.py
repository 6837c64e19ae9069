"""The platform's two binary secrets, SIGNING_KEY (heads and exports) and
DATA_KEY (wraps each person's data key), are loaded the same way: from the
setting, or in development from a key made once under the data directory;
production refuses to start without them, and a bad value is refused with the
setting named."""
from __future__ import annotations

import base64
import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from infra import audit
from infra.personal_data import load_data_key
from infra.secrets import SecretError
from infra.settings import Settings


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env({"SECRET_KEY": "x", "SROI_DATA_DIR": str(tmp_path), **env})


def raw_signing_key(s: Settings) -> bytes:
    return base64.b64decode(audit.public_key_b64(audit.load_signing_key(s)))


def test_in_development_each_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    s = settings(tmp_path)
    data_key = load_data_key(s)
    public = raw_signing_key(s)
    assert len(data_key) == 32 and len(public) == 32
    for name in ("data-key", "signing-key"):
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    assert load_data_key(s) == data_key and raw_signing_key(s) == public
    assert data_key != base64.b64decode((tmp_path / "signing-key").read_text())


def test_the_settings_win_over_the_development_files(tmp_path: Path) -> None:
    data, seed = bytes(range(32)), bytes(range(32, 64))
    s = settings(tmp_path, DATA_KEY=base64.b64encode(data).decode(), SIGNING_KEY=base64.b64encode(seed).decode())
    assert load_data_key(s) == data
    assert audit.public_key_b64(audit.load_signing_key(s)) == audit.public_key_b64(
        Ed25519PrivateKey.from_private_bytes(seed))
    assert not (tmp_path / "data-key").exists() and not (tmp_path / "signing-key").exists()


def test_production_refuses_to_start_without_either_key(tmp_path: Path) -> None:
    s = settings(tmp_path, SROI_ENV="production")
    with pytest.raises(SecretError, match=r"DATA_KEY must be set in production \(base64 of 32 random bytes\)"):
        load_data_key(s)
    with pytest.raises(audit.SigningKeyMissing, match=r"SIGNING_KEY must be set in production"):
        audit.load_signing_key(s)
    assert not (tmp_path / "data-key").exists() and not (tmp_path / "signing-key").exists()


@pytest.mark.parametrize("value", [base64.b64encode(b"too short").decode(), "not base64 at all!"])
def test_a_key_that_is_not_32_bytes_of_base64_is_refused_naming_its_setting(tmp_path: Path, value: str) -> None:
    s = settings(tmp_path, DATA_KEY=value, SIGNING_KEY=value)
    with pytest.raises(SecretError, match="DATA_KEY must be the base64 of exactly 32 bytes"):
        load_data_key(s)
    with pytest.raises(audit.SigningKeyMissing, match="SIGNING_KEY must be the base64 of exactly 32 bytes"):
        audit.load_signing_key(s)


def test_a_damaged_development_key_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "data-key").write_text("c2hvcnQ=")
    with pytest.raises(SecretError, match=r"data-key \(used while DATA_KEY is unset\) must be the base64"):
        load_data_key(settings(tmp_path))
