"""Reading a worksheet's cells losslessly: shared strings, styles, values, merged ranges."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bulk.errors import SheetError
from bulk.grid import BLANK, Cell, CellKind, Grid, SheetRow
from bulk.infra.heap import without_cycle_collection
from bulk.sheets.base import column_index, column_letter

if TYPE_CHECKING:
    from openpyxl.formula.translate import Translator
from bulk.sheets.xlsx._parts import _MAX_ROW, _load_book, _open_zip, _xml
from bulk.sheets.xlsx._scan import (
    _CELL_COL,
    _attrs,
    _parse_range,
    _Patterns,
    _patterns,
    _prefix_of,
    _row_number,
    _SheetStream,
    _text_of,
    _without_cdata,
)

# ----------------------------------------------------------------------------------------------
# Reading.


def _shared_strings(z: zipfile.ZipFile, part: str | None) -> list[str]:
    """Every shared string, rich-text runs joined, phonetic guides (rPh) left out."""
    if part is None:
        return []
    data = z.read(part)
    pat = _patterns(_prefix_of(data[:4096], part))
    if pat.prefix:
        return [_shared_string(pat, m.group(2) or b"") for m in pat.si.finditer(data)]
    # A plain string (as Excel writes most) is decoded straight from the one match.
    return [
        plain.decode("utf-8") if plain else _shared_string(pat, body)
        for plain, _attrs, body in _SHARED.findall(data)
    ]


def _shared_string(pat: _Patterns, body: bytes) -> str:
    """The text of one <si>: rich-text runs joined, phonetic guides (rPh) left out."""
    if b"rPh" in body:
        body = pat.phonetic.sub(b"", body)
    return "".join([_text_of(t.group(1)) for t in pat.text.finditer(body)])


# An <si> holding one <t> of text with nothing to decode (group 1), else any <si> (groups 2 and
# 3: its attributes and body, as _Patterns.si).
_SHARED = re.compile(
    rb'<si><t(?: xml:space="preserve")?>([^<&_\r]++)</t></si>|' + _patterns(b"").si.pattern
)


# Built-in number formats that show dates and times (ECMA-376 Part 1, 18.8.30, with the
# East Asian ones 27-36 and 50-58); 46 is [h]:mm:ss, a duration.
_BUILTIN_DATES = frozenset([*range(14, 23), *range(27, 37), *range(45, 48), *range(50, 59)])


def _format_kind(code: str) -> str:
    """'date', 'duration' or '' for a number format code (its first section)."""
    code = re.sub(r'"[^"]*"|\\.|_.|\*.', "", code).split(";")[0]
    if re.search(r"\[(h+|m+|s+)\]", code, re.IGNORECASE):
        return "duration"
    code = re.sub(r"\[[^\]]*\]|general", "", code, flags=re.IGNORECASE)
    return "date" if re.search(r"[dmyhs]", code, re.IGNORECASE) else ""


def _style_kinds(z: zipfile.ZipFile, part: str | None) -> list[str]:
    """For each cell format (the s= index), whether its number format shows a date."""
    if part is None:
        return []
    root = _xml(z, part)
    custom = {
        fmt.get("numFmtId", ""): fmt.get("formatCode", "")
        for fmts in root.iterchildren("{*}numFmts")
        for fmt in fmts.iterchildren("{*}numFmt")
    }
    kinds: list[str] = []
    for xfs in root.iterchildren("{*}cellXfs"):
        for xf in xfs.iterchildren("{*}xf"):
            fmt_id = xf.get("numFmtId", "0")
            if fmt_id in custom:
                kinds.append(_format_kind(custom[fmt_id]))
            elif fmt_id.isdigit() and int(fmt_id) in _BUILTIN_DATES:
                kinds.append("duration" if fmt_id == "46" else "date")
            else:
                kinds.append("")
    return kinds


def _number_text(value: float) -> str:
    if value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(value)


def _date_text(serial: float, kind: str, date1904: bool) -> str | None:
    """ISO text of an Excel serial date ('2024-05-01', '2024-05-01T13:45:00', '13:45:00')."""
    if kind == "duration":
        seconds = round(abs(serial) * 86400)
        sign = "-" if serial < 0 else ""
        return f"{sign}{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    if not 0 <= serial < 2958466:  # before 1900 or after 9999-12-31: Excel shows ####
        return None
    if date1904:
        epoch = datetime(1904, 1, 1)
    elif serial < 60:
        epoch = datetime(1899, 12, 31)  # Excel counts a 29 February 1900 that never was
    else:
        epoch = datetime(1899, 12, 30)
    moment = epoch + timedelta(milliseconds=round(serial * 86_400_000))
    if serial < 1 and not date1904:
        return moment.time().isoformat()
    if moment.time() == datetime.min.time():
        return moment.date().isoformat()
    return moment.isoformat()


# A cell as Excel writes it: attributes r, s, t in this order and nothing else (cm, vm and ph
# are rare), no namespace prefix. Rows made only of such cells are read without a dict per cell.
# Group 4 is the text of an inline string with nothing to decode (as bulk and openpyxl write
# them), group 5 the body of any other cell.
_EXCEL_CELL = re.compile(
    rb'<c r="([A-Z]{1,3})[0-9]+"(?: s="([0-9]+)")?(?: t="([a-zA-Z]+)")?'
    rb'(?:/>|><is><t(?: xml:space="preserve")?>([^<&_\r]+)</t></is></c>'
    rb"|>([^<]*(?:<(?!/c>)[^<]*)*)</c>)"
)
_CACHED_TEXT = 200  # bytes: longer inline texts (Details, messages) are rarely repeated
_CACHED_CELLS = 100_000  # distinct (type, style, XML) cells kept, so each Cell is made once
_CACHED_PER_COLUMN = 2048  # distinct cells kept for one column by _scan_rows


@dataclass
class _CellReader:
    """Turns <c> elements into Cells: text as the sheet shows it, and the kind of value."""

    pat: _Patterns
    strings: list[str]
    styles: list[str]
    date1904: bool
    shared: dict[bytes, tuple[str, str]] = field(default_factory=dict)  # si -> formula, origin
    translators: dict[bytes, Translator] = field(default_factory=dict)
    columns: dict[bytes, int] = field(default_factory=dict)  # column letters -> index
    made: dict[tuple[bytes, bytes, bytes], Cell] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.cell_starts = tuple(b"<" + self.pat.prefix + b"c" + end for end in (b" ", b">", b"/"))
        # For _scan_rows: a cell's attributes other than r= -> body -> Cell, and -> (t=, s=).
        self.fast_made: dict[bytes, dict[bytes, Cell]] = {}
        self.fast_kinds: dict[bytes, tuple[bytes, bytes]] = {}
        self.fast_count = 0
        self.fast_new: dict[int, int] = {}  # column -> cells kept for it

    def fast_cell(
        self, attrs: bytes, body: bytes, number: int, col: int, known: dict[bytes, Cell]
    ) -> Cell:
        """The Cell of a <c> element found by _scan_rows, kept in `known` for the next one
        with the same attributes and body (dropdown values repeat on every row)."""
        if (kind := self.fast_kinds.get(attrs)) is None:
            named = _attrs(attrs)
            kind = self.fast_kinds[attrs] = (named.get(b"t", b""), named.get(b"s", b""))
        t, style = kind
        if not body:
            cell = BLANK
        elif t == b"inlineStr" and (m := _PLAIN_INLINE.fullmatch(body)):
            cell = Cell(m.group(1).decode("utf-8"), CellKind.TEXT)
        else:
            cell = self.cell(t or b"n", style, body, number, col)
            # A formula's text depends on where it is (shared formulas): not reused.
            if b"<f" in body:
                return cell
        # A column whose values keep being new (Order ID) stops being kept: its cells would
        # only hold memory until the read is done.
        kept = self.fast_new.get(col, 0)
        if (
            kept < _CACHED_PER_COLUMN
            and self.fast_count < _CACHED_CELLS
            and len(body) <= _CACHED_TEXT
        ):
            known[body] = cell
            self.fast_count += 1
            self.fast_new[col] = kept + 1
        return cell

    def row(self, row: bytes, number: int) -> list[Cell]:
        """The cells of one <row> element by column (BLANK where it has none); [] if all blank."""
        found: list[tuple[bytes, bytes, bytes, bytes, bytes]] = []
        if not self.pat.prefix:
            found = _EXCEL_CELL.findall(row)
        if not found or len(found) != sum(row.count(start) for start in self.cell_starts):
            found = [
                self.generic(m.group(1), m.group(2) or b"") for m in self.pat.cell.finditer(row)
            ]
        cells: list[Cell] = []
        col = -1
        columns, made = self.columns, self.made
        shown = False
        for letters, style, t, inline, body in found:
            if not letters:
                col += 1  # r= may be left out: the cell after the one before
            elif (col := columns.get(letters, -1)) < 0:
                col = columns[letters] = column_index(letters.decode())
            cell: Cell | None = None
            if inline:
                # Dropdown values (Reason, Remedy, Notify) repeat on every row: one Cell each.
                if (cell := made.get(key := (b"inlineStr", b"", inline))) is None:
                    cell = Cell(inline.decode("utf-8"), CellKind.TEXT)
                    if len(made) < _CACHED_CELLS and len(inline) <= _CACHED_TEXT:
                        made[key] = cell
            elif (cell := made.get(key := (t, style, body))) is None:
                cell = self.cell(t or b"n", style, body, number, col) if body else BLANK
                # A formula's text depends on where it is (shared formulas): not reused.
                if len(made) < _CACHED_CELLS and b"<" + self.pat.prefix + b"f" not in body:
                    made[key] = cell
            if cell is BLANK:
                continue
            shown = shown or cell.kind is not CellKind.TEXT or bool(cell.text.strip())
            if col == len(cells):
                cells.append(cell)
            else:
                if col > len(cells):
                    cells.extend([BLANK] * (col - len(cells) + 1))
                cells[col] = cell
        return cells if shown else []

    @staticmethod
    def generic(attrs: bytes, body: bytes) -> tuple[bytes, bytes, bytes, bytes, bytes]:
        """(column letters, s=, t=, body) of a cell written in any attribute order."""
        named = _attrs(attrs)
        ref = _CELL_COL.search(attrs)
        letters = ref.group(1).upper() if ref else b""
        return letters, named.get(b"s", b""), named.get(b"t", b""), b"", body

    def cell(self, t: bytes, style: bytes, body: bytes, row: int, col: int) -> Cell:
        pat = self.pat
        if b"<" + pat.prefix + b"f" in body and (f := pat.formula.search(body)):
            return Cell(self.formula(_attrs(f.group(1)), f.group(2), row, col), CellKind.FORMULA)
        if t == b"inlineStr":
            runs = pat.phonetic.sub(b"", body)
            text = "".join([_text_of(m.group(1)) for m in pat.text.finditer(runs)])
            return Cell(text, CellKind.TEXT)
        v = pat.value.search(body)
        if v is None:
            return BLANK
        raw = v.group(1)
        if t == b"s":
            try:
                return Cell(self.strings[int(raw)], CellKind.TEXT)
            except (ValueError, IndexError):
                return Cell(_text_of(raw), CellKind.ERROR)
        if t == b"n":
            return self.number(raw, style)
        if t == b"b":
            return Cell("TRUE" if raw.strip() in (b"1", b"true") else "FALSE", CellKind.BOOL)
        if t == b"e":
            return Cell(_text_of(raw), CellKind.ERROR)
        if t == b"d":  # an ISO 8601 date (strict files, LibreOffice)
            try:
                moment = datetime.fromisoformat(_text_of(raw).strip())
            except ValueError:
                return Cell(_text_of(raw), CellKind.TEXT)
            if moment.time() == datetime.min.time():
                return Cell(moment.date().isoformat(), CellKind.DATE)
            return Cell(moment.isoformat(), CellKind.DATE)
        return Cell(_text_of(raw), CellKind.TEXT)  # t="str": a formula's text, formula gone

    def number(self, raw: bytes, style: bytes) -> Cell:
        try:
            value = float(raw)
        except ValueError:
            return Cell(_text_of(raw), CellKind.ERROR)
        if style.isdigit() and int(style) < len(self.styles):
            kind = self.styles[int(style)]
            if kind and (text := _date_text(value, kind, self.date1904)) is not None:
                return Cell(text, CellKind.DATE)
        return Cell(_number_text(value), CellKind.NUMBER)

    def formula(self, attrs: dict[bytes, bytes], body: bytes | None, row: int, col: int) -> str:
        """'=' and the formula; a cell sharing another's formula gets it moved, as Excel shows."""
        text = _text_of(body) if body else ""
        if attrs.get(b"t") != b"shared":
            return "=" + text
        si = attrs.get(b"si", b"")
        here = f"{column_letter(col)}{row}"
        if text:
            self.shared[si] = (text, here)
            return "=" + text
        if si not in self.shared:
            return "="
        if si not in self.translators:
            from openpyxl.formula.translate import Translator

            formula, origin = self.shared[si]
            self.translators[si] = Translator("=" + formula, origin)
        return str(self.translators[si].translate_formula(here))


