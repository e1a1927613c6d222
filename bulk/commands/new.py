"""`bulk new`: a blank order sheet with dropdowns, a frozen header, status colours and instructions."""

from __future__ import annotations

from pathlib import Path

from bulk.columns import COLUMN_WIDTHS, INPUT_COLUMNS, RESULT_COLUMNS, WRAPPED_COLUMNS
from bulk.config import Config
from bulk.errors import SheetError
from bulk.infra.resources import copy_sample
from bulk.models import NOTIFY_CHOICES, Remedy, remedy_refused
from bulk.rules.rows import MAX_NOTE_CHARS
from bulk.sheets import replace_atomically
from bulk.sheets.base import column_letter

# Fill colours of the rows by status: light tints that print well, each at least 50 apart
# (RGB distance) from every other so that no two statuses look alike; the status word itself is
# bold, so colour is never the only cue.
STATUS_COLOURS: dict[str, str] = {
    "READY": "9BC2E6",
    "REJECTED": "FFC7CE",
    "HELD": "FFE699",
    "DEFERRED": "E2EFDA",
    "ESCALATE": "F4B084",
    "SUBMITTED": "D0C0E8",
    "CANCELLED": "A9D08E",
    "FAILED": "FF7C80",
}


INSTRUCTIONS = """\
How to use this sheet
1. Add one row per order to cancel: the Amazon order id (e.g. 112-1234567-1234567),
   a Reason from the dropdown, and Details in your own words (at least {min_details} characters).
   Details stay with your team and Seller Support: the buyer never sees them.
2. Items is optional: SKUs or 14-digit order item ids, comma-separated; blank cancels the whole order.
   A quantity after 'x' (MUG-RED x1) cancels part of a line, which needs Seller Support.
3. Remedy is optional: Refund (default), Replacement or None. It picks the customer message:
   Refund says Amazon refunds the buyer; Replacement says the buyer may place a new order;
   None adds nothing. Some reasons refuse Replacement (see below).
4. Notify is optional: Yes or No (blank: {notify_default}). Yes sends the customer message through
   Amazon after cancelling. A cancellation the buyer asked for gets no message unless Notify is Yes.
5. Note to Buyer is optional: the only text of yours the buyer reads, quoted in the customer
   message as you write it, in the buyer's language, at most {max_note} characters. No phone
   numbers, e-mail or web addresses, messaging apps or social accounts, discount codes or offers:
   Amazon forbids them, and bulk then sends no message for the row.
6. What reaches the buyer: the customer message (bulk's text for the Reason and Remedy, in the
   buyer's language, with your Note to Buyer) and Amazon's own cancellation e-mail. The Customer
   Message column shows the text before it is sent; Message Status says when one will not be.
7. Run `bulk check FILE` to validate and preview, then `bulk submit FILE` to send.
8. bulk fills the columns from Status onwards. Do not edit them, except to clear a FAILED status
   when you want a row tried again. A status bulk did not write is not trusted: bulk checks
   that row as a new one (a CANCELLED typed here stays only if Amazon shows the order cancelled).
9. Times are the team's ({zone}; [sheet] timezone in bulk.toml): Updated At carries its offset
   (2026-12-06 11:03 -08:00), and Scheduled For is a day in that zone: the row is sent that day.
10. `bulk pull FILE` adds a row for each unshipped order whose buyer asked Amazon to cancel and
   that no row holds yet (Reason Buyer requested, the buyer's words in Details), below the last
   row; it sends nothing. Buyers' requests never wait for the budget: they do not count.
11. The budget never defers a row past its order's ship-by date: a row that cannot fit by then
   is HELD, and Result gives both choices and their cost (cancel today over the target, or ship).

Statuses
READY      passed every check; `bulk submit` will send it
REJECTED   something must be fixed: Result says what
HELD       valid, but a person must decide (e.g. older than the time window)
DEFERRED   over today's cancellation budget; bulk sends it on the day in Scheduled For
           (never after the order's ship-by date)
ESCALATE   the API cannot cancel it (FBA, partly shipped): paste Support Case into Seller Support
SUBMITTED  sent to Amazon; the result is pending (`bulk status FILE` collects it)
CANCELLED  Amazon confirmed the cancellation
FAILED     Amazon refused it: Result holds Amazon's words
"""


def _check_new(path: Path) -> None:
    if path.suffix.lower() != ".xlsx":
        raise SheetError(f"{path}: `bulk new` writes .xlsx workbooks; name the file *.xlsx")
    if path.exists():
        raise SheetError(f"{path} already exists; choose another name or delete it first")
    if not path.parent.exists():
        raise SheetError(f"folder {path.parent} does not exist")


