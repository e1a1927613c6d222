"""A local fake of the Google Sheets API v4, shaped after gspread's recorded cassettes.

It serves the endpoints bulk (through gspread) uses, over plain HTTP on 127.0.0.1, with
Google's behaviour where bulk depends on it: A1 ranges with quoted sheet titles, trailing
blank cells and rows left out of value responses, whole-row/column ranges clipped to the
grid, grid limits on writes, RAW versus USER_ENTERED input, 403 for a sheet not shared with
the caller, 404 for an unknown id, and Google's error bodies. Response shapes follow the
recordings in gspread's `tests/cassettes/` (MIT, Copyright (C) 2011-2023 Anton Burnashev).

Test controls: `counts` (requests by API method name), `log`, `fail_next` (answer 429 or
5xx for the next N requests), `before` (run a callback before the next request of a kind,
e.g. to move rows between bulk's read and its write) and direct access to the cells.
"""

from __future__ import annotations

import base64
import copy
import itertools
import json
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

# Copied from a recorded `GET /v4/spreadsheets/{id}` (ClientTest.test_open_by_key_has_metadata).
DEFAULT_FORMAT: dict[str, Any] = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM",
    "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {
        "foregroundColor": {},
        "fontFamily": "arial,sans,sans-serif",
        "fontSize": 10,
        "bold": False,
        "italic": False,
        "strikethrough": False,
        "underline": False,
        "foregroundColorStyle": {"rgbColor": {}},
    },
    "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
}
SPREADSHEET_THEME: dict[str, Any] = {
    "primaryFontFamily": "Arial",
    "themeColors": [
        {"colorType": "TEXT", "color": {"rgbColor": {}}},
        {"colorType": "BACKGROUND", "color": {"rgbColor": {"red": 1, "green": 1, "blue": 1}}},
        {
            "colorType": "ACCENT1",
            "color": {"rgbColor": {"red": 0.25882354, "green": 0.52156866, "blue": 0.95686275}},
        },
        {
            "colorType": "ACCENT2",
            "color": {"rgbColor": {"red": 0.91764706, "green": 0.2627451, "blue": 0.20784314}},
        },
        {
            "colorType": "ACCENT3",
            "color": {"rgbColor": {"red": 0.9843137, "green": 0.7372549, "blue": 0.015686275}},
        },
        {
            "colorType": "ACCENT4",
            "color": {"rgbColor": {"red": 0.20392157, "green": 0.65882355, "blue": 0.3254902}},
        },
        {
            "colorType": "ACCENT5",
            "color": {"rgbColor": {"red": 1, "green": 0.42745098, "blue": 0.003921569}},
        },
        {
            "colorType": "ACCENT6",
            "color": {"rgbColor": {"red": 0.27450982, "green": 0.7411765, "blue": 0.7764706}},
        },
        {
            "colorType": "LINK",
            "color": {"rgbColor": {"red": 0.06666667, "green": 0.33333334, "blue": 0.8}},
        },
    ],
}
QUOTA_MESSAGE = (
    "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per "
    "user' of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'."
)


@dataclass(frozen=True)
class Formula:
    """A formula cell: the fake does not compute; `value` is what it shows."""

    text: str
    value: Any = ""


@dataclass(frozen=True)
class Shown:
    """A value with a number format: `text` is what the sheet displays (dates, currency)."""

    value: float
    text: str
    date: bool = False


class ApiError(Exception):
    def __init__(self, code: int, status: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {
            "error": {"code": self.code, "message": self.message, "status": self.status}
            | self.extra
        }


def _service_disabled(project: str) -> ApiError:
    """Google's answer when the Sheets API is not enabled in the caller's project."""
    return ApiError(
        403,
        "PERMISSION_DENIED",
        f"Google Sheets API has not been used in project {project} before or it is disabled. "
        "Enable it by visiting https://console.developers.google.com/apis/api/"
        f"sheets.googleapis.com/overview?project={project} then retry. If you enabled this API "
        "recently, wait a few minutes for the action to propagate to our systems and retry.",
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "SERVICE_DISABLED",
                "domain": "googleapis.com",
                "metadata": {"service": "sheets.googleapis.com", "consumer": f"projects/{project}"},
            }
        ],
    )


def _bad(message: str) -> ApiError:
    return ApiError(400, "INVALID_ARGUMENT", message)


