"""Writing cells into a worksheet part and the workbook, every other part kept byte for byte."""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from bulk.errors import SheetError
from bulk.grid import per_short_text
from bulk.sheets.base import MAX_CELL_CHARS, column_index, column_letter

if TYPE_CHECKING:
    pass
from bulk.sheets.xlsx._look import Look, with_columns, with_wrap_style
from bulk.sheets.xlsx._parts import (
    _CHUNK,
    _MAX_COL,
    _MAX_ROW,
    _Book,
    _load_book,
    _open_zip,
    _relationships,
    _SheetPart,
    _xml,
)
from bulk.sheets.xlsx._read import _EXCEL_CELL
from bulk.sheets.xlsx._scan import (
    _CELL_COL,
    _attrs,
    _attrs_text,
    _escape,
    _parse_range,
    _Patterns,
    _patterns,
    _prefix_of,
    _range_text,
    _row_number,
    _SheetStream,
    _without_cdata,
)
from bulk.sheets.xlsx._zipcopy import _deflate, _Deflated, _ZipOut

# ----------------------------------------------------------------------------------------------
# Writing the worksheet part.


def _column_styles(before: bytes, pat: _Patterns) -> dict[int, bytes]:
    """Column -> style from <cols>: what Excel gives a cell typed into an empty column."""
    styles: dict[int, bytes] = {}
    for m in pat.col.finditer(before):
        attrs = _attrs(m.group(1))
        style, low, high = attrs.get(b"style", b"0"), attrs.get(b"min", b""), attrs.get(b"max")
        if style != b"0" and low.isdigit():
            last = int(high) if high and high.isdigit() else int(low)
            for c in range(int(low), min(last, _MAX_COL) + 1):
                styles[c - 1] = style
    return styles


# What a written cell keeps of the old one: not its type (t), nor cell or value metadata
# (cm, vm: dynamic arrays, pictures in cells) that belonged to the old value.
_DROPPED_CELL_ATTRS = frozenset([b"r", b"s", b"t", b"cm", b"vm"])


