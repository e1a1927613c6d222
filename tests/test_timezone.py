"""The team's time zone ([sheet] timezone): Updated At is written in it with its offset, and a
DEFERRED row's Scheduled For is a day in it. End to end: the real sandbox over HTTP, a real
workbook, a frozen clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_cli import sandbox_record, sheet_rows
from test_due import bulk, workdir  # noqa: F401 (a fixture)
from test_messages import make_order, make_request

from bulk.config import parse_config
from bulk.errors import ConfigError
from bulk.formats import format_updated_at as stamp
from bulk.formats import parse_updated_at as parse_stamp
from bulk.rules.messages import message_context

LOS_ANGELES = '[sheet]\ntimezone = "America/Los_Angeles"\n'


def test_updated_at_is_written_in_the_team_zone_with_its_offset(workdir: Path) -> None:  # noqa: F811
    (workdir / "bulk.toml").write_text(LOS_ANGELES, encoding="utf-8")
    result = bulk("2026-12-06 19:03:00", "submit", "samples/orders.xlsx", "--yes")
    assert result.exit_code == 1, result.output
    rows = sheet_rows(workdir / "samples" / "orders.xlsx")
    assert rows[2]["Updated At"] == "2026-12-06 11:03 -08:00"
    assert rows[2]["Message Status"] == "sent 2026-12-06 11:03 -08:00"
    # In summer the same zone is seven hours behind.
    assert stamp(datetime(2026, 7, 1, 12, 0, tzinfo=UTC), ZoneInfo("America/Los_Angeles")) == (
        "2026-07-01 05:00 -07:00"
    )


def test_a_deferred_row_is_sent_on_its_day_in_the_team_zone(workdir: Path) -> None:  # noqa: F811
    (workdir / "bulk.toml").write_text(LOS_ANGELES, encoding="utf-8")
    sheet = workdir / "samples" / "orders.xlsx"
    first = bulk("2026-12-06 19:03:00", "submit", "samples/orders.xlsx", "--yes")
    assert first.exit_code == 1, first.output
    row = sheet_rows(sheet)[4]
    assert row["Status"] == "DEFERRED"
    assert row["Scheduled For"] == "2026-12-07"

    # 04:00 UTC on the 7th is still the evening of the 6th in Los Angeles: not its day yet.
    evening = bulk("2026-12-07 04:00:00", "due", "--yes")
    assert evening.exit_code == 0, evening.output
    assert "nothing due" in evening.output
    assert len(sandbox_record(workdir, "feeds")) == 1
    assert sheet_rows(sheet)[4]["Status"] == "DEFERRED"

    # 09:00 on the 7th in Los Angeles: its day.
    morning = bulk("2026-12-07 17:00:00", "due", "--yes")
    assert morning.exit_code == 0, morning.output
    assert sheet_rows(sheet)[4]["Status"] == "CANCELLED"
    assert len(sandbox_record(workdir, "feeds")) == 2


def test_a_day_that_has_come_in_tokyo_is_due_there(workdir: Path) -> None:  # noqa: F811
    (workdir / "bulk.toml").write_text('[sheet]\ntimezone = "Asia/Tokyo"\n', encoding="utf-8")
    sheet = workdir / "samples" / "orders.xlsx"
    first = bulk("2026-12-06 01:00:00", "submit", "samples/orders.xlsx", "--yes")
    assert first.exit_code == 1, first.output
    assert sheet_rows(sheet)[4]["Scheduled For"] == "2026-12-07"
    # 23:30 UTC on the 6th is 08:30 on the 7th in Tokyo: the row is due there.
    result = bulk("2026-12-06 23:30:00", "due")
    assert "run `bulk due --yes` to send" in result.output, result.output
    assert "nothing due" not in result.output


def test_older_stamps_still_read_and_a_bad_zone_is_one_clear_line() -> None:
    assert parse_stamp("2026-12-06 19:03 UTC") == datetime(2026, 12, 6, 19, 3, tzinfo=UTC)
    assert parse_stamp("2026-12-06 11:03 -08:00") == datetime(2026, 12, 6, 19, 3, tzinfo=UTC)
    assert parse_stamp("yesterday") is None
    with pytest.raises(ConfigError, match=r"\[sheet\] timezone 'Pacific' is not a time zone"):
        parse_config({"sheet": {"timezone": "Pacific"}})


def test_the_message_names_the_order_date_of_the_buyers_marketplace() -> None:
    # Placed at 00:30 on 7 December in Tokyo: 15:30 UTC on the 6th.
    order = replace(
        make_order("ja_JP"),
        purchased=datetime(2026, 12, 6, 15, 30, tzinfo=UTC),
        marketplace_id="A1VC38T7YXB528",
    )
    assert message_context(make_request(), order, "Shop", "ja_JP")["purchase_date"] == (
        "2026年12月7日"
    )
    # Placed at 20:00 on 6 December in Los Angeles: 04:00 UTC on the 7th.
    order = replace(
        make_order(),
        purchased=datetime(2026, 12, 7, 4, 0, tzinfo=UTC),
        marketplace_id="ATVPDKIKX0DER",
    )
    assert message_context(make_request(), order, "Shop", "en_US")["purchase_date"] == (
        "December 6, 2026"
    )