@dataclass
class FakeWorksheet:
    sheet_id: int
    title: str
    index: int
    rows: int = 1000
    cols: int = 26
    hidden: bool = False
    cells: dict[tuple[int, int], Any] = field(default_factory=dict)  # 0-based (row, col)
    hidden_rows: set[int] = field(default_factory=set)  # 1-based, hidden by hand
    filtered_rows: set[int] = field(default_factory=set)  # 1-based, hidden by the filter
    merges: list[dict[str, int]] = field(default_factory=list)
    # ProtectedRange resources: {"range": GridRange, "requestingUserCanEdit": bool, ...}
    protected: list[dict[str, Any]] = field(default_factory=list)

    def locked(self, row: int, col: int) -> bool:
        """0-based: whether a protected range the caller may not edit covers the cell."""
        for guarded in self.protected:
            if guarded.get("requestingUserCanEdit") or guarded.get("warningOnly"):
                continue
            box = guarded.get("range", {})
            if box.get("startRowIndex", 0) <= row < box.get("endRowIndex", 10**9) and box.get(
                "startColumnIndex", 0
            ) <= col < box.get("endColumnIndex", 10**9):
                return True
        return False

    def set_values(self, values: list[list[Any]], top: int = 1, left: int = 1) -> None:
        """Put Python values (None, str, int, float, bool, Formula, Shown) at a 1-based corner."""
        for r, row in enumerate(values):
            for c, value in enumerate(row):
                self.put(top - 1 + r, left - 1 + c, value)

    def put(self, row: int, col: int, value: Any) -> None:
        if value is None or value == "":
            self.cells.pop((row, col), None)
        else:
            self.cells[(row, col)] = value

    def get(self, row: int, col: int) -> Any:
        """1-based, as a person names cells."""
        return self.cells.get((row - 1, col - 1))

    def table(self) -> list[list[Any]]:
        """Every row up to the last non-blank one, each up to its last non-blank cell."""
        if not self.cells:
            return []
        height = max(r for r, _ in self.cells) + 1
        out: list[list[Any]] = []
        for r in range(height):
            cols = [c for rr, c in self.cells if rr == r]
            out.append([self.cells.get((r, c)) for c in range(max(cols) + 1)] if cols else [])
        return out

    def insert_rows(self, before: int, count: int = 1) -> None:
        """Insert blank rows before 1-based row `before`, as Sheets' "Insert row above"."""
        self._shift(0, before - 1, count)
        self.rows += count

    def delete_rows(self, first: int, count: int = 1) -> None:
        start = first - 1
        self.cells = {k: v for k, v in self.cells.items() if not start <= k[0] < start + count}
        self._shift(0, start + count, -count)
        self.rows -= count

    def _shift(self, axis: int, start: int, by: int) -> None:
        moved: dict[tuple[int, int], Any] = {}
        for (r, c), value in self.cells.items():
            key = [r, c]
            if key[axis] >= start:
                key[axis] += by
            moved[(key[0], key[1])] = value
        self.cells = moved
        begin, end = (
            ("startRowIndex", "endRowIndex")
            if axis == 0
            else ("startColumnIndex", "endColumnIndex")
        )
        for merge in self.merges:
            for name in (begin, end):
                if merge[name] >= start:
                    merge[name] += by

    def properties(self) -> dict[str, Any]:
        props: dict[str, Any] = {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": self.index,
            "sheetType": "GRID",
            "gridProperties": {"rowCount": self.rows, "columnCount": self.cols},
        }
        if self.hidden:
            props["hidden"] = True
        return props


@dataclass
class FakeSpreadsheet:
    key: str
    title: str
    sheets: list[FakeWorksheet] = field(default_factory=list)
    shared_with: frozenset[str] | None = None  # None: anyone, anonymous callers included
    locale: str = "en_US"
    time_zone: str = "Etc/GMT"

    def sheet(self, title: str) -> FakeWorksheet:
        for ws in self.sheets:
            if ws.title == title:
                return ws
        raise KeyError(title)

    def add_sheet(
        self, title: str, rows: int = 1000, cols: int = 26, sheet_id: int | None = None
    ) -> FakeWorksheet:
        if any(ws.title.lower() == title.lower() for ws in self.sheets):
            raise _bad(
                f'A sheet with the name "{title}" already exists. Please enter another name.'
            )
        if sheet_id is None:
            sheet_id = 0 if not self.sheets else 1_000_000_000 + 7919 * len(self.sheets)
        ws = FakeWorksheet(sheet_id, title, len(self.sheets), rows, cols)
        self.sheets.append(ws)
        return ws

    def resource(self, grid_data: bool = False) -> dict[str, Any]:
        """The spreadsheet; with `grid_data` (a field mask naming sheets.data), each sheet's
        row metadata too, as GridData (startRow left out when 0, false flags left out)."""
        sheets = []
        for ws in sorted(self.sheets, key=lambda s: s.index):
            entry: dict[str, Any] = {"properties": ws.properties()}
            if grid_data:
                meta = []
                for number in range(1, ws.rows + 1):
                    props: dict[str, Any] = {"pixelSize": 21}
                    if number in ws.hidden_rows:
                        props["hiddenByUser"] = True
                    if number in ws.filtered_rows:
                        props["hiddenByFilter"] = True
                    meta.append(props)
                entry["data"] = [{"rowMetadata": meta}]
            if ws.merges:
                entry["merges"] = [{"sheetId": ws.sheet_id, **m} for m in ws.merges]
            if ws.protected:
                entry["protectedRanges"] = [
                    {**g, "range": {"sheetId": ws.sheet_id, **g.get("range", {})}}
                    for g in ws.protected
                ]
            sheets.append(entry)
        return {
            "spreadsheetId": self.key,
            "properties": {
                "title": self.title,
                "locale": self.locale,
                "autoRecalc": "ON_CHANGE",
                "timeZone": self.time_zone,
                "defaultFormat": copy.deepcopy(DEFAULT_FORMAT),
                "spreadsheetTheme": copy.deepcopy(SPREADSHEET_THEME),
            },
            "sheets": sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.key}/edit",
        }