def read_grid(path: Path, sheet: str, *, fast: bool = True) -> Grid:
    """Every non-empty row of one worksheet, each cell as text with the kind of value it holds.

    `fast=False` reads every row one by one, as the scanner of many rows at once hands rows
    it does not know to (tests compare the two)."""
    # Hundreds of thousands of new objects, none in a reference cycle: the cyclic collector
    # would walk the growing heap again and again (a quarter of the time at 100k rows).
    with without_cycle_collection():
        return _read_grid(path, sheet, fast)


def _read_grid(path: Path, sheet: str, fast: bool) -> Grid:
    with _open_zip(path) as z:
        book = _load_book(z)
        target = book.worksheet(path, sheet)
        if target.part not in z.NameToInfo:
            raise SheetError(f"{path} has no part {target.part}; the file is damaged")
        strings = _shared_strings(z, book.shared_strings)
        styles = _style_kinds(z, book.styles)
        where = f"{path.name}: {target.part}"
        found: tuple[dict[int, Sequence[Cell]], set[int], bytes] | None = None
        if fast:
            with z.open(target.part) as raw:
                stream = _SheetStream(raw, where)
                reader = _CellReader(stream.pat, strings, styles, book.date1904)
                if not stream.pat.prefix:
                    found = _scan_rows(stream, reader)
        if found is None:
            with z.open(target.part) as raw:
                stream = _SheetStream(raw, where)
                reader = _CellReader(stream.pat, strings, styles, book.date1904)
                found = _each_row(stream, reader)
        rows, hidden, after = found
        merges = [m.group(3).decode() for m in stream.pat.merge.finditer(after)]
    _mark_merged(rows, merges)
    return Grid(
        sheet,
        tuple(SheetRow(n, tuple(cells), n in hidden) for n, cells in sorted(rows.items())),
    )


