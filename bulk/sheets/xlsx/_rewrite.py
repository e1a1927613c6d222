"""Writing cells into a worksheet part and the workbook, every other part kept byte for byte."""

from __future__ import annotations

import re
import tempfile
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from bulk.errors import SheetError
from bulk.infra.heap import without_cycle_collection
from bulk.sheets.base import MAX_CELL_CHARS, column_index, column_letter

if TYPE_CHECKING:
    pass
from bulk.sheets.xlsx._edit import _column_styles, _NotPlain, _RowWriter, _Unordered
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
from bulk.sheets.xlsx._scan import (
    _CELL_COL,
    _attrs,
    _attrs_text,
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
    box = (min(rows), min(map(min, rows.values())), max(rows), max(map(max, rows.values())))
    yield _grown_dimension(stream.before, stream.pat, box)
    yield b"<" + stream.pat.prefix + b"sheetData" + stream.sheet_data_attrs + b">"


def _rewrite_sheet(
    stream: _SheetStream,
    rows: Mapping[int, Mapping[int, str]],
    writer: _RowWriter,
    fast: bool = True,
) -> Iterator[bytes]:
    """The worksheet part with the values written, in chunks of bytes. With `fast`, rows as
    Excel and openpyxl write them are written many at once (_RowWriter.plain_rows, which
    raises _NotPlain for any other part)."""
    pat = stream.pat
    yield from _sheet_data_start(stream, rows)
    pending = sorted(rows, reverse=True)
    if fast and not pat.prefix:
        yield from writer.plain_rows(stream, rows, pending)
    else:
        yield from _each_row(stream, rows, writer, pending)
    yield b"".join([writer.new_row(new, rows[new]) for new in reversed(pending)])
    if stream.empty:
        yield b"</" + pat.prefix + b"sheetData>"
    yield stream.after
    _check_not_merged(rows, stream.after, pat, stream.where)


def _each_row(
    stream: _SheetStream,
    rows: Mapping[int, Mapping[int, str]],
    writer: _RowWriter,
    pending: list[int],
) -> Iterator[bytes]:
    """The part's rows with values written, one <row> at a time; `pending` keeps the rows
    still to write (in descending order), which no element of the part holds."""
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
    yield b"".join(out)


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
    with without_cycle_collection():  # a row's worth of objects per row, and no cycles
        _write_rows(src, dst, sheet, rows, like, replace_formulas, looks)


def _write_rows(
    src: Path,
    dst: Path,
    sheet: str,
    rows: Mapping[int, Mapping[int, str]],
    like: Mapping[int, int] | None,
    replace_formulas: bool,
    looks: Mapping[int, Look] | None,
) -> None:
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
    fast = True
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
                    new = _deflate(_rewrite_sheet(stream, rows, writer, fast), scratch)
                else:
                    new = _deflate(_rewrite_unordered(stream, rows, writer, placed), scratch)
            except _NotPlain:
                fast = False  # rows the many-rows writer does not take: row by row
                continue
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
