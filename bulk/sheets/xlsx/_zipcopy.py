"""The zip container: members copied as their compressed bytes, never recompressed."""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from bulk.errors import SheetError

if TYPE_CHECKING:
    pass
from bulk.sheets.xlsx._parts import _CHUNK, _DEFLATE_LEVEL

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
