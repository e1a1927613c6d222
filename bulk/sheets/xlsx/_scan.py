"""A worksheet part as a stream of rows, and text and cell references as Excel writes them."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from bulk.errors import SheetError
from bulk.sheets.base import column_index, column_letter

if TYPE_CHECKING:
    pass
from bulk.sheets.xlsx._parts import _CHUNK, _MAIN_NS, _MAX_ROW

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


# The bytes of UTF-8 text that _PLAIN refuses (U+FFFE and U+FFFF begin with EF BF; surrogates
# cannot be encoded at all): found by deleting them, several times faster than the pattern.
_NOT_PLAIN_BYTES = b"&<>\r_" + bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def _escape(value: str) -> bytes:
    """Element text that Excel, LibreOffice and openpyxl read back as `value`."""
    if value.isprintable() and not ("&" in value or "<" in value or ">" in value or "_" in value):
        return value.encode("utf-8")  # no control character, surrogate or U+FFFE/U+FFFF either
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        data = b"\xef\xbf"
    if len(data.translate(None, _NOT_PLAIN_BYTES)) == len(data) and b"\xef\xbf" not in data:
        return data
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
        # A byte-order mark stays in `before`, so a rewritten part keeps it.
        self.pat = _patterns(_prefix_of(self._buf.removeprefix(b"\xef\xbb\xbf"), where))
        while (m := self.pat.sheet_data.search(self._buf)) is None:
            if self._eof:
                raise SheetError(f"{where} has no <sheetData>; it is not a worksheet")
            self._more()
        self.before = self._buf[: m.start()]  # everything before <sheetData
        self.sheet_data_attrs = m.group(1)
        self.empty = m.group(2) == b"/"  # <sheetData/>: no rows at all
        self._pos = m.end()
        self.after = b""  # from </sheetData> on (after <sheetData/>), once rows() is done

    def _more(self, size: int = _CHUNK) -> None:
        chunk = self._raw.read(size)
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

    def chunks(self, size: int = _CHUNK) -> Iterator[bytes]:
        """The XML inside <sheetData> in pieces of many rows, each ending just after a </row>
        (the last one: whatever comes before </sheetData>), for scanners that take many rows
        at once, read `size` bytes at a time; then `after` is set. Nothing is checked here: the
        scanner checks the rows."""
        if self.empty:
            self.after = self._buf[self._pos :] + self._raw.read()
            return
        row_end = self.pat.row_end
        while not self._eof:
            self._more(size)
            cut = self._buf.rfind(row_end, self._pos)
            if cut >= 0:
                cut += len(row_end)
                yield self._buf[self._pos : cut]
                self._buf = self._buf[cut:]
                self._pos = 0
        end = self._buf.find(b"</" + self.pat.prefix + b"sheetData>", self._pos)
        if end < 0:
            raise SheetError(f"{self.where} ends inside <sheetData>; the file is damaged")
        if end > self._pos:
            yield self._buf[self._pos : end]
        self.after = self._buf[end:]

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
                # An end tag inside a CDATA section is text, not the end of the row.
                while close >= 0 and _open_cdata(self._buf, tag.end(), close):
                    close = self._buf.find(pat.row_end, close + 1)
                if close < 0:
                    if self._refill():
                        continue
                    raise SheetError(f"{self.where} has a <row> that is never closed")
                end = close + len(pat.row_end)
            row = self._buf[lt:end]
            if b"<!" in row and b"<!" in _CDATA.sub(b"", row):
                # A comment could hide markup from this scanner; CDATA is read as text.
                raise SheetError(f"{self.where} has XML comments in rows; not supported")
            self._pos = end
            yield gap, row


def _row_number(row: bytes, previous: int, where: str) -> int:
    """The row's r=, or the one after the previous row when it is left out (ECMA-376
    18.3.1.73). Rows may come in any order and a number may repeat (some generators write
    one <row> per cell): readers merge them, writers place cells accordingly."""
    m = _ROW_NUMBER.search(row, 0, row.find(b">") + 1)
    number = int(m.group(1)) if m else previous + 1
    if not 0 < number <= _MAX_ROW:
        raise SheetError(f"{where} has a row numbered {number}, outside Excel's grid")
    return number


_CDATA = re.compile(rb"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)


def _open_cdata(buf: bytes, start: int, end: int) -> bool:
    """Whether buf[start:end] ends inside a CDATA section."""
    opened = buf.rfind(b"<![CDATA[", start, end)
    return opened >= 0 and buf.find(b"]]>", opened, end) < 0


def _without_cdata(row: bytes) -> bytes:
    """The row with each CDATA section written as escaped text: the same XML, which the
    patterns of this package read."""
    if b"<![CDATA[" not in row:
        return row
    return _CDATA.sub(
        lambda m: m.group(1).replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;"),
        row,
    )
