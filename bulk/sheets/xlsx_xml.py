"""Cells of an existing .xlsx/.xlsm read and written in its XML, every other part kept byte for byte."""

from __future__ import annotations

import functools
import gc
import re
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING

from lxml import etree

from bulk.errors import SheetError
from bulk.sheets.base import (
    BLANK,
    MAX_CELL_CHARS,
    Cell,
    CellKind,
    Grid,
    SheetRow,
    column_index,
    column_letter,
)

if TYPE_CHECKING:
    from openpyxl.formula.translate import Translator

# SpreadsheetML's main namespace: transitional (what Excel writes) and strict (ISO 29500).
_MAIN_NS = (
    b"http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    b"http://purl.oclc.org/ooxml/spreadsheetml/main",
)
_REL_NS = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_R_ID = (
    "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id",
    "{http://purl.oclc.org/ooxml/officeDocument/relationships}id",
)
_MAX_ROW = 1_048_576
_MAX_COL = 16_384
_CHUNK = 1 << 20
_DEFLATE_LEVEL = 3  # measured on a 100k-row sheet: 11% larger than level 6 in a third of the time
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True)


# ----------------------------------------------------------------------------------------------
# The package: which part holds which sheet.


@dataclass(frozen=True)
class _SheetPart:
    name: str
    part: str  # zip member, e.g. "xl/worksheets/sheet1.xml"
    sheet_id: str  # sheetId in workbook.xml: what calcChain's i= refers to
    kind: str  # last segment of the relationship type: "worksheet", "chartsheet", ...


@dataclass(frozen=True)
class _Book:
    sheets: tuple[_SheetPart, ...]
    rels_part: str  # xl/_rels/workbook.xml.rels
    shared_strings: str | None
    styles: str | None
    calc_chain: str | None
    date1904: bool

    def worksheet(self, path: Path, name: str) -> _SheetPart:
        for sheet in self.sheets:
            if sheet.name == name:
                if not sheet.kind:
                    raise SheetError(f"sheet '{name}' in {path} has no part; the file is damaged")
                if sheet.kind != "worksheet":
                    raise SheetError(f"'{name}' in {path} is a {sheet.kind}, not a worksheet")
                return sheet
        names = ", ".join(s.name for s in self.sheets if s.kind == "worksheet")
        raise SheetError(f"{path} has no worksheet '{name}'; it has: {names}")


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except FileNotFoundError as e:
        raise SheetError(f"{path} does not exist") from e
    except PermissionError as e:
        raise SheetError(f"cannot read {path}: {e.strerror}") from e
    except (zipfile.BadZipFile, OSError) as e:
        raise SheetError(f"{path} is not an .xlsx/.xlsm workbook (not a zip file)") from e


def _xml(z: zipfile.ZipFile, part: str) -> etree._Element:
    try:
        return etree.fromstring(z.read(part), _PARSER)
    except KeyError as e:
        raise SheetError(f"{z.filename} has no part {part}; open it in Excel and save it") from e
    except etree.XMLSyntaxError as e:
        raise SheetError(f"{z.filename}: {part} is not well-formed XML ({e})") from e


def _rels_of(part: str) -> str:
    folder, _, name = part.rpartition("/")
    return f"{folder}/_rels/{name}.rels" if folder else f"_rels/{name}.rels"


def _resolve(source: str, target: str) -> str:
    """The zip member a relationship target names, relative to the part holding the link."""
    if target.startswith("/"):
        return target.lstrip("/")
    parts = source.split("/")[:-1]
    for piece in target.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def _relationships(z: zipfile.ZipFile, source: str) -> dict[str, tuple[str, str]]:
    """Relationship id -> (last segment of its type, target member) for one part."""
    rels_part = _rels_of(source)
    if rels_part not in z.NameToInfo:
        return {}
    found: dict[str, tuple[str, str]] = {}
    for rel in _xml(z, rels_part).iter(f"{_REL_NS}Relationship"):
        if rel.get("TargetMode") != "External":
            kind = (rel.get("Type") or "").rsplit("/", 1)[-1]
            found[rel.get("Id") or ""] = (kind, _resolve(source, rel.get("Target") or ""))
    return found


