"""The sandbox's clock: every reading of the time goes through `now()`, so freezegun can fix it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

_OFFSET_RE = re.compile(r"^([-+])(\d+(?:\.\d+)?)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


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


def resolve(value: str, now: datetime, ahead: bool = False) -> datetime | None:
    """`-3h`, `-2d`, `-90m` from `now` (and `+2d` when `ahead`), or an ISO-8601 timestamp with
    an offset; None when it is neither."""
    match = _OFFSET_RE.match(value.strip())
    if match and (ahead or match.group(1) == "-"):
        offset = timedelta(**{_UNITS[match.group(3)]: float(match.group(2))})
        return now + offset if match.group(1) == "+" else now - offset
    return parse_iso(value)
