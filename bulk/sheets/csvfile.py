"""The CSV backend: read rows as text, write result columns back in the file's own dialect."""

from __future__ import annotations

import contextlib
import csv
import io
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bulk.columns import current_header, header_of, is_order_id_header
from bulk.errors import SheetError
from bulk.grid import Cell, CellKind, Grid, Header, SheetRow
from bulk.sheets.base import RowUpdate, WriteReport
from bulk.sheets.files import check_not_open, check_writable, replace_atomically
from bulk.sheets.plan import last_used_row, plan_write, used_width


@dataclass(frozen=True)
class _Format:
    encoding: str
    delimiter: str
    newline: str


# A byte sequence only UTF-8 makes: two to four bytes, the first saying how many follow.
_UTF8_SEQUENCE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


def _decode(raw: bytes, path: Path) -> tuple[str, str]:
    """UTF-8 (with or without a BOM), else Windows-1252, never a guess between them.

    A file that is not UTF-8 throughout but holds UTF-8 sequences is UTF-8 with a damaged
    byte: read as Windows-1252, every accented letter would reach the buyer as two wrong
    ones ("CafÃ©"). It is refused with the line and byte to fix. Only a file with no UTF-8
    sequence at all is read as Windows-1252 (Excel's "CSV" export on Windows).
    """
    if b"\x00" in raw[:4096]:
        raise SheetError(
            f"{path} is not a text CSV file; export it from your spreadsheet as CSV (UTF-8)"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if _UTF8_SEQUENCE.search(raw):
            line = raw.count(b"\n", 0, e.start) + 1
            if b"\n" not in raw:
                line = raw.count(b"\r", 0, e.start) + 1
            raise SheetError(
                f"{path} is UTF-8 text with a byte that is not UTF-8 (0x{raw[e.start]:02X} on "
                f"line {line}); retype the character there, or save the file as CSV UTF-8 again"
            ) from e
    else:
        return text, "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        return raw.decode("cp1252"), "cp1252"
    except UnicodeDecodeError as e:
        raise SheetError(
            f"{path} is neither UTF-8 nor Windows-1252 text; save it as CSV UTF-8"
        ) from e


def _newline(text: str) -> str:
    """The file's own line ending, from its first line: CRLF, LF, or CR alone (Excel's
    "CSV (Macintosh)")."""
    end = re.search(r"\r\n|\r|\n", text)
    return end.group() if end else "\n"


_DELIMITERS = (",", ";", "\t")
# csv.Sniffer's patterns take time quadratic in the sample (14 s for 64 KB of `",`): it sees
# the start of the file only, which is where a header would be.
_SNIFF_CHARS = 4096


def _delimiter(sample: str) -> str:
    """The delimiter that splits the header row into its columns.

    The header may sit below title rows, and details often hold commas or semicolons, so
    the row that holds `Order ID` decides; csv.Sniffer only when no such row is found.
    """
    best, best_score = "", (False, 0)
    for delimiter in _DELIMITERS:
        found: tuple[bool, int] | None = None
        try:
            for values in csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter):
                if not any(is_order_id_header(v) for v in values):
                    continue
                width = sum(1 for v in values if v.strip())
                row = SheetRow(0, tuple(Cell(v, CellKind.TEXT) for v in values))
                if header_of(row) is not None:  # a whole header: it decides
                    found = (True, width)
                    break
                # A title row that only mentions an order number counts if nothing better.
                found = found or (False, width)
        except csv.Error:
            pass
        if found is not None and found > best_score:
            best, best_score = delimiter, found
    if best:
        return best
    try:
        return csv.Sniffer().sniff(sample[:_SNIFF_CHARS], delimiters="".join(_DELIMITERS)).delimiter
    except csv.Error:
        return ","


