"""Writing values into the <row> elements of a worksheet part: one row at a time in any row
Excel can hold, or many rows at once where they are as Excel and openpyxl write them."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from bulk.errors import SheetError
from bulk.grid import SHORT_TEXT, per_short_text
from bulk.sheets.base import column_index, column_letter
from bulk.sheets.xlsx._parts import _MAX_COL, _MAX_ROW
from bulk.sheets.xlsx._read import _EXCEL_CELL
from bulk.sheets.xlsx._scan import (
    _CELL_COL,
    _attrs,
    _attrs_text,
    _escape,
    _parse_range,
    _Patterns,
    _range_text,
    _SheetStream,
)

_cell_xml = per_short_text(_escape)


class _Unordered(Exception):
    """The part's rows are not in ascending order, or a row number repeats."""


class _NotPlain(Exception):
    """The part holds rows the many-rows writer does not take: write it row by row."""


_SPANS = re.compile(rb' spans="([0-9]+):([0-9]+)"')
_LETTERS = re.compile(rb"[A-Z]{1,3}")
_CELL_END = b"</t></is></c>"
# Bytes of the part rewritten at a time: with results, what comes out is several times larger.
_PIECE = 1 << 18
_ENCODED = 4096  # short texts kept escaped during one write (statuses, times, dropdowns)

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
    columns: dict[bytes, int] = field(default_factory=dict)  # column letters -> index
    heads: dict[int, tuple[bytes, bytes, bytes]] = field(default_factory=dict)  # see head()
    shapes: dict[tuple[int, ...], tuple[int, int, list[tuple[int, bytes, bytes, bytes]]]] = field(
        default_factory=dict
    )  # see shape()
    encoded: dict[str, bytes] = field(default_factory=dict)  # short text -> its XML

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

    # ------------------------------------------------------------------------------------------
    # Many rows at once.

    def plain_rows(
        self, stream: _SheetStream, rows: Mapping[int, Mapping[int, str]], pending: list[int]
    ) -> Iterator[bytes]:
        """What `_each_row` writes, for a part of rows as Excel and openpyxl write them: each
        row <row r="N" ...>, no comments or CDATA, no row written as <row/> or without r=.
        Raises _NotPlain at the first piece of any other part, _Unordered as `_each_row`.

        The part comes in pieces of many rows (split at </row>); a row written to that has no
        cell at or right of the first new one, no row format (customFormat), no extLst and no
        array formula around gets its new cells added after its last; any other row goes to
        `edited_row`."""
        number = 0
        for chunk in stream.chunks(_PIECE):
            pieces = chunk.split(self.pat.row_end)
            if b"<!" in chunk or pieces.pop().strip() or chunk.count(b"<row") != len(pieces):
                raise _NotPlain
            arrays = b"ref" in chunk and (b"array" in chunk or b"dataTable" in chunk)
            out: list[bytes] = []
            for piece in pieces:
                at = 0 if piece.startswith(b'<row r="') else len(piece) - len(piece.lstrip())
                end = piece.find(b'"', at + 8)
                digits = piece[at + 8 : end]
                if not piece.startswith(b'<row r="', at) or not digits.isdigit():
                    raise _NotPlain
                previous, number = number, int(digits)
                if not 0 < number <= _MAX_ROW:
                    raise _NotPlain
                if number <= previous:
                    raise _Unordered
                while pending and pending[-1] < number:
                    new = pending.pop()
                    out.append(self.new_row(new, rows[new]))
                if arrays:
                    self.note_arrays(piece)
                if not pending or pending[-1] != number:
                    out += (piece, b"</row>")
                    continue
                pending.pop()
                if not self.plain_edit(piece, at, end, number, rows[number], out):
                    row = piece[at:] + b"</row>"
                    out += (piece[:at], self.edited_row(row, number, rows[number]))
            yield b"".join(out)

    def plain_edit(
        self,
        piece: bytes,
        at: int,
        end: int,
        number: int,
        values: Mapping[int, str],
        out: list[bytes],
    ) -> bool:
        """Adds to `out` the row `piece` (from `at`, its r= value ending at `end`; no </row>)
        with cells for `values` after its last one, as `edited_row` would; False, adding
        nothing, where it takes `edited_row`."""
        start = piece.find(b">", end) + 1  # where the cells start
        if number in self.like or self.arrays or piece[start - 2] != 34 or b"<extLst" in piece:
            return False  # (not '"' before '>': an odd tag)
        attrs = piece[end + 1 : start - 1] if start - end > 2 else b""  # after r="N"
        if attrs and (b"customFormat" in attrs or attrs.count(b'"') % 2):
            return False
        if (shape := self.shapes.get(names := tuple(values))) is None:
            shape = self.shape(names)
        first, final, cells = shape
        last = piece.rfind(b'<c r="', start)
        if last >= 0:
            # The last cell's column letters: its reference without the row number.
            letters = piece[last + 6 : piece.find(b'"', last + 6)].rstrip(b"0123456789")
            if (col := self.columns.get(letters, -1)) < 0:
                if not _LETTERS.fullmatch(letters):
                    return False
                col = self.columns[letters] = column_index(letters.decode())
            if first <= col or piece.rfind(b"<c", start) != last:
                return False
        elif piece[start:].strip():
            return False
        if attrs and b"spans" in attrs:
            m = _SPANS.search(piece, end, start)
            if m is None:
                return False
            low, high = int(m.group(1)), int(m.group(2))
            spans = b' spans="%d:%d"' % (min(low, high, first + 1), max(low, high, final + 1))
            out += (piece[: m.start()], spans, piece[m.end() :])
        else:
            out.append(piece)
        num = b"%d" % number
        encoded = self.encoded
        for col, before, middle, empty in cells:
            if not (value := values[col]):
                out += (before, num, empty)
            elif (text := encoded.get(value)) is not None:
                out += (before, num, middle, text, _CELL_END)
            else:
                text = _escape(value)
                if len(value) <= SHORT_TEXT and len(encoded) < _ENCODED:
                    encoded[value] = text
                out += (before, num, middle, text, _CELL_END)
        out.append(b"</row>")
        return True

    def shape(
        self, names: tuple[int, ...]
    ) -> tuple[int, int, list[tuple[int, bytes, bytes, bytes]]]:
        """For rows given values in these columns: the first and last of them, and each in
        order with the bytes of its new cell (head())."""
        cols = sorted(names)
        made = (cols[0], cols[-1], [(col, *self.head(col)) for col in cols])
        self.shapes[names] = made
        return made

    def head(self, col: int) -> tuple[bytes, bytes, bytes]:
        """The bytes of a new cell in `col` around its row number: before it, after it up to
        the text, and after it for a cell without a value (as `cell` writes them)."""
        style = self.col_styles.get(col)
        s = b' s="' + style + b'"' if style and style != b"0" else b""
        letters = column_letter(col).encode()
        made = (
            b'<c r="' + letters,
            b'"' + s + b' t="inlineStr"><is><t xml:space="preserve">',
            b'"' + s + b"/>",
        )
        self.heads[col] = made
        return made
