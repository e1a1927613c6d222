"""The sandbox's clock: every reading of the time goes through `now()`, so freezegun can fix it."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time, timezone-aware (UTC)."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """Amazon's timestamp form: UTC, whole seconds, `Z` (e.g. ordersV0.json examples)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime | None:
    """An ISO-8601 timestamp as an aware datetime; None when it is not one or has no offset."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)