# Excel writes hidden="1"; the schema's boolean also allows "true" (ECMA-376 18.3.1.73).
_HIDDEN = re.compile(rb"\shidden\s*=\s*[\"'](?:1|true)[\"']")


def _each_row(
    stream: _SheetStream, reader: _CellReader
) -> tuple[dict[int, Sequence[Cell]], set[int], bytes]:
    """(cells by row number, hidden rows, the XML after the rows), one <row> at a time."""
    where = stream.where
    rows: dict[int, Sequence[Cell]] = {}
    hidden: set[int] = set()
    number = 0
    for _gap, row in stream.rows():
        number = _row_number(row, number, where)
        if _HIDDEN.search(row, 0, row.find(b">") + 1):
            hidden.add(number)
        if cells := reader.row(_without_cdata(row), number):
            rows[number] = _merged_row(rows[number], cells) if number in rows else cells
    return rows, hidden, stream.after


# The rows of a part as Excel and openpyxl write them, scanned many at once, one match per
# cell or row: <row r="N" ...> and <c r="A1" ...> with r= first, attributes in double quotes,
# no namespace prefix. Groups: 1 column letters, 2 the cell's other attributes, 3 its body;
# 4 </row> before 5 the row number, 6 the row's other attributes, 7 "/" for an empty row;
# 8 anything else, which sends the part to the row-by-row reader unless it is whitespace or
# the end of a row.
# Possessive quantifiers (*+): nothing to backtrack into, a tenth faster.
_ATTRS_QUOTED = rb'((?: [\w:.-]++="[^"<]*+")*+)'
# The attributes and bodies Excel and openpyxl write most are tried first: a sixth faster.
_CELL_ATTRS = (
    rb'((?: t="(?:inlineStr|s)"| s="[0-9]++"(?: t="(?:inlineStr|s)")?)?+(?: [\w:.-]++="[^"<]*+")*+)'
)
_CELL_BODY = rb"((?:<is><t>[^<]*+</t></is>|<v>[^<]*+</v>)?+[^<]*+(?:<(?!/c>)[^<]*+)*+)"
_TOKEN = re.compile(
    rb'<c r="([A-Z]{1,3})[0-9]++"' + _CELL_ATTRS + rb"(?:/>|>" + _CELL_BODY + rb"</c>)"
    rb'|(</row>)?<row r="([0-9]+)"' + _ATTRS_QUOTED + rb"(/?)>"
    rb"|(\s*</row>|[^<]++|<[^>]*+>?)"
)
_SCANNED = 1 << 20  # bytes of the part read at a time
_PLAIN_INLINE = re.compile(rb'<is><t(?: xml:space="preserve")?>([^<&_\r]*)</t></is>')