@dataclass
class _RowWriter:
    """Builds the rows that get values; every other row passes through as it was."""

    where: str
    pat: _Patterns
    col_styles: dict[int, bytes]
    arrays: list[tuple[int, int, int, int]] = field(default_factory=list)  # seen so far
    formulas_removed: set[str] = field(default_factory=set)  # cells whose formula was replaced
    letters: dict[int, bytes] = field(default_factory=dict)
    like: dict[int, int] = field(default_factory=dict)  # row -> column whose format new cells take
    replace_formulas: bool = False  # False: a cell holding a formula is refused, never overwritten

    def __post_init__(self) -> None:
        p = self.pat.prefix
        self._template = (
            b'<%%bc r="%%b%%d"%%b%%b t="inlineStr"><%bis><%bt xml:space="preserve">%%b</%bt></%bis></%bc>'
            % (p, p, p, p, p)
        )
        self._cell_open = b"<" + p + b"c "

    def cell(
        self, row: int, col: int, value: str, style: bytes | None, others: bytes = b""
    ) -> bytes:
        if (letters := self.letters.get(col)) is None:
            letters = self.letters[col] = column_letter(col).encode()
        s = b' s="' + style + b'"' if style and style != b"0" else b""
        if not value:  # no value: an empty cell that keeps its format
            return b'<%bc r="%b%d"%b%b/>' % (self.pat.prefix, letters, row, s, others)
        return self._template % (self.pat.prefix, letters, row, s, others, _cell_xml(value))

    def note_arrays(self, row: bytes) -> None:
        """Remember array formulas spanning cells: none of their cells may be written alone."""
        if b"ref" not in row or (b"array" not in row and b"dataTable" not in row):
            return
        for f in self.pat.formula.finditer(row):
            attrs = _attrs(f.group(1))
            if attrs.get(b"t") in (b"array", b"dataTable") and b"ref" in attrs:
                box = _parse_range(attrs[b"ref"].decode())
                if box[:2] != box[2:]:
                    self.arrays.append(box)

    def check_free(self, row: int, col: int) -> None:
        for r1, c1, r2, c2 in self.arrays:
            if r1 <= row <= r2 and c1 <= col <= c2 and (row, col) != (r1, c1):
                raise SheetError(
                    f"{column_letter(col)}{row} in {self.where} is part of the array formula "
                    f"{_range_text(r1, c1, r2, c2)}; change the formula in Excel first"
                )

    def replaced(
        self, row: int, col: int, cell_attrs: bytes, body: bytes | None, value: str
    ) -> bytes:
        """An existing cell with the new value: its style kept, its formula gone."""
        self.check_free(row, col)
        ref = f"{column_letter(col)}{row}"
        attrs = _attrs(cell_attrs)
        if body and b"<" + self.pat.prefix + b"f" in body and (f := self.pat.formula.search(body)):
            f_attrs = _attrs(f.group(1))
            spread = f_attrs.get(b"ref", b"").decode()
            if spread and f_attrs.get(b"t") in (b"shared", b"array", b"dataTable"):
                box = _parse_range(spread)
                if box[:2] != box[2:]:
                    raise SheetError(
                        f"{ref} in {self.where} holds the formula that cells {spread} share; "
                        "it cannot be overwritten without rewriting theirs"
                    )
            if not self.replace_formulas:
                raise SheetError(
                    f"{ref} in {self.where} holds a formula, which a result would replace; "
                    "move the formula out of that column (or clear the cell) and run again"
                )
            self.formulas_removed.add(ref)
        others = {k: v for k, v in attrs.items() if k not in _DROPPED_CELL_ATTRS}
        return self.cell(row, col, value, attrs.get(b"s"), _attrs_text(others))

    def new_cells(
        self, row: int, values: Mapping[int, str], cols: Iterable[int], row_style: bytes | None
    ) -> list[bytes]:
        """Cells that do not exist yet. Like Excel, they take the row's format if it has one,
        else their column's."""
        made = []
        for col in cols:
            if self.arrays:
                self.check_free(row, col)
            made.append(self.cell(row, col, values[col], row_style or self.col_styles.get(col)))
        return made

    def new_row(self, row: int, values: Mapping[int, str]) -> bytes:
        cols = sorted(values)
        cells = b"".join(self.new_cells(row, values, cols, None))
        p = self.pat.prefix
        spans = b"%d:%d" % (cols[0] + 1, cols[-1] + 1)
        return b'<%brow r="%d" spans="%b">%b</%brow>' % (p, row, spans, cells, p)

    def edited_row(self, row: bytes, number: int, values: Mapping[int, str]) -> bytes:
        """A row with values written into it, new cells placed in column order."""
        pat = self.pat
        tag = pat.row_tag.match(row)
        if tag is None:
            raise SheetError(f"{self.where} has a damaged <row> element")
        attrs = tag.group(1)
        # Most rows carry only r="N": their attributes need no parsing.
        plain = attrs.startswith(b' r="') and attrs.count(b"=") == 1
        row_attrs = {b"r": b""} if plain else _attrs(attrs)
        content = b"" if tag.group(2) == b"/" else row[tag.end() : -len(pat.row_end)]
        trailer = b""
        if (ext := content.find(b"<" + pat.prefix + b"extLst")) >= 0:
            content, trailer = content[:ext], content[ext:]
        custom_format = row_attrs.get(b"customFormat") in (b"1", b"true")
        row_style = row_attrs.get(b"s") if custom_format else None
        if number in self.like:
            row_style = self._style_of(content, number, self.like[number]) or row_style
        cols = sorted(values)
        last = self._last_column(content)
        if cols[0] > last:  # the usual first run: cells added after the row's last one
            pieces = [content, *self.new_cells(number, values, cols, row_style)]
        else:
            found = self.spliced(content, number, values, cols, last, row_style)
            pieces = found or self.merged_cells(content, number, values, cols, row_style)

        if b"r" not in row_attrs:
            attrs = b' r="%d"' % number + attrs
        if b"spans" in row_attrs:  # a hint for Excel's loader (18.3.1.73): keep it true
            bounds = [int(x) for x in re.findall(rb"[0-9]+", row_attrs[b"spans"])]
            low, high = min([*bounds, cols[0] + 1]), max([*bounds, cols[-1] + 1])
            spans = rb'\g<1>"%d:%d"' % (low, high)
            attrs = re.sub(rb"(\sspans\s*=\s*)([\"'])[^\"']*\2", spans, attrs, count=1)
        return b"<%brow%b>%b%b%b" % (pat.prefix, attrs, b"".join(pieces), trailer, pat.row_end)

    def _style_of(self, content: bytes, number: int, col: int) -> bytes | None:
        """The s= of the cell at `col` in this row's content, if it has one."""
        ref = b'r="%b%d"' % (column_letter(col).encode(), number)
        at = content.find(ref)
        if at < 0:
            return None
        end = content.find(b">", at)
        m = re.search(rb'\ss="([0-9]+)"', content[at:end])
        return m.group(1) if m else None

    def _last_column(self, content: bytes) -> int:
        """Column of a row's last cell; -1 with no cells; a large number when it is unclear."""
        if not content.strip():
            return -1
        last = content.rfind(self._cell_open)
        if last < 0 or content.find(b">", last) < 0:
            return _MAX_COL
        ref = _CELL_COL.search(content, last, content.find(b">", last))
        bare = (b"<" + self.pat.prefix + b"c>", b"<" + self.pat.prefix + b"c/")
        if ref is None or max(content.rfind(b) for b in bare) > last:  # a cell without r=
            return _MAX_COL
        return column_index(ref.group(1).decode())

    def spliced(
        self,
        content: bytes,
        number: int,
        values: Mapping[int, str],
        cols: list[int],
        last: int,
        row_style: bytes | None,
    ) -> list[bytes]:
        """The row's cells with values written, when every written cell either exists as Excel
        writes it (r, s, t; no formula) or comes after the last one; else [] (use merged_cells).
        """
        if self.pat.prefix:
            return []
        pieces: list[bytes] = []
        pos = 0
        appended: list[int] = []
        for col in cols:
            if col > last:
                appended.append(col)
                continue
            if (letters := self.letters.get(col)) is None:
                letters = self.letters[col] = column_letter(col).encode()
            at = content.find(b'<c r="%b%d"' % (letters, number), pos)
            m = _EXCEL_CELL.match(content, at) if at >= 0 else None
            if m is None or (m.group(5) and b"<f" in m.group(5)):
                return []
            if self.arrays:
                self.check_free(number, col)
            pieces += (content[pos:at], self.cell(number, col, values[col], m.group(2)))
            pos = m.end()
        pieces.append(content[pos:])
        return pieces + self.new_cells(number, values, appended, row_style)

    def merged_cells(
        self,
        content: bytes,
        number: int,
        values: Mapping[int, str],
        cols: list[int],
        row_style: bytes | None,
    ) -> list[bytes]:
        """A row's cells with the written ones replaced and new ones put in column order."""
        pat = self.pat
        pieces: list[bytes] = []
        pending = list(reversed(cols))
        col = -1
        pos = 0
        for m in pat.cell.finditer(content):
            if content[pos : m.start()].strip():
                raise SheetError(f"{self.where} row {number} holds markup other than cells")
            pos = m.end()
            ref = _CELL_COL.search(m.group(1))
            col = column_index(ref.group(1).decode()) if ref else col + 1
            while pending and pending[-1] < col:
                pieces += self.new_cells(number, values, [pending.pop()], row_style)
            if pending and pending[-1] == col:
                pending.pop()
                pieces.append(self.replaced(number, col, m.group(1), m.group(2), values[col]))
            elif ref:
                pieces.append(m.group(0))
            else:  # cells after it may move, so it gets the r= its position implied
                at = len(pat.prefix) + 2
                ref_attr = b' r="%b%d"' % (column_letter(col).encode(), number)
                pieces.append(m.group(0)[:at] + ref_attr + m.group(0)[at:])
        if content[pos:].strip():
            raise SheetError(f"{self.where} row {number} holds markup other than cells")
        pieces += self.new_cells(number, values, reversed(pending), row_style)
        return pieces