# --- A1 notation -------------------------------------------------------------------------

_CELL_RE = re.compile(r"^([A-Za-z]{0,3})(\d*)$")
_PLAIN_TITLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def col_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def col_index(letters: str) -> int:
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index - 1


def title_in_a1(title: str) -> str:
    """As Google writes a title in the ranges it answers with: quoted only when needed."""
    if _PLAIN_TITLE.match(title) and not re.match(r"^[A-Za-z]{1,3}\d+$", title):
        return title
    return "'" + title.replace("'", "''") + "'"


@dataclass(frozen=True)
class Area:
    """A range on one worksheet: 0-based, inclusive rows and columns, and the A1 text asked for."""

    sheet: FakeWorksheet
    r0: int
    c0: int
    r1: int
    c1: int
    text: str

    def a1(self) -> str:
        start = f"{col_letters(self.c0)}{self.r0 + 1}"
        end = f"{col_letters(self.c1)}{self.r1 + 1}"
        cells = start if start == end else f"{start}:{end}"
        return f"{title_in_a1(self.sheet.title)}!{cells}"


def split_title(text: str) -> tuple[str | None, str]:
    """`'My ''x'' Sheet'!A1:B2` -> ("My 'x' Sheet", "A1:B2"); `Sheet1` -> (None, "Sheet1")."""
    if text.startswith("'"):
        i, title = 1, ""
        while i < len(text):
            if text[i] == "'":
                if text[i + 1 : i + 2] == "'":
                    title += "'"
                    i += 2
                    continue
                rest = text[i + 1 :]
                if rest and not rest.startswith("!"):
                    raise _bad(f"Unable to parse range: {text}")
                return title, rest[1:]
            title += text[i]
            i += 1
        raise _bad(f"Unable to parse range: {text}")
    if "!" in text:
        title, _, cells = text.rpartition("!")
        return title, cells
    return None, text


def resolve(book: FakeSpreadsheet, text: str) -> Area:
    """An A1 range on the book, open ends set to the grid's edges (not clipped)."""
    title, cells = split_title(text)
    if title is None:
        named = [ws for ws in book.sheets if ws.title == cells]
        if named:
            title, cells = cells, ""
        else:
            visible = sorted((ws for ws in book.sheets if not ws.hidden), key=lambda s: s.index)
            title = visible[0].title if visible else ""
    try:
        ws = book.sheet(title)
    except KeyError:
        raise _bad(f"Unable to parse range: {text}") from None
    if not cells:
        return Area(ws, 0, 0, ws.rows - 1, ws.cols - 1, text)
    first, sep, last = cells.partition(":")
    m1, m2 = _CELL_RE.match(first), _CELL_RE.match(last if sep else first)
    if m1 is None or m2 is None or not (m1.group(1) or m1.group(2)):
        raise _bad(f"Unable to parse range: {text}")
    if not sep and not (m1.group(1) and m1.group(2)):
        raise _bad(f"Unable to parse range: {text}")
    r0 = int(m1.group(2)) - 1 if m1.group(2) else 0
    c0 = col_index(m1.group(1)) if m1.group(1) else 0
    r1 = int(m2.group(2)) - 1 if m2.group(2) else ws.rows - 1
    c1 = col_index(m2.group(1)) if m2.group(1) else ws.cols - 1
    return Area(ws, min(r0, r1), min(c0, c1), max(r0, r1), max(c0, c1), text)


