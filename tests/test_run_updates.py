"""The sheet update a run builds from its outcomes (bulk.pipeline.run._updates): every row its
own cells, every text masked, though a short text is masked once per run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bulk.columns import ResultColumn
from bulk.infra import masking
from bulk.infra.masking import MASK, remember_secret
from bulk.models import Status
from bulk.pipeline.context import RowOutcome
from bulk.pipeline.run import _updates

NOW = datetime(2026, 12, 6, 19, 3, tzinfo=UTC)
SECRET = "plain-s3cr3t-value-42"  # no shape or field name: masked as a remembered value only
MESSAGE, WHY = ResultColumn.CUSTOMER_MESSAGE, ResultColumn.MESSAGE_STATUS


@pytest.fixture(autouse=True)
def no_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(masking, "_known", ())


def outcome(
    row: int, result: str, message: str = "", why: str = "", status: Status = Status.READY
) -> RowOutcome:
    values = {MESSAGE: message, WHY: why}
    return RowOutcome(row, f"112-{row:07d}-{row:07d}", status, result, values)


def test_each_row_gets_its_own_cells_and_every_copy_of_a_text_is_masked() -> None:
    words = "the server answered: " + SECRET
    remember_secret(SECRET)
    long = "x" * 300 + SECRET  # past what is remembered: masked on its own
    updates = _updates(
        [
            outcome(2, words, long, words),
            outcome(3, words, long, words),
            outcome(4, "ready", status=Status.HELD),
        ],
        NOW,
        UTC,
    )
    assert [(u.row, u.order_id) for u in updates] == [
        (2, "112-0000002-0000002"),
        (3, "112-0000003-0000003"),
        (4, "112-0000004-0000004"),
    ]
    for u in updates[:2]:
        assert u.values["Result"] == f"the server answered: {MASK}"
        assert u.values["Customer Message"] == "x" * 300 + MASK
        assert u.values["Message Status"] == f"the server answered: {MASK}"
        assert u.values["Status"] == "READY"
        assert u.values["Updated At"] == "2026-12-06 19:03 +00:00"
    assert updates[2].values == {
        "Status": "HELD",
        "Result": "ready",
        "Updated At": "2026-12-06 19:03 +00:00",
        "Customer Message": "",
        "Message Status": "",
    }


def test_a_secret_learned_after_one_update_is_masked_in_the_next() -> None:
    words = "refused for " + SECRET
    (before,) = _updates([outcome(2, words, why=words)], NOW, UTC)
    remember_secret(SECRET)
    (after,) = _updates([outcome(2, words, why=words)], NOW, UTC)
    assert before.values["Result"] == before.values["Message Status"] == words
    assert after.values["Result"] == after.values["Message Status"] == f"refused for {MASK}"


def test_rows_left_alone_are_not_written() -> None:
    kept = outcome(2, "cancelled")
    kept.changed = False
    assert _updates([kept, outcome(3, "ready")], NOW, UTC)[0].row == 3
