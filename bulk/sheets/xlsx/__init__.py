"""Cells of an existing .xlsx/.xlsm read and written in its XML, every other part kept byte for byte."""

from __future__ import annotations

from bulk.sheets.xlsx.parts import sheet_names
from bulk.sheets.xlsx.read import read_grid
from bulk.sheets.xlsx.rewrite import write_cells, write_rows

__all__ = ["read_grid", "sheet_names", "write_cells", "write_rows"]