@contextlib.contextmanager
def _field_limit(size: int) -> Iterator[None]:
    """The csv module refuses a field over 131,072 characters; a cell may hold more (it is
    then rejected on its row, with a bounded message). The limit is process-wide: put back."""
    old = csv.field_size_limit()
    csv.field_size_limit(min(max(old, size), sys.maxsize))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _parse(text: str, delimiter: str, path: Path) -> list[list[str]]:
    """Every record; a quote that is never closed is an error naming the line it opens on.

    Read leniently, an unclosed quote swallows the lines after it into one cell: the merged
    text would be checked, quoted to the buyer, and written back for good.
    """
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    rows: list[list[str]] = []
    with _field_limit(len(text)):
        while True:
            start = reader.line_num + 1
            try:
                rows.append(next(reader))
            except StopIteration:
                return rows
            except csv.Error as e:
                raise SheetError(
                    f"{path}: a quote on line {start} is not closed where its cell ends (the "
                    f"rows after it would run into that cell; {e} on line {reader.line_num}); "
                    "close or remove the quote and save the file again"
                ) from e


class CsvSheet:
    def __init__(self, path: Path, backup_dir: Path | None = None):
        self.path = path
        self.backup_dir = backup_dir
        self._format = _Format("utf-8", ",", "\n")

    @property
    def label(self) -> str:
        return str(self.path)

    def _rows(self) -> list[list[str]]:
        if not self.path.exists():
            raise SheetError(f"{self.path} does not exist")
        check_not_open(self.path)
        check_writable(self.path)
        try:
            raw = self.path.read_bytes()
        except OSError as e:
            raise SheetError(f"cannot read {self.path}: {e.strerror}") from e
        text, encoding = _decode(raw, self.path)
        sample = text[:65536]
        delimiter = _delimiter(sample)
        self._format = _Format(encoding, delimiter, _newline(text))
        return _parse(text, delimiter, self.path)

    def read(self) -> Grid:
        rows = []
        for number, values in enumerate(self._rows(), start=1):
            cells = tuple(Cell(v, CellKind.TEXT) if v.strip() else Cell() for v in values)
            row = SheetRow(number, cells)
            if not row.blank:
                rows.append(row)
        return Grid(self.path.stem, tuple(rows))

    def write(
        self,
        updates: Sequence[RowUpdate],
        header: Header | None = None,
        appends: Sequence[Mapping[str, str]] = (),
    ) -> WriteReport:
        table = self._rows()  # read again: place results by Order ID in the file as it is now
        rows = tuple(
            SheetRow(n, tuple(Cell(v, CellKind.TEXT) if v.strip() else Cell() for v in r))
            for n, r in enumerate(table, 1)
        )
        header = current_header(Grid(self.path.stem, rows), header)
        id_col = header.columns["Order ID"]
        ids = {r.number: r.cell(id_col).text for r in rows if r.number > header.row}
        plan = plan_write(
            header,
            ids,
            used_width(rows, header.row),
            updates,
            appends=appends,
            last_row=last_used_row(rows, header),
        )
        if plan.empty:
            return plan.report()
        fmt = self._format
        lossy: list[int] = []
        # New rows below the last used one, as wide as the header row.
        width = len(table[header.row - 1])
        table.extend([""] * width for _ in range(max(plan.rows, default=0) - len(table)))
        for (number, col), value in plan.cells.items():
            row = table[number - 1]
            if len(row) <= col:
                row.extend([""] * (col + 1 - len(row)))
            row[col] = value
            if not _encodable(value, fmt.encoding):
                lossy.append(number)

        def write(tmp: Path) -> None:
            # Every value read from the file encodes back as it was; only new text can fall
            # outside a Windows-1252 file's characters, and is then written as "?".
            with open(tmp, "w", encoding=fmt.encoding, errors="replace", newline="") as f:
                csv.writer(f, delimiter=fmt.delimiter, lineterminator=fmt.newline).writerows(table)

        replace_atomically(self.path, write, self.backup_dir)
        warnings: tuple[str, ...] = ()
        if lossy:
            numbers = ", ".join(str(n) for n in sorted(set(lossy))[:5])
            warnings = (
                f"warning: {self.path.name} is {fmt.encoding} text, which cannot hold some "
                f"characters of the results on rows {numbers}; they were written as '?' "
                "(save the file as CSV UTF-8 to keep them)",
            )
        return plan.report(*warnings)


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True