def _grown_dimension(before: bytes, pat: _Patterns, box: tuple[int, int, int, int]) -> bytes:
    """The XML before <sheetData>, its <dimension ref> widened to cover the written cells."""
    m = pat.dimension.search(before)
    if not m:
        return before
    try:
        r1, c1, r2, c2 = _parse_range(m.group(3).decode())
    except ValueError:
        return before
    ref = _range_text(min(r1, box[0]), min(c1, box[1]), max(r2, box[2]), max(c2, box[3]))
    return before[: m.start()] + m.group(1) + b'"' + ref.encode() + b'"' + before[m.end() :]


def _check_tables_and_pivots(
    z: zipfile.ZipFile, part: str, rows: Mapping[int, Mapping[int, str]], where: str
) -> None:
    """Refuse cells Excel would "repair" the file for: a table header that no longer matches
    the table's column names, a table's totals row, a pivot table's area."""
    for kind, linked in _relationships(z, part).values():
        if kind not in ("table", "pivotTable") or linked not in z.NameToInfo:
            continue
        root = _xml(z, linked)
        names: list[str | None] = []
        if kind == "table":
            ref = root.get("ref", "")
            names = [c.get("name") for c in root.iter("{*}tableColumn")]
            what = f"table '{root.get('displayName') or root.get('name')}'"
        else:
            location = next(root.iter("{*}location"), None)
            ref = location.get("ref", "") if location is not None else ""
            what = f"pivot table '{root.get('name')}'"
        try:
            r1, c1, r2, c2 = _parse_range(ref)
        except ValueError:
            continue
        headers = 0 if root.get("headerRowCount") == "0" else 1
        totals = int(root.get("totalsRowCount", "0") or 0)
        for r in range(r1, min(r2, max(rows)) + 1):
            for c, value in rows.get(r, {}).items():
                if not c1 <= c <= c2:
                    continue
                if kind == "pivotTable" or r > r2 - totals:
                    problem = f"is in {what} ({ref})"
                elif r < r1 + headers and names[c - c1 : c - c1 + 1] != [value]:
                    problem = f"is a column name of {what}; Excel keeps those in the table itself"
                else:
                    continue
                raise SheetError(f"{column_letter(c)}{r} in {where} {problem}; it was not written")


