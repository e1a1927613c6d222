"""How bulk writes and reads its own small values: moments in UTC, the Updated At cell,
percentages. One format each, so what one run writes the next reads back."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, tzinfo

# How earlier versions wrote a time in the sheet's Updated At column; still read back.
UTC_FORMAT = "%Y-%m-%d %H:%M UTC"


def utc(moment: datetime) -> datetime:
    """`moment` in UTC; a naive moment is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def format_updated_at(moment: datetime, zone: tzinfo = UTC) -> str:
    """How a time is written in the sheet (Updated At, Message Status): to the minute in the
    team's zone, with its offset ("2026-12-06 11:03 -08:00"), so a reader anywhere knows the
    moment."""
    local = moment.astimezone(zone)
    offset = local.strftime("%z")  # "-0800"
    return f"{local:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:5]}"


def parse_updated_at(text: str) -> datetime | None:
    """The moment `format_updated_at` wrote (or an older run's "2026-12-06 19:03 UTC"); None
    for a blank cell or a text in another form (typed by hand)."""
    text = text.strip()
    if not text:
        return None
    try:
        if text.endswith(" UTC"):
            return datetime.strptime(text, UTC_FORMAT).replace(tzinfo=UTC)
        return datetime.strptime(text, "%Y-%m-%d %H:%M %z")
    except ValueError:
        return None


def percent(rate: float) -> str:
    """0.02 -> "2%", 0.015 -> "1.5%", 0.02375 -> "2.38%": two decimals at most, no trailing 0."""
    return f"{rate * 100:.2f}".rstrip("0").rstrip(".") + "%"


# Nouns whose plural is not the noun + "s".
_PLURALS = {"entry": "entries", "reply": "replies", "this": "these", "is": "are", "was": "were"}


def plural(n: int, noun: str, many: str = "") -> str:
    """`noun` as it agrees with `n`: ("order", 1) -> "order", ("order", 2) -> "orders".
    `many` gives a plural the rule does not ("deferred row" needs none: the last word agrees)."""
    if n == 1:
        return noun
    if many:
        return many
    head, _, last = noun.rpartition(" ")
    word = _PLURALS.get(last, last + ("es" if last.endswith(("s", "x", "ch", "sh")) else "s"))
    return f"{head} {word}" if head else word


def counted(n: int, noun: str, many: str = "") -> str:
    """A count and its noun in agreement: "1 order", "2 orders", "1 deferred row", "0 buyers"."""
    return f"{n} {plural(n, noun, many)}"


def listed(items: list[str], conjunction: str = "and") -> str:
    """Items as a sentence lists them: "a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


# Locales whose people write a short date month first (12/7/2026 is 7 December); everyone else
# writes it day first (Unicode CLDR short date patterns). With no locale known, a date both ways
# could be is read month first, as Excel writes it out of the box.
MONTH_FIRST_LOCALES = frozenset({"en_US", "es_US", "en_PH", "fil_PH", "en_PR", "en_GU", "en_UM"})

_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$")
_SEPARATED_DAY = re.compile(r"^(\d{1,4})([./-])(\d{1,2})\2(\d{1,4})(?: .*)?$")


def parse_day(text: str, locale: str = "") -> date | None:
    """A day as a Scheduled For cell may hold it once a spreadsheet program rewrote it: ISO
    (2026-12-07, with or without a time), year first with slashes (2026/12/07), day first with
    dots (07.12.2026), or day and month with slashes or hyphens (12/7/2026): month first in a
    sheet whose locale writes so (or whose locale is not known), day first in any other, and
    whichever is possible when only one is (13/7/2026). None when it is no date of these."""
    text = text.strip()
    found = _ISO_DAY.match(text)
    if found:
        year, month, day = (int(part) for part in found.groups())
        return _day(year, month, day)
    found = _SEPARATED_DAY.match(text)
    if found is None:
        return None
    first, separator, second, last = found.groups()
    if len(first) == 4:
        return _day(int(first), int(second), int(last))
    if len(last) not in (2, 4) or len(first) > 2:
        return None
    year = int(last) + (2000 if len(last) == 2 else 0)
    a, b = int(first), int(second)
    if separator == "." or a > 12:
        return _day(year, b, a)
    if b > 12:
        return _day(year, a, b)
    month_first = not locale or locale.replace("-", "_") in MONTH_FIRST_LOCALES
    return _day(year, a, b) if month_first else _day(year, b, a)


def _day(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
