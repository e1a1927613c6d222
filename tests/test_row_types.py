"""The types a run keeps one of per row stay small: a 100,000-row run holds them all at once."""

from __future__ import annotations

import pytest

from bulk.grid import Cell, SheetRow
from bulk.models import CancelRequest, Decision, ItemRef, Order, OrderItem
from bulk.pipeline.context import RowOutcome
from bulk.rules.rows import ParsedRow
from bulk.sheets.base import RowUpdate

PER_ROW = [Cell, SheetRow, RowUpdate, ParsedRow, CancelRequest, ItemRef, Order, OrderItem]
PER_ROW += [Decision, RowOutcome]


@pytest.mark.parametrize("kind", PER_ROW, ids=lambda k: k.__name__)
def test_a_per_row_type_has_slots_and_no_dict_per_instance(kind: type) -> None:
    # A __dict__ per instance costs about 100 bytes more for each of these, on every row.
    assert "__slots__" in vars(kind)
    assert "__dict__" not in vars(kind)