def _scan_rows(
    stream: _SheetStream, reader: _CellReader
) -> tuple[dict[int, Sequence[Cell]], set[int], bytes] | None:
    """What `_each_row` finds, for a part made only of rows and cells as Excel writes them
    (no comments, CDATA, cells without r=, ...); None for any other part. A row's cells are
    kept as the tuple the grid holds, not as a list and its copy."""
    rows: dict[int, Sequence[Cell]] = {}
    hidden: set[int] = set()
    cells: list[Cell] = []
    number = 0
    shown = False
    is_open = False  # inside a <row> element
    columns, made = reader.columns, reader.fast_made
    for chunk in stream.chunks(_SCANNED):
        if b"<!" in chunk:
            return None
        for letters, attrs, body, closed, row, row_attrs, empty, other in _TOKEN.findall(chunk):
            if letters:
                if not is_open:
                    return None
                if (col := columns.get(letters, -1)) < 0:
                    col = columns[letters] = column_index(letters.decode())
                if (known := made.get(attrs)) is None:
                    known = made[attrs] = {}
                if (cell := known.get(body)) is None:
                    cell = reader.fast_cell(attrs, body, number, col, known)
                if cell is BLANK:
                    continue
                shown = shown or cell.kind is not CellKind.TEXT or bool(cell.text.strip())
                if col == len(cells):
                    cells.append(cell)
                else:
                    if col > len(cells):
                        cells.extend([BLANK] * (col - len(cells) + 1))
                    cells[col] = cell
            elif row:
                if is_open != bool(closed):
                    return None
                if shown:
                    rows[number] = _merged_row(rows[number], cells) if number in rows else (*cells,)
                number = int(row)
                if not 0 < number <= _MAX_ROW:
                    return None
                if row_attrs and b"hidden" in row_attrs and _HIDDEN.search(row_attrs):
                    hidden.add(number)
                cells = []
                shown = False
                is_open = not empty
            elif other.isspace():
                continue
            elif is_open and other.strip() == b"</row>":
                is_open = False
            else:
                return None
    if is_open:
        return None
    if shown:
        rows[number] = _merged_row(rows[number], cells) if number in rows else (*cells,)
    return rows, hidden, stream.after


