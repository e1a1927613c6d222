"""Writes the plan can already see will fail, refused before anything is sent."""

from __future__ import annotations

from collections.abc import Sequence

from bulk.columns import RESULT_COLUMNS
from bulk.errors import SheetError
from bulk.grid import CellKind, Grid, Header, column_letter
from bulk.models import Status
from bulk.pipeline.context import RowOutcome

# Result cells a message names before it says "and N more".
SHOWN_CELLS = 5


def refuse_unwritable(grid: Grid, header: Header, outcomes: Sequence[RowOutcome]) -> None:
    """Refuse the run when a result cell it would write holds a formula (the sheet writer never
    overwrites someone's formula) or lies in a range this account may not edit (a Google
    Sheet's protected range): the write would fail after the feed and the customer messages
    were sent. Found when the sheet is read, it stops the run before anything is sent."""
    columns = [(name, index) for name, index in header.columns.items() if name in RESULT_COLUMNS]
    written = {o.row for o in outcomes if o.changed or o.status is Status.SUBMITTED}
    cells = [
        f"{column_letter(index)}{row.number} ({name})"
        for row in grid.rows
        if row.number in written
        for name, index in columns
        if row.cell(index).kind is CellKind.FORMULA
    ]
    if grid.protected:
        # Result columns the sheet lacks are added right of its last column.
        right = max(header.columns.values(), default=-1) + 1
        missing = [name for name in RESULT_COLUMNS if name not in header.columns]
        added = [(name, right + k) for k, name in enumerate(missing)]
        _refuse_protected(grid, [*columns, *added], sorted(written))
    if not cells:
        return
    shown = ", ".join(cells[:SHOWN_CELLS])
    more = f" and {len(cells) - SHOWN_CELLS} more" if len(cells) > SHOWN_CELLS else ""
    which = f"result cell {shown} holds" if len(cells) == 1 else f"result cells {shown}{more} hold"
    raise SheetError(
        f"{which} a formula in sheet '{grid.name}', which bulk's results would replace; move "
        "the formulas out of the result columns (or clear those cells) and run again; nothing "
        "was sent"
    )


def _refuse_protected(grid: Grid, columns: list[tuple[str, int]], rows: list[int]) -> None:
    """A protected range this account may not edit covers a result cell the run would write."""
    cells = [
        f"{column_letter(index)}{row} ({name})"
        for row in rows
        for name, index in columns
        if grid.is_protected(row, index)
    ]
    if not cells:
        return
    shown = ", ".join(cells[:SHOWN_CELLS])
    more = f" and {len(cells) - SHOWN_CELLS} more" if len(cells) > SHOWN_CELLS else ""
    raise SheetError(
        f"result cells {shown}{more} in sheet '{grid.name}' are protected, and this account may "
        "not edit them; ask the sheet's owner to let it edit the result columns (Data > "
        "Protect sheets and ranges), and run again; nothing was sent"
    )