def _load_book(z: zipfile.ZipFile) -> _Book:
    workbook = next(
        (target for kind, target in _relationships(z, "").values() if kind == "officeDocument"),
        "xl/workbook.xml",
    )
    rels = _relationships(z, workbook)
    root = _xml(z, workbook)
    sheets = []
    for el in root.iter("{*}sheet"):
        rid = next((v for a in _R_ID if (v := el.get(a))), "")
        kind, target = rels.get(rid, ("", ""))
        sheets.append(_SheetPart(el.get("name") or "", target, el.get("sheetId") or "", kind))
    pr = next(root.iter("{*}workbookPr"), None)
    date1904 = pr is not None and (pr.get("date1904") or "").lower() in ("1", "true")

    def part(kind: str) -> str | None:
        return next((t for k, t in rels.values() if k == kind and t in z.NameToInfo), None)

    return _Book(
        tuple(sheets),
        _rels_of(workbook),
        part("sharedStrings"),
        part("styles"),
        part("calcChain"),
        date1904,
    )


def sheet_names(path: Path) -> list[str]:
    """Worksheets in workbook order (chart sheets and dialog sheets left out)."""
    with _open_zip(path) as z:
        return [s.name for s in _load_book(z).sheets if s.kind == "worksheet"]


# ----------------------------------------------------------------------------------------------
# Text and cell references as Excel writes them.

_ENTITY = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_OOXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
# Characters XML 1.0 cannot hold even as a reference, and an underscore that would make the
# text read as one of OOXML's _xHHHH_ escapes (ECMA-376 Part 1, 22.9.2.19 ST_Xstring).
_NEEDS_OOXML_ESCAPE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]|_(?=x[0-9A-Fa-f]{4}_)"
)


def _entity(m: re.Match[str]) -> str:
    name = m.group(1)
    if name[0] == "#":
        return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))
    return _NAMED[name]


def _text_of(raw: bytes) -> str:
    """Element text as Excel reads it: XML entities, then OOXML's _xHHHH_ escapes, decoded."""
    text = raw.decode("utf-8")
    if "\r" in text:  # line ends as an XML parser reports them (XML 1.0, 2.11); &#13; stays
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text:
        text = _ENTITY.sub(_entity, text)
    if "_x" in text:
        text = _OOXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    return text


_PLAIN = re.compile("[^&<>\r\x00-\x08\x0b\x0c\x0e-\x1f_\ufffe\uffff\ud800-\udfff]*")


def _escape(value: str) -> bytes:
    """Element text that Excel, LibreOffice and openpyxl read back as `value`."""
    if _PLAIN.fullmatch(value):
        return value.encode("utf-8")
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")  # a bare CR is read as LF (XML 1.0, 2.11)
    value = _NEEDS_OOXML_ESCAPE.sub(lambda m: f"_x{ord(m.group()):04X}_", value)
    return value.encode("utf-8")


_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]{1,7})")


def _parse_range(ref: str) -> tuple[int, int, int, int]:
    """'B2:D4' -> (first row, first column, last row, last column), rows 1-based, columns 0-based."""
    ends = [_REF.fullmatch(end.strip()) for end in ref.split(":")]
    if not 1 <= len(ends) <= 2 or not all(ends):
        raise ValueError(f"not a cell range: {ref!r}")
    rows = [int(m.group(2)) for m in ends if m]
    cols = [column_index(m.group(1)) for m in ends if m]
    return min(rows), min(cols), max(rows), max(cols)


def _range_text(r1: int, c1: int, r2: int, c2: int) -> str:
    first = f"{column_letter(c1)}{r1}"
    return first if (r1, c1) == (r2, c2) else f"{first}:{column_letter(c2)}{r2}"


# ----------------------------------------------------------------------------------------------
# A worksheet part as a stream of rows.