def _exceeds(ws: FakeWorksheet, text: str) -> ApiError:
    return _bad(f"Range ({text}) exceeds grid limits. Max rows: {ws.rows}, max columns: {ws.cols}")


# --- values --------------------------------------------------------------------------------


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() and abs(value) < 2**53 else value


def render(value: Any, option: str, dates: str) -> Any:
    """A stored value as a values response shows it."""
    if value is None:
        return ""
    if isinstance(value, Formula):
        return value.text if option == "FORMULA" else render(value.value, option, dates)
    if isinstance(value, Shown):
        if option == "FORMATTED_VALUE" or (value.date and dates == "FORMATTED_STRING"):
            return value.text
        return _number(value.value)
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE") if option == "FORMATTED_VALUE" else value
    if isinstance(value, int | float):
        return str(_number(value)) if option == "FORMATTED_VALUE" else _number(value)
    return str(value)


_NUMERIC = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def parse_input(value: Any, option: str) -> Any:
    """A value from a write request as the sheet stores it."""
    if isinstance(value, bool | int | float) or value is None:
        return value
    text = str(value)
    if text == "" or option == "RAW":
        return text or None
    if text.startswith("'"):
        return text[1:] or None
    if text.startswith("="):
        return Formula(text)
    if text.upper() in ("TRUE", "FALSE"):
        return text.upper() == "TRUE"
    if _NUMERIC.match(text.strip()):
        number = float(text)
        return int(number) if number.is_integer() else number
    return text


def _list_of_lists(values: Any, where: str) -> list[list[Any]]:
    ok = isinstance(values, list) and all(isinstance(r, list) for r in values)
    if not ok:
        message = (
            f"Invalid value at '{where}' (type.googleapis.com/google.protobuf.ListValue), "
            f"{json.dumps(values)}"
        )
        raise ApiError(
            400,
            "INVALID_ARGUMENT",
            message,
            details=[
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"field": where, "description": message}],
                }
            ],
        )
    return values


def _input_option(option: Any) -> str:
    if option not in ("RAW", "USER_ENTERED"):
        raise _bad(f"Invalid valueInputOption: {option or 'INPUT_VALUE_OPTION_UNSPECIFIED'}")
    return str(option)


# --- field masks ---------------------------------------------------------------------------


def parse_fields(text: str) -> dict[str, Any]:
    """`properties.title,sheets(properties,merges)` -> {"properties": {"title": None},
    "sheets": {"properties": None, "merges": None}}; None keeps a whole value."""
    tree: dict[str, Any] = {}
    pos = 0
    name_re = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|\*")

    def parse_list(into: dict[str, Any], closing: str | None) -> None:
        nonlocal pos
        while True:
            parse_path(into)
            if pos < len(text) and text[pos] == ",":
                pos += 1
            elif closing is None and pos == len(text):
                return
            elif closing is not None and pos < len(text) and text[pos] == closing:
                pos += 1
                return
            else:
                raise _bad(f"Invalid field selection {text}")

    def parse_path(into: dict[str, Any]) -> None:
        nonlocal pos
        match = name_re.match(text, pos)
        if match is None:
            raise _bad(f"Invalid field selection {text}")
        name = match.group(0)
        pos = match.end()
        nested = pos < len(text) and text[pos] in ".("
        if not nested:
            into[name] = None
            return
        child = into.setdefault(name, {})
        if child is None:
            child = {}  # already selected whole: parse the rest and drop it
        opener = text[pos]
        pos += 1
        if opener == ".":
            parse_path(child)
        else:
            parse_list(child, ")")

    parse_list(tree, None)
    return tree


def apply_fields(value: Any, tree: dict[str, Any] | None) -> Any:
    if tree is None or "*" in tree:
        return value
    if isinstance(value, list):
        return [apply_fields(v, tree) for v in value]
    if not isinstance(value, dict):
        return value
    return {k: apply_fields(value[k], sub) for k, sub in tree.items() if k in value}


# --- the server ----------------------------------------------------------------------------


@dataclass
class Logged:
    kind: str
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any
    authorization: str | None