_cell_xml = per_short_text(_escape)


def _by_row(cells: Mapping[tuple[int, int], str]) -> dict[int, dict[int, str]]:
    rows: dict[int, dict[int, str]] = {}
    for (row, col), value in cells.items():
        rows.setdefault(row, {})[col] = value
    return rows


def _check_rows(rows: Mapping[int, Mapping[int, str]]) -> None:
    """Every cell inside Excel's grid, every text within a cell's limit."""
    for row, cols in rows.items():
        for col, value in cols.items():
            if not (1 <= row <= _MAX_ROW and 0 <= col < _MAX_COL):
                raise SheetError(f"cell (row {row}, column {col}) is outside Excel's grid")
            if len(value) > MAX_CELL_CHARS:
                ref = f"{column_letter(col)}{row}"
                raise SheetError(
                    f"the text for {ref} has {len(value)} characters; a cell holds {MAX_CELL_CHARS}"
                )


def _sheet_data_start(
    stream: _SheetStream, rows: Mapping[int, Mapping[int, str]]
) -> Iterator[bytes]:
    """What comes before the first row: the part's head with its dimension grown to cover the
    cells written, then the opening sheetData tag."""
    box = (
        min(rows),
        min(min(v) for v in rows.values()),
        max(rows),
        max(max(v) for v in rows.values()),
    )
    yield _grown_dimension(stream.before, stream.pat, box)
    yield b"<" + stream.pat.prefix + b"sheetData" + stream.sheet_data_attrs + b">"


