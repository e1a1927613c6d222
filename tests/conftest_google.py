"""Fixtures for the Google Sheets backend: the fake Sheets API, no sleeping, a key file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fake_sheets import FakeSheets

import bulk.sheets.google as google

SERVICE_ACCOUNT_EMAIL = "bulk-writer@bulk-test-project.iam.gserviceaccount.com"


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every wait the retry loop asked for; nothing really sleeps."""
    waits: list[float] = []
    monkeypatch.setattr(google, "_sleep", waits.append)
    return waits


@pytest.fixture
def fake_sheets(monkeypatch: pytest.MonkeyPatch, sleeps: list[float]) -> Iterator[FakeSheets]:
    """The fake Sheets API on 127.0.0.1, with SHEETS_EMULATOR_HOST pointing at it."""
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    with FakeSheets() as fake:
        monkeypatch.setenv("SHEETS_EMULATOR_HOST", fake.host)
        yield fake


@pytest.fixture(scope="session")
def private_key_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture
def service_account_file(tmp_path: Path, fake_sheets: FakeSheets, private_key_pem: str) -> Path:
    """A service-account key whose token endpoint is the fake's (no call leaves the machine)."""
    path = tmp_path / "service-account.json"
    info = {
        "type": "service_account",
        "project_id": "bulk-test-project",
        "private_key_id": "0123456789abcdef",
        "private_key": private_key_pem,
        "client_email": SERVICE_ACCOUNT_EMAIL,
        "client_id": "100000000000000000001",
        "token_uri": fake_sheets.token_uri,
    }
    path.write_text(json.dumps(info), encoding="utf-8")
    return path