def create_sample_sheet(path: Path) -> None:
    """Write a copy of the sample sheet that comes with bulk; refuses to overwrite."""
    _check_new(path)
    replace_atomically(path, copy_sample, None)


def create_order_sheet(path: Path, config: Config, rows: int = 1000) -> None:
    """Write a new order workbook; refuses to overwrite an existing file."""
    from openpyxl import Workbook
    from openpyxl.formatting.rule import FormulaRule
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    _check_new(path)

    wb = Workbook()
    ws = wb.active
    ws.title = "Orders"
    headers = [*INPUT_COLUMNS, *RESULT_COLUMNS]
    ws.append(headers)
    bold = Font(bold=True, color="FFFFFF")
    head_fill = PatternFill("solid", fgColor="305496")
    result_fill = PatternFill("solid", fgColor="808080")
    for index, name in enumerate(headers):
        cell = ws.cell(1, index + 1)
        cell.font = bold
        cell.fill = result_fill if name in RESULT_COLUMNS else head_fill
        cell.alignment = Alignment(vertical="center")
        ws.column_dimensions[column_letter(index)].width = COLUMN_WIDTHS.get(name, 16)
    ws.freeze_panes = "A2"
    col = {name: column_letter(i) for i, name in enumerate(headers)}
    last = rows + 1

    # Order ids and items are text: Excel would turn a 14-digit item id into 1.23E+13.
    for name in ("Order ID", "Items"):
        for r in range(2, last + 1):
            ws[f"{col[name]}{r}"].number_format = "@"

    labels = ",".join(r.label for r in config.reasons)
    if len(labels) > 255:
        raise SheetError("the reason labels are too long for an Excel dropdown (255 characters)")
    dropdowns = {
        "Reason": f'"{labels}"',
        "Remedy": '"' + ",".join(r.value for r in Remedy) + '"',
        "Notify": '"' + ",".join(NOTIFY_CHOICES) + '"',
    }
    for name, formula in dropdowns.items():
        dv = DataValidation(type="list", formula1=formula, allow_blank=True, showErrorMessage=True)
        dv.error = f"Pick a {name} from the list"
        dv.errorTitle = f"Unknown {name}"
        dv.add(f"{col[name]}2:{col[name]}{last}")
        ws.add_data_validation(dv)

    status = col["Status"]
    for value, colour in STATUS_COLOURS.items():
        ws.conditional_formatting.add(
            f"A2:{column_letter(len(headers) - 1)}{last}",
            FormulaRule(
                formula=[f'${status}2="{value}"'],
                fill=PatternFill("solid", bgColor=colour),
            ),
        )
    # The column's own style too: a cell written below the styled rows (by bulk, or typed in
    # Excel) takes it.
    wrap = Alignment(wrap_text=True, vertical="top")
    for name in WRAPPED_COLUMNS:
        ws.column_dimensions[col[name]].alignment = wrap
        for r in range(2, last + 1):
            ws[f"{col[name]}{r}"].alignment = wrap
    strong = Font(bold=True)
    ws.column_dimensions[status].font = strong
    for r in range(2, last + 1):
        ws[f"{status}{r}"].font = strong
    # A filter on the header: staff pick the REJECTED rows, or one day's DEFERRED ones.
    ws.auto_filter.ref = f"A1:{column_letter(len(headers) - 1)}{last}"

    info = wb.create_sheet("Instructions")
    info.column_dimensions["A"].width = 110
    text = INSTRUCTIONS.format(
        min_details=config.policy.min_details_chars,
        notify_default="Yes" if config.messages.notify else "No",
        max_note=MAX_NOTE_CHARS,
        zone=str(config.zone),
    )
    for r, line in enumerate(text.splitlines(), start=1):
        info.cell(r, 1, line)
    info["A1"].font = Font(bold=True, size=14)
    info.cell(len(text.splitlines()) + 2, 1, "Reasons and the Amazon code each sends").font = Font(
        bold=True
    )
    for r, reason in enumerate(config.reasons, start=len(text.splitlines()) + 3):
        refused = [m.value for m in Remedy if remedy_refused(reason.code, m)]
        info.cell(
            r,
            1,
            f"{reason.label}: {reason.code}"
            + (f" (not with Remedy {', '.join(refused)})" if refused else ""),
        )

    replace_atomically(path, wb.save, None)