def _rewrite_sheet(
    stream: _SheetStream, rows: Mapping[int, Mapping[int, str]], writer: _RowWriter
) -> Iterator[bytes]:
    """The worksheet part with the values written, in chunks of bytes."""
    pat = stream.pat
    yield from _sheet_data_start(stream, rows)
    pending = sorted(rows, reverse=True)
    out: list[bytes] = []
    size = 0
    number = 0
    for gap, row in stream.rows():
        previous, number = number, _row_number(row, number, stream.where)
        if number <= previous:
            raise _Unordered
        while pending and pending[-1] < number:
            new = pending.pop()
            out.append(writer.new_row(new, rows[new]))
        writer.note_arrays(row)
        out.append(gap)
        if pending and pending[-1] == number:
            out.append(writer.edited_row(_without_cdata(row), pending.pop(), rows[number]))
        else:
            out.append(row)
        size += len(out[-1])  # what is written, results included, bounds what is held
        if size >= _CHUNK:
            yield b"".join(out)
            out.clear()
            size = 0
    out.extend(writer.new_row(new, rows[new]) for new in reversed(pending))
    yield b"".join(out)
    if stream.empty:
        yield b"</" + pat.prefix + b"sheetData>"
    yield stream.after
    _check_not_merged(rows, stream.after, pat, stream.where)


class _Unordered(Exception):
    """The part's rows are not in ascending order, or a row number repeats."""


@dataclass
class _Placement:
    """Where cells go in a part whose rows are out of order or repeated."""

    edits: dict[int, tuple[int, dict[int, str]]]  # <row> element index -> (row, values)
    new: dict[int, dict[int, str]]  # rows no element holds -> values
    arrays: list[tuple[int, int, int, int]]  # every array formula range in the part


def _placement(
    z: zipfile.ZipFile, part: str, rows: Mapping[int, Mapping[int, str]], where: str
) -> _Placement:
    """Each cell goes into the <row> element that already holds its column, else into the
    first element with its row number; rows without one are added at the end."""
    elements: dict[int, list[tuple[int, set[int]]]] = {}
    with z.open(part) as raw:
        stream = _SheetStream(raw, where)
        arrays = _RowWriter(where, stream.pat, {})
        number = 0
        for index, (_gap, row) in enumerate(stream.rows()):
            number = _row_number(row, number, where)
            arrays.note_arrays(row)
            if number in rows:
                elements.setdefault(number, []).append((index, _columns_in(row, stream.pat)))
    placed = _Placement({}, {}, arrays.arrays)
    for number, values in rows.items():
        found = elements.get(number)
        for col, value in values.items():
            if not found:
                placed.new.setdefault(number, {})[col] = value
                continue
            index = next((i for i, cols in found if col in cols), found[0][0])
            placed.edits.setdefault(index, (number, {}))[1][col] = value
    return placed


def _columns_in(row: bytes, pat: _Patterns) -> set[int]:
    cols: set[int] = set()
    col = -1
    for m in pat.cell.finditer(_without_cdata(row)):
        ref = _CELL_COL.search(m.group(1))
        col = column_index(ref.group(1).decode()) if ref else col + 1
        cols.add(col)
    return cols


def _rewrite_unordered(
    stream: _SheetStream,
    rows: Mapping[int, Mapping[int, str]],
    writer: _RowWriter,
    placed: _Placement,
) -> Iterator[bytes]:
    """`_rewrite_sheet` for a part whose rows are out of order or repeated: every element
    stays where it is; new rows go after the last one."""
    pat = stream.pat
    yield from _sheet_data_start(stream, rows)
    writer.arrays = list(placed.arrays)
    out: list[bytes] = []
    size = 0
    for index, (gap, row) in enumerate(stream.rows()):
        out.append(gap)
        if index in placed.edits:
            out.append(writer.edited_row(_without_cdata(row), *placed.edits[index]))
        else:
            out.append(row)
        size += len(out[-1])
        if size >= _CHUNK:
            yield b"".join(out)
            out.clear()
            size = 0
    out.extend(writer.new_row(n, placed.new[n]) for n in sorted(placed.new))
    yield b"".join(out)
    if stream.empty:
        yield b"</" + pat.prefix + b"sheetData>"
    yield stream.after
    _check_not_merged(rows, stream.after, pat, stream.where)