_ATTRS = rb"((?:\s+[^\s=/>]+\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*"
_ATTR = re.compile(rb"([^\s=/>]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_ROOT = re.compile(rb"<(?:([A-Za-z_][\w.-]*):)?(?:worksheet|sst|calcChain)\b" + _ATTRS + rb"/?>")
_NOT_UTF8 = re.compile(rb"<\?xml[^>]*encoding\s*=\s*[\"'](?!utf-8[\"'])", re.IGNORECASE)
_ROW_NUMBER = re.compile(rb"\sr\s*=\s*[\"']([0-9]+)[\"']")
_CELL_COL = re.compile(rb"\sr\s*=\s*[\"']\$?([A-Za-z]{1,3})")


@dataclass(frozen=True)
class _Patterns:
    """Patterns for one namespace prefix (b"" as Excel writes, or e.g. b"x:")."""

    prefix: bytes
    sheet_data: re.Pattern[bytes]
    row_tag: re.Pattern[bytes]
    row_end: bytes
    cell: re.Pattern[bytes]
    value: re.Pattern[bytes]
    formula: re.Pattern[bytes]
    text: re.Pattern[bytes]
    phonetic: re.Pattern[bytes]
    si: re.Pattern[bytes]
    col: re.Pattern[bytes]
    dimension: re.Pattern[bytes]
    merge: re.Pattern[bytes]
    calc_entry: re.Pattern[bytes]


@functools.cache
def _patterns(prefix: bytes) -> _Patterns:
    p = re.escape(prefix)

    def element(name: bytes) -> re.Pattern[bytes]:
        """<name attrs/> or <name attrs>body</name>: group 1 the attributes, group 2 the body."""
        end = b"</" + p + name + b">"
        body = rb"([^<]*(?:<(?!" + end[1:] + rb")[^<]*)*)"  # up to the end tag, unrolled: fast
        return re.compile(rb"<" + p + name + _ATTRS + rb"(?:/>|>" + body + end + rb")")

    def ref_attr(name: bytes) -> re.Pattern[bytes]:
        return re.compile(rb"(<" + p + name + rb"\b[^>]*?\sref\s*=\s*)([\"'])([^\"']*)\2")

    return _Patterns(
        prefix=prefix,
        sheet_data=re.compile(rb"<" + p + rb"sheetData" + _ATTRS + rb"(/?)>"),
        row_tag=re.compile(rb"<" + p + rb"row" + _ATTRS + rb"(/?)>"),
        row_end=b"</" + prefix + b"row>",
        cell=element(b"c"),
        value=re.compile(rb"<" + p + rb"v(?:\s[^>]*)?>(.*?)</" + p + rb"v>", re.DOTALL),
        formula=element(b"f"),
        text=re.compile(rb"<" + p + rb"t(?:\s[^>]*)?>(.*?)</" + p + rb"t>", re.DOTALL),
        phonetic=re.compile(rb"<" + p + rb"rPh\b.*?</" + p + rb"rPh>", re.DOTALL),
        si=element(b"si"),
        col=re.compile(rb"<" + p + rb"col" + _ATTRS + rb"/?>"),
        dimension=ref_attr(b"dimension"),
        merge=ref_attr(b"mergeCell"),
        calc_entry=re.compile(rb"<" + p + rb"c" + _ATTRS + rb"/>"),
    )


def _attrs(raw: bytes) -> dict[bytes, bytes]:
    return {
        m.group(1): m.group(2) if m.group(3) is None else m.group(3) for m in _ATTR.finditer(raw)
    }


def _attrs_text(attrs: Mapping[bytes, bytes]) -> bytes:
    return b"".join(b" " + k + b'="' + v.replace(b'"', b"&quot;") + b'"' for k, v in attrs.items())


def _prefix_of(head: bytes, where: str) -> bytes:
    """The prefix a part gives SpreadsheetML's main namespace (b"" for the default namespace)."""
    if _NOT_UTF8.match(head):
        raise SheetError(f"{where} is not UTF-8 XML; open the file in Excel and save it again")
    m = _ROOT.search(head)
    if not m:
        raise SheetError(f"{where} is not a SpreadsheetML part as Excel writes it")
    prefix = m.group(1) or b""
    declared = _attrs(m.group(2)).get(b"xmlns:" + prefix if prefix else b"xmlns")
    if declared not in _MAIN_NS:
        raise SheetError(f"{where} uses a namespace this reader does not know ({declared!r})")
    return prefix + b":" if prefix else b""


class _SheetStream:
    """A worksheet part split into what comes before its rows, the rows one by one, and the rest.

    Each row comes out as the exact bytes of its <row> element, with the whitespace before it,
    so a row nobody writes to is copied unchanged. Only a window of the part is in memory.
    """

    def __init__(self, raw: IO[bytes], where: str) -> None:
        self._raw = raw
        self.where = where
        self._buf = b""
        self._pos = 0
        self._eof = False
        while not self._eof and _ROOT.search(self._buf) is None:
            self._more()
        self._buf = self._buf.removeprefix(b"\xef\xbb\xbf")
        self.pat = _patterns(_prefix_of(self._buf, where))
        while (m := self.pat.sheet_data.search(self._buf)) is None:
            if self._eof:
                raise SheetError(f"{where} has no <sheetData>; it is not a worksheet")
            self._more()
        self.before = self._buf[: m.start()]  # everything before <sheetData
        self.sheet_data_attrs = m.group(1)
        self.empty = m.group(2) == b"/"  # <sheetData/>: no rows at all
        self._pos = m.end()
        self.after = b""  # from </sheetData> on (after <sheetData/>), once rows() is done

    def _more(self) -> None:
        chunk = self._raw.read(_CHUNK)
        self._eof = not chunk
        self._buf += chunk

    def _refill(self) -> bool:
        """Drop what was consumed and read on; False at the end of the part."""
        if self._eof:
            return False
        self._buf = self._buf[self._pos :]
        self._pos = 0
        self._more()
        return True

    def rows(self) -> Iterator[tuple[bytes, bytes]]:
        """(whitespace before the row, the <row> element) for every row, in file order."""
        if self.empty:
            self.after = self._buf[self._pos :] + self._raw.read()
            return
        pat = self.pat
        row_open = b"<" + pat.prefix + b"row"
        end_tag = b"</" + pat.prefix + b"sheetData>"
        while True:
            lt = self._buf.find(b"<", self._pos)
            if lt < 0 or len(self._buf) - lt < len(end_tag):
                if self._refill():
                    continue
                raise SheetError(f"{self.where} ends inside <sheetData>; the file is damaged")
            gap = self._buf[self._pos : lt]
            if gap.strip():
                raise SheetError(f"{self.where} has text between rows, which Excel never writes")
            if self._buf.startswith(end_tag, lt):
                self.after = self._buf[lt:] + self._raw.read()
                return
            tag = pat.row_tag.match(self._buf, lt)
            if tag is None:
                if self._buf.startswith(row_open, lt) and self._refill():
                    continue
                found = self._buf[lt : lt + 30].decode("utf-8", "replace")
                raise SheetError(f"{self.where} has {found!r} in <sheetData>; not supported")
            if tag.group(2) == b"/":
                end = tag.end()
            else:
                close = self._buf.find(pat.row_end, tag.end())
                if close < 0:
                    if self._refill():
                        continue
                    raise SheetError(f"{self.where} has a <row> that is never closed")
                end = close + len(pat.row_end)
            row = self._buf[lt:end]
            if b"<!" in row:  # a comment or CDATA could hide markup from this scanner
                raise SheetError(f"{self.where} has XML comments or CDATA in rows; not supported")
            self._pos = end
            yield gap, row


def _row_number(row: bytes, previous: int, where: str) -> int:
    m = _ROW_NUMBER.search(row, 0, row.find(b">") + 1)
    number = int(m.group(1)) if m else previous + 1  # r= may be left out (ECMA-376 18.3.1.73)
    if not previous < number <= _MAX_ROW:
        raise SheetError(f"{where} has rows out of order (row {number} after row {previous})")
    return number


# ----------------------------------------------------------------------------------------------
# Reading.


def _shared_strings(z: zipfile.ZipFile, part: str | None) -> list[str]:
    """Every shared string, rich-text runs joined, phonetic guides (rPh) left out."""
    if part is None:
        return []
    data = z.read(part)
    pat = _patterns(_prefix_of(data[:4096], part))
    strings: list[str] = []
    for m in pat.si.finditer(data):
        body = m.group(2) or b""
        if b"rPh" in body:
            body = pat.phonetic.sub(b"", body)
        strings.append("".join([_text_of(t.group(1)) for t in pat.text.finditer(body)]))
    return strings


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
_CACHED_CELLS = 100_000  # distinct (type, style, XML) cells kept, so each Cell is made once


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
                cell = Cell(inline.decode("utf-8"), CellKind.TEXT)
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


def read_grid(path: Path, sheet: str) -> Grid:
    """Every non-empty row of one worksheet, each cell as text with the kind of value it holds."""
    # Hundreds of thousands of new objects, none in a reference cycle: the cyclic collector
    # would walk the growing heap again and again (a quarter of the time at 100k rows).
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _read_grid(path, sheet)
    finally:
        if collecting:
            gc.enable()


def _read_grid(path: Path, sheet: str) -> Grid:
    with _open_zip(path) as z:
        book = _load_book(z)
        target = book.worksheet(path, sheet)
        if target.part not in z.NameToInfo:
            raise SheetError(f"{path} has no part {target.part}; the file is damaged")
        strings = _shared_strings(z, book.shared_strings)
        styles = _style_kinds(z, book.styles)
        where = f"{path.name}: {target.part}"
        rows: dict[int, list[Cell]] = {}
        with z.open(target.part) as raw:
            stream = _SheetStream(raw, where)
            reader = _CellReader(stream.pat, strings, styles, book.date1904)
            number = 0
            for _gap, row in stream.rows():
                number = _row_number(row, number, where)
                if cells := reader.row(row, number):
                    rows[number] = cells
            merges = [m.group(3).decode() for m in stream.pat.merge.finditer(stream.after)]
    _mark_merged(rows, merges)
    return Grid(sheet, tuple(SheetRow(n, tuple(cells)) for n, cells in sorted(rows.items())))


_MERGED_CELLS = 100_000  # a merged range larger than this is clipped to the cells with values


def _mark_merged(rows: dict[int, list[Cell]], merges: list[str]) -> None:
    """Cells covered by a merged range (all but its top-left) say where the range starts.

    Like openpyxl, every covered cell is reported, except that a huge range (a whole column
    merged) is clipped to the rows and columns holding values.
    """
    last_row = max(rows, default=0)
    last_col = max((len(c) - 1 for c in rows.values()), default=-1)
    for ref in merges:
        try:
            r1, c1, r2, c2 = _parse_range(ref)
        except ValueError:
            continue
        if (r2 - r1 + 1) * (c2 - c1 + 1) > _MERGED_CELLS:
            r2, c2 = min(r2, last_row), min(c2, last_col)
        top_left = f"{column_letter(c1)}{r1}"
        for r in range(r1, r2 + 1):
            cells = rows.setdefault(r, [])
            if c2 >= len(cells):
                cells.extend([BLANK] * (c2 - len(cells) + 1))
            for c in range(c1 if r > r1 else c1 + 1, c2 + 1):
                cells[c] = Cell(merged_into=top_left)


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
        return self._template % (self.pat.prefix, letters, row, s, others, _escape(value))

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
        row_attrs = _attrs(tag.group(1))
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

        attrs = tag.group(1)
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
    z: zipfile.ZipFile, part: str, rows: dict[int, dict[int, str]], where: str
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
        if not (1 <= row <= _MAX_ROW and 0 <= col < _MAX_COL):
            raise SheetError(f"cell (row {row}, column {col}) is outside Excel's grid")
        if len(value) > MAX_CELL_CHARS:
            ref = f"{column_letter(col)}{row}"
            raise SheetError(
                f"the text for {ref} has {len(value)} characters; a cell holds {MAX_CELL_CHARS}"
            )
        rows.setdefault(row, {})[col] = value
    return rows


def _rewrite_sheet(
    stream: _SheetStream, rows: dict[int, dict[int, str]], writer: _RowWriter
) -> Iterator[bytes]:
    """The worksheet part with the values written, in chunks of bytes."""
    pat = stream.pat
    box = (
        min(rows),
        min(min(v) for v in rows.values()),
        max(rows),
        max(max(v) for v in rows.values()),
    )
    yield _grown_dimension(stream.before, pat, box)
    yield b"<" + pat.prefix + b"sheetData" + stream.sheet_data_attrs + b">"
    pending = sorted(rows, reverse=True)
    out: list[bytes] = []
    size = 0
    number = 0
    for gap, row in stream.rows():
        number = _row_number(row, number, stream.where)
        while pending and pending[-1] < number:
            new = pending.pop()
            out.append(writer.new_row(new, rows[new]))
        writer.note_arrays(row)
        out.append(gap)
        if pending and pending[-1] == number:
            out.append(writer.edited_row(row, pending.pop(), rows[number]))
        else:
            out.append(row)
        size += len(row)
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


def _check_not_merged(
    rows: dict[int, dict[int, str]], after: bytes, pat: _Patterns, where: str
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
# The zip container: members copied as their compressed bytes, never recompressed.


@dataclass(frozen=True)
class _Deflated:
    """A member's new content, deflated into a scratch file."""

    data: IO[bytes]
    offset: int
    crc: int
    compress_size: int
    file_size: int


def _deflate(chunks: Iterable[bytes], into: IO[bytes]) -> _Deflated:
    into.seek(0, 2)
    start = into.tell()
    deflate = zlib.compressobj(_DEFLATE_LEVEL, zlib.DEFLATED, -15)
    crc = size = 0
    for chunk in chunks:
        crc = zlib.crc32(chunk, crc)
        size += len(chunk)
        into.write(deflate.compress(chunk))
    into.write(deflate.flush())
    return _Deflated(into, start, crc, into.tell() - start, size)


# struct layouts of a local file header and a central directory entry (APPNOTE.TXT 4.3.7, 4.3.12)
_LOCAL = struct.Struct("<4s2B4HL2L2H")
_CENTRAL = struct.Struct("<4s4B4HL2L5H2L")
_END = struct.Struct("<4s4H2LH")


class _ZipOut:
    """Writes a zip file member by member; a copied member keeps its compressed bytes.

    zipfile can only add a member by compressing it again, so headers are built here from the
    source's central directory, with sizes in the local header (no data descriptor).
    """

    def __init__(self, fp: IO[bytes], where: str) -> None:
        self._fp = fp
        self._where = where
        self._central: list[bytes] = []

    def _too_large(self, *numbers: int) -> None:
        if any(n > 0xFFFFFFFF for n in numbers) or len(self._central) >= 0xFFFF:
            raise SheetError(f"{self._where}: the workbook is too large to edit here (zip64)")

    def _headers(
        self,
        info: zipfile.ZipInfo,
        flags: int,
        method: int,
        sizes: tuple[int, int, int],
        extra: bytes,
    ) -> None:
        crc, csize, size = sizes
        name = info.orig_filename.encode("utf-8" if flags & 0x800 else "cp437")
        y, mo, d, h, mi, s = info.date_time
        time, date = h << 11 | mi << 5 | s // 2, (y - 1980) << 9 | mo << 5 | d
        offset = self._fp.tell()
        self._too_large(offset, csize, size)
        version = max(info.extract_version, 20 if method == zipfile.ZIP_DEFLATED else 10)
        central_extra = _strip_zip64(info.extra)
        fields = (flags, method, time, date, crc, csize, size, len(name))
        made_by = (info.create_version, info.create_system, version, info.reserved)
        rest = (len(central_extra), len(info.comment), 0, info.internal_attr, info.external_attr)
        entry = _CENTRAL.pack(b"PK\x01\x02", *made_by, *fields, *rest, offset)
        self._central.append(entry + name + central_extra + info.comment)
        self._fp.write(_LOCAL.pack(b"PK\x03\x04", version, 0, *fields, len(extra)) + name + extra)

    def _pipe(self, src: IO[bytes], size: int, name: str) -> None:
        while size:
            chunk = src.read(min(size, _CHUNK))
            if not chunk:
                raise SheetError(f"{self._where}: part {name} is cut short; the file is damaged")
            self._fp.write(chunk)
            size -= len(chunk)

    def copy(self, src: IO[bytes], info: zipfile.ZipInfo) -> None:
        """A member as stored in the source: the same compressed bytes, CRC and sizes."""
        if info.flag_bits & 0x1:
            raise SheetError(
                f"{self._where}: the workbook is encrypted; remove its password in Excel"
            )
        src.seek(info.header_offset)
        header = src.read(_LOCAL.size)
        if len(header) < _LOCAL.size or header[:4] != b"PK\x03\x04":
            raise SheetError(f"{self._where}: part {info.filename} is missing; the file is damaged")
        name_len, extra_len = struct.unpack("<2H", header[26:30])
        src.seek(info.header_offset + _LOCAL.size + name_len)
        extra = _strip_zip64(src.read(extra_len))
        sizes = (info.CRC, info.compress_size, info.file_size)
        self._headers(info, info.flag_bits & ~0x8, info.compress_type, sizes, extra)
        self._pipe(src, info.compress_size, info.filename)

    def add(self, info: zipfile.ZipInfo, new: _Deflated) -> None:
        """A member with new content, under the source member's name, date and attributes."""
        sizes = (new.crc, new.compress_size, new.file_size)
        self._headers(info, info.flag_bits & 0x800, zipfile.ZIP_DEFLATED, sizes, b"")
        new.data.seek(new.offset)
        self._pipe(new.data, new.compress_size, info.filename)
        new.data.seek(0, 2)

    def close(self, comment: bytes) -> None:
        start = self._fp.tell()
        for entry in self._central:
            self._fp.write(entry)
        size = self._fp.tell() - start
        self._too_large(start, size)
        count = len(self._central)
        self._fp.write(
            _END.pack(b"PK\x05\x06", 0, 0, count, count, size, start, len(comment)) + comment
        )


def _strip_zip64(extra: bytes) -> bytes:
    """Extra fields without a zip64 record: sizes and offsets here fit 32 bits."""
    out = b""
    while len(extra) >= 4:
        kind, size = struct.unpack("<2H", extra[:4])
        if kind != 0x0001:
            out += extra[: 4 + size]
        extra = extra[4 + size :]
    return out


# ----------------------------------------------------------------------------------------------
# Writing the workbook.


def write_cells(
    src: Path,
    dst: Path,
    sheet: str,
    cells: Mapping[tuple[int, int], str],
    like: Mapping[int, int] | None = None,
) -> None:
    """Copy `src` to `dst` with text in the given cells of one worksheet.

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
    rows = _by_row(cells)
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
                changed = _changed_parts(z, book, target, rows, scratch, where, like or {})
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
    rows: dict[int, dict[int, str]],
    scratch: IO[bytes],
    where: str,
    like: Mapping[int, int],
) -> dict[str, _Deflated | None]:
    """New content of the members that change (None: the member goes)."""
    if not rows:
        return {}
    with z.open(target.part) as part:
        stream = _SheetStream(part, where)
        writer = _RowWriter(where, stream.pat, _column_styles(stream.before, stream.pat))
        writer.like = dict(like)
        changed: dict[str, _Deflated | None] = {
            target.part: _deflate(_rewrite_sheet(stream, rows, writer), scratch)
        }
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