class FakeSheets:
    """In-memory spreadsheets behind a ThreadingHTTPServer on 127.0.0.1 (an ephemeral port)."""

    def __init__(self) -> None:
        self.books: dict[str, FakeSpreadsheet] = {}
        self.counts: Counter[str] = Counter()
        self.log: list[Logged] = []
        self.tokens: dict[str, str] = {}  # access token -> service account email
        # The caller's Google Cloud project has the Sheets API switched off: every request
        # gets Google's 403 that says so (SERVICE_DISABLED), whatever the sheet's sharing.
        self.api_disabled_in_project: str | None = None
        self._failures: list[tuple[int, str | None]] = []
        self._hooks: dict[str, list[Callable[[], None]]] = {}
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    # lifecycle

    def start(self) -> FakeSheets:
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> FakeSheets:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def host(self) -> str:
        """For SHEETS_EMULATOR_HOST."""
        host, port = self._server.server_address[:2]
        return f"{host}:{port}"

    @property
    def token_uri(self) -> str:
        return f"http://{self.host}/token"

    # test controls

    def add_spreadsheet(
        self,
        key: str,
        title: str = "Untitled spreadsheet",
        sheets: dict[str, list[list[Any]]] | None = None,
        rows: int = 1000,
        cols: int = 26,
    ) -> FakeSpreadsheet:
        book = FakeSpreadsheet(key, title)
        for name, values in (sheets or {"Sheet1": []}).items():
            book.add_sheet(name, rows, cols).set_values(values)
        with self._lock:
            self.books[key] = book
        return book

    def fail_next(self, count: int, status: int = 429, retry_after: str | None = None) -> None:
        """Answer the next `count` API requests with `status` (429: quota, 5xx: backend)."""
        with self._lock:
            self._failures.extend([(status, retry_after)] * count)

    def before(self, kind: str, callback: Callable[[], None]) -> None:
        """Run `callback` once, just before the next request of `kind` is handled."""
        with self._lock:
            self._hooks.setdefault(kind, []).append(callback)

    def reset_counts(self) -> None:
        with self._lock:
            self.counts.clear()
            self.log.clear()

    # dispatch

    def handle(
        self, method: str, raw_path: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query, keep_blank_values=True)
        path = parts.path
        if path == "/token" and method == "POST":
            return 200, {}, self._token(body)
        match = re.match(r"^/v4/spreadsheets/([^/:]+)(.*)$", path)
        if match is None:
            return 404, {}, ApiError(404, "NOT_FOUND", f"No such endpoint: {path}").body()
        key, rest = unquote(match.group(1)), match.group(2)
        kind, target = _route(method, rest)
        authorization = headers.get("authorization")
        with self._lock:
            self.counts[kind] += 1
            self.log.append(Logged(kind, method, path, query, body, authorization))
            hooks = self._hooks.pop(kind, [])
        for hook in hooks:
            hook()  # it may change the cells, or call fail_next for this very request
        with self._lock:
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            status, retry_after = failure
            error = (
                ApiError(429, "RESOURCE_EXHAUSTED", QUOTA_MESSAGE)
                if status == 429
                else ApiError(status, "UNAVAILABLE", "The service is currently unavailable.")
            )
            extra = {"Retry-After": retry_after} if retry_after else {}
            return status, extra, error.body()
        if self.api_disabled_in_project is not None:
            return 403, {}, _service_disabled(self.api_disabled_in_project).body()
        try:
            with self._lock:
                book = self._book(key, authorization)
                return 200, {}, self._dispatch(kind, book, target, query, body)
        except ApiError as e:
            return e.code, {}, e.body()

    def _token(self, form: Any) -> dict[str, Any]:
        assertion = form.get("assertion", [""])[0] if isinstance(form, dict) else ""
        email = ""
        if assertion.count(".") == 2:
            payload = assertion.split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            email = str(claims.get("iss", ""))
        token = f"fake-token-{next(self._ids)}"
        with self._lock:
            self.counts["token"] += 1
            self.tokens[token] = email
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _book(self, key: str, authorization: str | None) -> FakeSpreadsheet:
        book = self.books.get(key)
        if book is None:
            raise ApiError(404, "NOT_FOUND", "Requested entity was not found.")
        if book.shared_with is not None:
            token = (authorization or "").removeprefix("Bearer ").strip()
            if self.tokens.get(token) not in book.shared_with:
                raise ApiError(403, "PERMISSION_DENIED", "The caller does not have permission")
        return book

    def _dispatch(
        self,
        kind: str,
        book: FakeSpreadsheet,
        target: str,
        query: dict[str, list[str]],
        body: Any,
    ) -> Any:
        def one(name: str, default: str) -> str:
            return query.get(name, [default])[0]

        render_options = (
            one("valueRenderOption", "FORMATTED_VALUE"),
            one("dateTimeRenderOption", "SERIAL_NUMBER"),
            one("majorDimension", "ROWS"),
        )
        if kind == "spreadsheets.get":
            if one("includeGridData", "false").lower() == "true":
                raise _bad("the fake does not serve includeGridData=true")
            fields = parse_fields(one("fields", "")) if "fields" in query else None
            resource = book.resource("data" in ((fields or {}).get("sheets") or {}))
            if fields is not None:
                resource = apply_fields(resource, fields)
            return resource
        if kind == "values.get":
            return self._read(book, target, *render_options)
        if kind == "values.batchGet":
            ranges = query.get("ranges", [])
            return {
                "spreadsheetId": book.key,
                "valueRanges": [self._read(book, r, *render_options) for r in ranges],
            }
        if kind == "values.update":
            option = _input_option(one("valueInputOption", ""))
            data = [{"range": target, **(body or {})}]
            return self._write(book, data, option, "data.values")["responses"][0]
        if kind == "values.batchUpdate":
            body = body or {}
            option = _input_option(body.get("valueInputOption"))
            data = body.get("data") or []
            return self._write(book, data, option, "data[0].values")
        if kind == "values.clear":
            area = resolve(book, target)
            clipped = self._clip(area)
            self._clear(clipped)
            return {"spreadsheetId": book.key, "clearedRange": clipped.a1()}
        if kind == "values.batchClear":
            cleared = []
            for text in (body or {}).get("ranges", []):
                clipped = self._clip(resolve(book, text))
                self._clear(clipped)
                cleared.append(clipped.a1())
            return {"spreadsheetId": book.key, "clearedRanges": cleared}
        if kind == "spreadsheets.batchUpdate":
            return self._batch_update(book, body or {})
        raise ApiError(404, "NOT_FOUND", f"the fake does not serve {kind}")

    # values

    @staticmethod
    def _clip(area: Area) -> Area:
        ws = area.sheet
        if area.r0 >= ws.rows or area.c0 >= ws.cols:
            raise _exceeds(ws, area.text)
        return Area(
            ws, area.r0, area.c0, min(area.r1, ws.rows - 1), min(area.c1, ws.cols - 1), area.text
        )

    @staticmethod
    def _clear(area: Area) -> None:
        ws = area.sheet
        ws.cells = {
            (r, c): v
            for (r, c), v in ws.cells.items()
            if not (area.r0 <= r <= area.r1 and area.c0 <= c <= area.c1)
        }

    def _read(
        self, book: FakeSpreadsheet, text: str, option: str, dates: str, major: str
    ) -> dict[str, Any]:
        area = self._clip(resolve(book, text))
        ws = area.sheet
        grid = [
            [ws.cells.get((r, c)) for c in range(area.c0, area.c1 + 1)]
            for r in range(area.r0, area.r1 + 1)
        ]
        if major == "COLUMNS":
            grid = [list(col) for col in zip(*grid, strict=True)] if grid else []
        values: list[list[Any]] = []
        for line in grid:
            while line and line[-1] is None:
                line.pop()
            values.append([render(v, option, dates) for v in line])
        while values and not values[-1]:
            values.pop()
        out: dict[str, Any] = {"range": area.a1(), "majorDimension": major}
        if values:
            out["values"] = values
        return out

    def _write(
        self, book: FakeSpreadsheet, data: list[dict[str, Any]], option: str, where: str
    ) -> dict[str, Any]:
        planned: list[tuple[Area, list[list[Any]]]] = []
        for item in data:  # check every range first: a batch is applied whole or not at all
            area = resolve(book, str(item.get("range", "")))
            values = _list_of_lists(item.get("values"), where)
            if item.get("majorDimension") == "COLUMNS":
                width = max((len(v) for v in values), default=0)
                values = [
                    [col[i] if i < len(col) else None for col in values] for i in range(width)
                ]
            height, width = len(values), max((len(v) for v in values), default=0)
            starts_only = ":" not in split_title(area.text)[1]  # "A1": values go on from there
            too_big = height > area.r1 - area.r0 + 1 or width > area.c1 - area.c0 + 1
            if too_big and not starts_only:
                raise _bad(
                    f"Requested writing within range [{area.text}], but tried writing "
                    f"{height} rows and {width} columns"
                )
            ws = area.sheet
            if height and width and (area.r0 + height > ws.rows or area.c0 + width > ws.cols):
                raise _exceeds(ws, area.text)
            for r, line in enumerate(values):
                for c, value in enumerate(line):
                    if value is not None and ws.locked(area.r0 + r, area.c0 + c):
                        # What Google answers a write into a range the caller may not edit.
                        raise _bad(
                            "You are trying to edit a protected cell or object. Please contact "
                            "the spreadsheet owner to remove protection if you need to edit."
                        )
            planned.append((area, values))
        responses = []
        rows: set[tuple[int, int]] = set()
        cols: set[tuple[int, int]] = set()
        for area, values in planned:
            ws = area.sheet
            updated = 0
            for r, line in enumerate(values):
                for c, value in enumerate(line):
                    if value is None:
                        continue  # null leaves the cell as it is
                    ws.put(area.r0 + r, area.c0 + c, parse_input(value, option))
                    rows.add((ws.sheet_id, area.r0 + r))
                    cols.add((ws.sheet_id, area.c0 + c))
                    updated += 1
            height, width = len(values), max((len(v) for v in values), default=0)
            written = Area(
                ws, area.r0, area.c0, area.r0 + max(height, 1) - 1, area.c0 + max(width, 1) - 1, ""
            )
            response: dict[str, Any] = {"spreadsheetId": book.key, "updatedRange": written.a1()}
            if updated:
                response |= {
                    "updatedRows": height,
                    "updatedColumns": width,
                    "updatedCells": updated,
                }
            responses.append(response)
        return {
            "spreadsheetId": book.key,
            "totalUpdatedRows": len(rows),
            "totalUpdatedColumns": len({c for _, c in cols}),
            "totalUpdatedCells": sum(r.get("updatedCells", 0) for r in responses),
            "totalUpdatedSheets": len({s for s, _ in rows}),
            "responses": responses,
        }

    # spreadsheets:batchUpdate

    def _batch_update(self, book: FakeSpreadsheet, body: dict[str, Any]) -> dict[str, Any]:
        # All requests apply, or none: keep the state to restore it in the same objects,
        # which tests hold on to.
        sheets = list(book.sheets)
        saved = [copy.deepcopy(ws.__dict__) for ws in sheets]
        replies = []
        try:
            for index, request in enumerate(body.get("requests", [])):
                if len(request) != 1:
                    raise _bad(f"Invalid requests[{index}]: give exactly one kind of request")
                ((name, args),) = request.items()
                try:
                    replies.append(self._one_update(book, name, args))
                except ApiError as e:
                    raise _bad(f"Invalid requests[{index}].{name}: {e.message}") from None
        except ApiError:
            book.sheets = sheets
            for ws, state in zip(sheets, saved, strict=True):
                ws.__dict__.update(state)
            raise
        return {"spreadsheetId": book.key, "replies": replies}

    def _one_update(self, book: FakeSpreadsheet, name: str, args: dict[str, Any]) -> dict[str, Any]:
        def by_id(sheet_id: int) -> FakeWorksheet:
            for ws in book.sheets:
                if ws.sheet_id == sheet_id:
                    return ws
            raise ApiError(400, "INVALID_ARGUMENT", f"No grid with id: {sheet_id}")

        if name == "addSheet":
            props = args.get("properties", {})
            grid = props.get("gridProperties", {})
            ws = book.add_sheet(
                props.get("title") or f"Sheet{len(book.sheets) + 1}",
                grid.get("rowCount", 1000),
                grid.get("columnCount", 26),
                props.get("sheetId"),
            )
            return {"addSheet": {"properties": ws.properties()}}
        if name == "deleteSheet":
            ws = by_id(args.get("sheetId", 0))
            if len(book.sheets) == 1:
                raise _bad("You can't remove all the sheets in a document.")
            book.sheets.remove(ws)
            for i, other in enumerate(sorted(book.sheets, key=lambda s: s.index)):
                other.index = i
            return {}
        if name == "updateSheetProperties":
            props = args.get("properties", {})
            ws = by_id(props.get("sheetId", 0))
            fields = [f.strip() for f in str(args.get("fields", "")).split(",") if f.strip()]
            grid = props.get("gridProperties", {})
            for f in fields:
                if f == "title":
                    ws.title = props["title"]
                elif f == "hidden":
                    ws.hidden = bool(props.get("hidden"))
                    if all(s.hidden for s in book.sheets):
                        raise _bad("You can't hide all the sheets in a document.")
                elif f == "gridProperties/rowCount":
                    ws.rows = int(grid["rowCount"])
                elif f == "gridProperties/columnCount":
                    ws.cols = int(grid["columnCount"])
                elif f == "index":
                    ws.index = int(props["index"])
                else:
                    raise _bad(f"the fake does not update field {f}")
            ws.cells = {k: v for k, v in ws.cells.items() if k[0] < ws.rows and k[1] < ws.cols}
            return {}
        if name == "appendDimension":
            ws = by_id(args.get("sheetId", 0))
            length = int(args.get("length", 0))
            if length <= 0:
                raise _bad("length must be greater than 0")
            if args.get("dimension") == "COLUMNS":
                ws.cols += length
            elif args.get("dimension") == "ROWS":
                ws.rows += length
            else:
                raise _bad("dimension must be ROWS or COLUMNS")
            return {}
        if name in ("insertDimension", "deleteDimension"):
            rng = args.get("range", {})
            ws = by_id(rng.get("sheetId", 0))
            start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", 0))
            axis = 0 if rng.get("dimension") == "ROWS" else 1
            if name == "insertDimension":
                ws._shift(axis, start, end - start)
            else:
                ws.cells = {k: v for k, v in ws.cells.items() if not start <= k[axis] < end}
                ws._shift(axis, end, start - end)
            delta = (end - start) * (1 if name == "insertDimension" else -1)
            if axis == 0:
                ws.rows += delta
            else:
                ws.cols += delta
            return {}
        if name == "updateCells":
            start = args.get("start") or {}
            rng = args.get("range") or {}
            ws = by_id(start.get("sheetId", rng.get("sheetId", 0)))
            r0 = int(start.get("rowIndex", rng.get("startRowIndex", 0)))
            c0 = int(start.get("columnIndex", rng.get("startColumnIndex", 0)))
            for r, row in enumerate(args.get("rows", [])):
                for c, cell in enumerate(row.get("values", [])):
                    entered = cell.get("userEnteredValue")
                    if entered is None:
                        continue
                    if r0 + r >= ws.rows or c0 + c >= ws.cols:
                        cell = f"{title_in_a1(ws.title)}!{col_letters(c0 + c)}{r0 + r + 1}"
                        raise _exceeds(ws, cell)
                    ws.put(r0 + r, c0 + c, _entered(entered))
            return {}
        if name in ("setDataValidation", "repeatCell", "updateBorders", "mergeCells"):
            if name == "mergeCells":
                rng = args["range"]
                by_id(rng.get("sheetId", 0)).merges.append(
                    {k: int(v) for k, v in rng.items() if k != "sheetId"}
                )
            return {}
        raise ApiError(
            400,
            "INVALID_ARGUMENT",
            f"Invalid JSON payload received. Unknown name \"{name}\" at 'requests[0]': "
            "Cannot find field.",
        )