def _check_not_merged(
    rows: Mapping[int, Mapping[int, str]], after: bytes, pat: _Patterns, where: str
) -> None:
    """Excel shows only the top-left cell of merged cells: a value anywhere else would be lost."""
    for m in pat.merge.finditer(after):
        try:
            r1, c1, r2, c2 = _parse_range(m.group(3).decode())
        except ValueError:
            continue
        for r in range(r1, r2 + 1) if r2 - r1 < len(rows) else sorted(rows):
            for c in rows.get(r, ()):
                if r1 <= r <= r2 and c1 <= c <= c2 and (r, c) != (r1, c1):
                    raise SheetError(
                        f"{column_letter(c)}{r} in {where} is inside merged cells "
                        f"{m.group(3).decode()}; only {column_letter(c1)}{r1} can hold a value"
                    )


def _without_calc_entries(data: bytes, sheet_id: str, refs: set[str], where: str) -> bytes | None:
    """calcChain.xml without entries for cells that no longer hold formulas; None if none is left.

    An entry may leave out i= (its sheet) or carry l= (a new dependency level) for the ones
    after it (ECMA-376 Part 1, 18.6.1), so those pass on to the next entry kept.
    """
    pat = _patterns(_prefix_of(data[:4096], where))
    out: list[bytes] = []
    pos = 0
    sheet = b""
    carry: dict[bytes, bytes] = {}
    kept = 0
    for m in pat.calc_entry.finditer(data):
        attrs = _attrs(m.group(1))
        sheet = attrs.get(b"i", sheet)
        out.append(data[pos : m.start()])
        pos = m.end()
        if sheet.decode() == sheet_id and attrs.get(b"r", b"").decode() in refs:
            carry.update((k, attrs[k]) for k in (b"i", b"l") if k in attrs)
            continue
        extra = _attrs_text({k: v for k, v in carry.items() if k not in attrs})
        carry.clear()
        at = len(pat.prefix) + 2
        out.append(m.group(0)[:at] + extra + m.group(0)[at:])
        kept += 1
    out.append(data[pos:])
    return b"".join(out) if kept else None


def _without_calc_chain_links(data: bytes) -> bytes:
    """workbook.xml.rels or [Content_Types].xml without its entry for calcChain.xml."""
    link = rb"<(?:[\w.-]+:)?(?:Relationship|Override)\b[^>]*?calcChain[^>]*?/>"
    return re.sub(link, b"", data)


# ----------------------------------------------------------------------------------------------
# Writing the workbook.


def write_cells(
    src: Path,
    dst: Path,
    sheet: str,
    cells: Mapping[tuple[int, int], str],
    like: Mapping[int, int] | None = None,
    *,
    replace_formulas: bool = False,
) -> None:
    """Copy `src` to `dst` with text in the given cells of one worksheet.

    A cell holding a formula is refused (SheetError naming it) unless `replace_formulas`.

    An empty text clears the cell's value and keeps its format. `like` maps a row number to a
    0-based column: cells new in that row take that cell's format (a header added beside the
    others looks like them).

    `cells` maps (1-based row, 0-based column) to the text to write. Each value is written as
    an inline string (t="inlineStr"): Excel shows it as text and moves it into its shared
    strings on its next save, so sharedStrings.xml stays as it is. Only the worksheet's part
    changes, and calcChain.xml when a formula was overwritten; every other member keeps its
    compressed bytes. Raises SheetError, leaving nothing at `dst`, when the sheet holds
    something this writer cannot change safely.
    """
    write_rows(src, dst, sheet, _by_row(cells), like, replace_formulas=replace_formulas)


