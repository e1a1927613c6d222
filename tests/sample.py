"""What the sample sheet and the demo order book lead to in a calm run, for the tests that run them."""

from __future__ import annotations

from pathlib import Path

import pytest

# bulk's own settings and the credentials it would find: a test runs as a new user would.
SETTINGS = ("BULK_HOME", "BULK_CONFIG", "BULK_SANDBOX_ORDERS", "BULK_ASSUME_TTY", "LWA_APP_ID")


def as_a_new_user(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """Work in `folder` with no bulk settings, no config folder, no credentials files."""
    monkeypatch.chdir(folder)
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(folder))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(folder / "xdg"))


# Every row of samples/orders.xlsx and the status it ends in after `bulk submit --yes`.
EXPECTED = {
    2: "CANCELLED",
    3: "CANCELLED",
    4: "DEFERRED",
    5: "CANCELLED",
    6: "REJECTED",
    7: "ESCALATE",
    8: "CANCELLED",
    9: "HELD",
    10: "ESCALATE",
    11: "HELD",
    12: "CANCELLED",
    13: "CANCELLED",
    14: "REJECTED",
    15: "REJECTED",
    16: "REJECTED",
    17: "REJECTED",
}

# The orders the sample's submit cancels (each may have a customer message).
SENDABLE = {
    "112-0000001-0000001",
    "112-0000001-0000002",
    "112-0000001-0000004",
    "112-0000001-0000011",
    "112-0000001-0000012",
}
# Of those, the ones Amazon allows a message for (it allows none for ...12).
# Of those, the ones messaged: Amazon allows no message for ...12, and the buyer of ...04 asked
# Amazon to cancel (Amazon confirms it; its Notify is blank).
MESSAGED = SENDABLE - {"112-0000001-0000012", "112-0000001-0000004"}