def _merged_row(first: Sequence[Cell], more: Sequence[Cell]) -> list[Cell]:
    """Two <row> elements with one number, as one row: a cell in either is in the row."""
    merged = [*first, *[BLANK] * (len(more) - len(first))]
    for col, cell in enumerate(more):
        if cell is not BLANK and merged[col] is BLANK:
            merged[col] = cell
    return merged


_MERGED_CELLS = 100_000  # a merged range larger than this is clipped to the cells with values


def _mark_merged(rows: dict[int, Sequence[Cell]], merges: list[str]) -> None:
    """Cells covered by a merged range (all but its top-left) say where the range starts.

    Like openpyxl, every covered cell is reported, except that a huge range (a whole column
    merged) is clipped to the rows and columns holding values.
    """
    if not merges:
        return
    last_row = max(rows, default=0)
    last_col = max(map(len, rows.values()), default=0) - 1
    for ref in merges:
        try:
            r1, c1, r2, c2 = _parse_range(ref)
        except ValueError:
            continue
        if (r2 - r1 + 1) * (c2 - c1 + 1) > _MERGED_CELLS:
            r2, c2 = min(r2, last_row), min(c2, last_col)
        top_left = f"{column_letter(c1)}{r1}"
        for r in range(r1, r2 + 1):
            cells = rows[r] = list(rows.get(r, ()))
            if c2 >= len(cells):
                cells.extend([BLANK] * (c2 - len(cells) + 1))
            for c in range(c1 if r > r1 else c1 + 1, c2 + 1):
                cells[c] = Cell(merged_into=top_left)
