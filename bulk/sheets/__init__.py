"""Sheet backends behind one interface; `open_sheet` picks one from what the user typed."""

from __future__ import annotations

from pathlib import Path

from bulk.columns import RESULT_COLUMNS
from bulk.errors import SheetError
from bulk.grid import Grid
from bulk.infra.resources import is_packaged_sample
from bulk.sheets.base import LossyFallbackError, RowUpdate, Sheet, WriteReport, is_google_target
from bulk.sheets.files import replace_atomically

__all__ = [
    "RESULT_COLUMNS",
    "Grid",
    "LossyFallbackError",
    "RowUpdate",
    "Sheet",
    "WriteReport",
    "open_sheet",
    "replace_atomically",
]


def open_sheet(
    target: str,
    worksheet: str | None = None,
    backup_dir: Path | None = None,
    google_credentials: str | None = None,
    allow_lossy: bool = False,
    google_source: str = "the credentials argument",
) -> Sheet:
    """A path (.xlsx, .xlsm, .csv) or a Google Sheets URL / `gsheet:KEY`; `google_source` says
    where `google_credentials` came from, for its errors (`[google] credentials in FILE`)."""
    if is_google_target(target):
        from bulk.sheets.google import open_google_sheet

        return open_google_sheet(target, worksheet, google_credentials, google_source)
    path = Path(target).expanduser()
    if is_packaged_sample(path):
        raise SheetError(
            f"{target} is bulk's own sample and stays as shipped; work on a copy: "
            f"`bulk new --sample {path.name}`, then `bulk check {path.name}`"
        )
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        from bulk.sheets.excel import ExcelSheet

        return ExcelSheet(path, worksheet, backup_dir, allow_lossy)
    if suffix == ".csv":
        from bulk.sheets.csvfile import CsvSheet

        return CsvSheet(path, backup_dir)
    raise SheetError(
        f"{target} is not a sheet bulk can open; use an .xlsx, .xlsm or .csv file "
        "or a Google Sheets URL"
    )
