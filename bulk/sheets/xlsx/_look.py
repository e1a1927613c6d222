"""How the columns bulk adds to a team's workbook look: a width, and for text that runs to
several lines, a wrapped top-aligned style. Only columns bulk adds are touched: a column the
sheet already describes (a <col> covering it) keeps the team's own look."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bulk.sheets.xlsx._scan import _attrs, _Patterns

# One added column: its width in characters, and whether its text is wrapped.
Look = tuple[float, bool]

_CELL_XFS = re.compile(rb"<((?:[\w.-]+:)?)cellXfs\b([^>]*?)(/?)>")
_COUNT = re.compile(rb"""(\scount\s*=\s*)(["'])(\d+)\2""")


def with_wrap_style(styles: bytes) -> tuple[bytes, bytes] | None:
    """styles.xml with one more cell format (the default one, wrapped and top-aligned) and its
    index; None when the part has no cell formats to add to."""
    m = _CELL_XFS.search(styles)
    if m is None or m.group(3):
        return None
    prefix, attrs = m.group(1), m.group(2)
    end = styles.find(b"</" + prefix + b"cellXfs>", m.end())
    if end < 0:
        return None
    index = len(re.findall(rb"<" + re.escape(prefix) + rb"xf\b", styles[m.end() : end]))
    xf = (
        b'<%bxf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1">'
        b'<%balignment vertical="top" wrapText="1"/></%bxf>' % (prefix, prefix, prefix)
    )
    count = _COUNT.search(attrs)
    if count is not None:
        attrs = (
            attrs[: count.start()]
            + b"%b%b%d%b"
            % (
                count.group(1),
                count.group(2),
                index + 1,
                count.group(2),
            )
            + attrs[count.end() :]
        )
    opening = b"<" + prefix + b"cellXfs" + attrs + b">"
    return styles[: m.start()] + opening + styles[m.end() : end] + xf + styles[end:], str(
        index
    ).encode()


def _covered(before: bytes, pat: _Patterns) -> set[int]:
    """0-based columns some <col> of the sheet already describes."""
    found: set[int] = set()
    for m in pat.col.finditer(before):
        attrs = _attrs(m.group(1))
        low, high = attrs.get(b"min", b""), attrs.get(b"max", b"")
        if low.isdigit():
            last = int(high) if high.isdigit() else int(low)
            found.update(range(int(low) - 1, min(last, 16384)))
    return found


def with_columns(
    before: bytes, pat: _Patterns, looks: Mapping[int, Look], wrap_style: bytes | None
) -> tuple[bytes, dict[int, bytes]]:
    """The part's head with a <col> (width, and the wrap style where asked) for each added
    column no <col> covers yet, and the style each of them gives new cells."""
    covered = _covered(before, pat)
    p = pat.prefix
    made: list[tuple[int, bytes]] = []
    styled: dict[int, bytes] = {}
    for col in sorted(looks):
        if col in covered:
            continue
        width, wrap = looks[col]
        style = b""
        if wrap and wrap_style is not None:
            style = b' style="' + wrap_style + b'"'
            styled[col] = wrap_style
        made.append(
            (
                col,
                b'<%bcol min="%d" max="%d" width="%g" customWidth="1"%b/>'
                % (p, col + 1, col + 1, width, style),
            )
        )
    if not made:
        return before, {}
    cols = re.search(rb"<" + re.escape(p) + rb"cols\b[^>]*>", before)
    if cols is None:
        # <cols> comes right before <sheetData>, which is where `before` ends.
        return before + b"<" + p + b"cols>" + b"".join(
            x for _, x in made
        ) + b"</" + p + b"cols>", styled
    end = before.find(b"</" + p + b"cols>", cols.end())
    if end < 0:
        return before, {}
    # <col>s stay in column order: each new one goes before the first that starts after it.
    starts = []
    for m in pat.col.finditer(before, cols.end(), end):
        low = _attrs(m.group(1)).get(b"min", b"")
        starts.append((int(low) if low.isdigit() else 0, m.start()))
    # Inserted last column first, each at a place in the original text: the ones before it
    # stay where they were.
    out = bytearray(before)
    for col, element in reversed(made):
        at = next((pos for low, pos in starts if low > col + 1), end)
        out[at:at] = element
    return bytes(out), styled