def _entered(value: dict[str, Any]) -> Any:
    if "formulaValue" in value:
        return Formula(str(value["formulaValue"]))
    for name in ("stringValue", "numberValue", "boolValue"):
        if name in value:
            return value[name]
    return None


def _route(method: str, rest: str) -> tuple[str, str]:
    """The API method a request calls, and the (decoded) range in its path."""
    if rest == "" and method == "GET":
        return "spreadsheets.get", ""
    if rest == ":batchUpdate" and method == "POST":
        return "spreadsheets.batchUpdate", ""
    if rest == "/values:batchGet" and method == "GET":
        return "values.batchGet", ""
    if rest == "/values:batchUpdate" and method == "POST":
        return "values.batchUpdate", ""
    if rest == "/values:batchClear" and method == "POST":
        return "values.batchClear", ""
    if rest.startswith("/values/"):
        target = rest[len("/values/") :]
        for suffix, kind in ((":clear", "values.clear"), (":append", "values.append")):
            if target.endswith(suffix) and method == "POST":
                return kind, unquote(target[: -len(suffix)])
        if method == "GET":
            return "values.get", unquote(target)
        if method == "PUT":
            return "values.update", unquote(target)
    return f"unknown {method} {rest}", ""


def _handler(fake: FakeSheets) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body: Any = None
            if raw:
                content_type = self.headers.get("Content-Type", "")
                if "x-www-form-urlencoded" in content_type:
                    body = parse_qs(raw.decode())
                else:
                    try:
                        body = json.loads(raw)
                    except ValueError:
                        self._send(400, {}, _bad("Invalid JSON payload received.").body())
                        return
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra, payload = fake.handle(method, self.path, body, headers)
            self._send(status, extra, payload)

        def _send(self, status: int, extra: dict[str, str], payload: Any) -> None:
            data = json.dumps(payload, ensure_ascii=False, indent=2).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def do_PUT(self) -> None:
            self._serve("PUT")

        def log_message(self, format: str, *args: Any) -> None:
            pass  # the fake's log is `FakeSheets.log`

    return Handler


def iter_cells(ws: FakeWorksheet) -> Iterator[tuple[str, Any]]:
    """("B3", value) for every non-blank cell, row by row: for readable assertions."""
    for (r, c), value in sorted(ws.cells.items()):
        yield f"{col_letters(c)}{r + 1}", value