def write_rows(
    src: Path,
    dst: Path,
    sheet: str,
    rows: Mapping[int, Mapping[int, str]],
    like: Mapping[int, int] | None = None,
    *,
    replace_formulas: bool = False,
    looks: Mapping[int, Look] | None = None,
) -> None:
    """`write_cells` with the cells given row by row: row (1-based) -> column (0-based) -> text.

    `looks` gives the columns this write adds to the sheet a width and, where asked, wrapped
    text (bulk.sheets.xlsx._look); a column the sheet already describes keeps its look."""
    _check_rows(rows)
    with _open_zip(src) as z:
        book = _load_book(z)
        target = book.worksheet(src, sheet)
        if target.part not in z.NameToInfo:
            raise SheetError(f"{src} has no part {target.part}; the file is damaged")
        where = f"{src.name}: {target.part}"
        if rows:
            _check_tables_and_pivots(z, target.part, rows, where)
        if dst.exists() and dst.samefile(src):
            raise SheetError(f"cannot write {dst} over itself; write to a new file and replace it")
        try:
            with (
                open(src, "rb") as raw,
                tempfile.TemporaryFile() as scratch,
                open(dst, "wb") as out,
            ):
                changed = _changed_parts(
                    z, book, target, rows, scratch, where, like or {}, replace_formulas, looks
                )
                zip_out = _ZipOut(out, where)
                for info in z.infolist():
                    if info.filename not in changed:
                        zip_out.copy(raw, info)
                    elif (new := changed[info.filename]) is not None:
                        zip_out.add(info, new)
                zip_out.close(z.comment)
        except PermissionError as e:
            dst.unlink(missing_ok=True)
            raise SheetError(f"cannot write {dst}: {e.strerror}") from e
        except BaseException:
            dst.unlink(missing_ok=True)
            raise


def _changed_parts(
    z: zipfile.ZipFile,
    book: _Book,
    target: _SheetPart,
    rows: Mapping[int, Mapping[int, str]],
    scratch: IO[bytes],
    where: str,
    like: Mapping[int, int],
    replace_formulas: bool,
    looks: Mapping[int, Look] | None = None,
) -> dict[str, _Deflated | None]:
    """New content of the members that change (None: the member goes)."""
    if not rows:
        return {}
    styles = wrap = None
    if looks and any(w for _, w in looks.values()) and book.styles in z.NameToInfo:
        assert book.styles is not None
        made = with_wrap_style(z.read(book.styles))
        if made is not None:
            styles, wrap = made
    styled: dict[int, bytes] = {}
    placed: _Placement | None = None
    while True:
        with z.open(target.part) as part:
            stream = _SheetStream(part, where)
            if looks:
                stream.before, styled = with_columns(stream.before, stream.pat, looks, wrap)
            writer = _RowWriter(where, stream.pat, _column_styles(stream.before, stream.pat))
            writer.like = dict(like)
            writer.replace_formulas = replace_formulas
            try:
                if placed is None:
                    new = _deflate(_rewrite_sheet(stream, rows, writer), scratch)
                else:
                    new = _deflate(_rewrite_unordered(stream, rows, writer, placed), scratch)
            except _Unordered:
                # Rare (some generators write rows out of order, or one <row> per cell):
                # a second pass finds where each cell goes.
                placed = _placement(z, target.part, rows, where)
                continue
        break
    changed: dict[str, _Deflated | None] = {target.part: new}
    if styled and styles is not None and book.styles is not None:
        changed[book.styles] = _deflate([styles], scratch)
    if not writer.formulas_removed or book.calc_chain is None:
        return changed
    # Excel repairs a file whose calcChain lists a cell without a formula.
    old = z.read(book.calc_chain)
    chain = _without_calc_entries(old, target.sheet_id, writer.formulas_removed, where)
    if chain is None:  # an empty calcChain is invalid: the part and the links to it go
        changed[book.calc_chain] = None
        for linking in (book.rels_part, "[Content_Types].xml"):
            if linking in z.NameToInfo:
                changed[linking] = _deflate([_without_calc_chain_links(z.read(linking))], scratch)
    elif chain != old:
        changed[book.calc_chain] = _deflate([chain], scratch)
    return changed
