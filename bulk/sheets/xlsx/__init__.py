"""Cells of an existing .xlsx/.xlsm read and written in its XML, every other part kept byte for byte."""

from __future__ import annotations

from bulk.sheets.xlsx._parts import sheet_names
from bulk.sheets.xlsx._read import read_grid
from bulk.sheets.xlsx._rewrite import write_cells, write_rows

__all__ = ["read_grid", "sheet_names", "write_cells", "write_rows"]
