"""Google Sheets backend (gspread): read a worksheet in one request, write results by Order ID."""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import requests
from google.auth.credentials import AnonymousCredentials, Credentials
from google.auth.exceptions import GoogleAuthError, RefreshError, TransportError
from gspread.exceptions import APIError
from gspread.http_client import FileType, HTTPClient, ParamsType
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from bulk.columns import current_header
from bulk.errors import BulkError, ConfigError, SheetError
from bulk.grid import BLANK, Cell, CellKind, Grid, Header, SheetRow
from bulk.sheets.base import RowUpdate, WriteReport, column_index, column_letter, parse_target
from bulk.sheets.plan import last_used_row, plan_write, used_width

# Read and write cells; Drive is never called (bulk opens sheets by key, never by title).
SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
SHEETS_HOST = "https://sheets.googleapis.com"
EMULATOR_VARIABLE = "SHEETS_EMULATOR_HOST"  # the *_EMULATOR_HOST convention of Google's clients

# Quota is 60 reads and 60 writes per minute per user (Sheets API "Usage limits"): five tries
# with exponential backoff and full jitter wait up to 2+4+8+16 s; then the user is told to wait.
ATTEMPTS = 5
MAX_WAIT_SECONDS = 60.0
TIMEOUT = (10.0, 120.0)  # connect, read: gspread's default is to wait forever
_backoff = wait_random_exponential(multiplier=2, max=30)
# tenacity sleeps through this name, looked up on each wait, so tests replace it.
_sleep: Callable[[float], None] = time.sleep

# Values are read unformatted so numbers and TRUE/FALSE keep their type (CellKind.NUMBER,
# CellKind.BOOL) while dates come back as the text the sheet shows. Formulas arrive as their
# computed values: telling them apart would take a second request (valueRenderOption=FORMULA).
_READ_PARAMS: dict[str, str] = {
    "valueRenderOption": "UNFORMATTED_VALUE",
    "dateTimeRenderOption": "FORMATTED_STRING",
    "majorDimension": "ROWS",
}
# What open needs from the spreadsheet resource; the rest (formats, themes...) is left out.
_METADATA_PARAMS: dict[str, str] = {
    "includeGridData": "false",
    "fields": (
        "properties(title,locale),"
        "sheets(properties,merges,protectedRanges(range,warningOnly,requestingUserCanEdit),"
        "data(startRow,rowMetadata(hiddenByUser,hiddenByFilter)))"
    ),
}
# Error values a formula can produce; the API returns them as these strings.
_ERROR_VALUES = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#ERROR!", "#SPILL!"}
)

_A1_RE = re.compile(r"^([A-Z]*)(\d*)(?::([A-Z]*)(\d*))?$")

T = TypeVar("T")


def quote_title(title: str) -> str:
    """A worksheet title as A1 notation wants it: in single quotes, quotes doubled."""
    return "'" + title.replace("'", "''") + "'"


@dataclass(frozen=True)
class _Bounds:
    """A range the API answered with, 0-based and inclusive (end is None when open-ended)."""

    first_row: int
    first_col: int
    last_row: int | None
    last_col: int | None


def parse_range(a1: str) -> _Bounds:
    """`'My Sheet'!A5:Z5` / `Sheet1!A1:D4` -> bounds. The API clips whole rows and columns to
    the grid, so the end of a whole-row range is the grid's last column."""
    cells = a1.rpartition("!")[2]
    match = _A1_RE.match(cells)
    if match is None or not cells:
        raise SheetError(f"Google Sheets answered with a range bulk cannot read: {a1}")
    c1, r1, c2, r2 = match.groups()
    if match.group(0).count(":") == 0:
        c2, r2 = c1, r1
    return _Bounds(
        first_row=int(r1) - 1 if r1 else 0,
        first_col=column_index(c1) if c1 else 0,
        last_row=int(r2) - 1 if r2 else None,
        last_col=column_index(c2) if c2 else None,
    )


def to_cell(value: Any) -> Cell:
    """A value from an UNFORMATTED_VALUE response as a Cell."""
    if value is None or value == "":
        return BLANK
    if isinstance(value, bool):
        return Cell("TRUE" if value else "FALSE", CellKind.BOOL)
    if isinstance(value, int | float):
        text = str(int(value)) if float(value).is_integer() else repr(value)
        return Cell(text, CellKind.NUMBER)
    text = str(value)
    if text in _ERROR_VALUES:
        return Cell(text, CellKind.ERROR)
    return Cell(text, CellKind.TEXT)


def _retry_on(method: str, endpoint: str) -> Callable[[BaseException], bool]:
    """429 is always retried: Google refused the request before doing anything. A 5xx is
    retried only where doing the request twice does no harm: reads and value writes, but
    not spreadsheets:batchUpdate (a second appendDimension would add more columns)."""
    structural = endpoint.endswith(":batchUpdate") and "/values:" not in endpoint
    repeatable = method.upper() in ("GET", "PUT") or not structural

    def retry(error: BaseException) -> bool:
        if not isinstance(error, APIError):
            return False
        status = _status(error)
        return status == 429 or (repeatable and 500 <= status < 600)

    return retry


def _status(error: APIError) -> int:
    return int(error.response.status_code)


def _wait(state: RetryCallState) -> float:
    """Exponential backoff with full jitter, or longer when Google says how long (Retry-After)."""
    delay = float(_backoff(state))
    error = state.outcome.exception() if state.outcome is not None else None
    if isinstance(error, APIError):
        with contextlib.suppress(ValueError):  # absent, or an HTTP date: keep the backoff
            delay = max(delay, float(error.response.headers.get("Retry-After", "")))
    return min(delay, MAX_WAIT_SECONDS)


class SheetsHTTPClient(HTTPClient):
    """gspread's HTTP client with bounded retries, a timeout, and an optional emulator host.

    gspread builds every URL from `gspread.urls` at import time, so an emulator host is
    applied here, per request, by rewriting the scheme and host.
    """

    emulator: str | None = None  # "host:port" of a local Sheets API (SHEETS_EMULATOR_HOST)

    def request(
        self,
        method: str,
        endpoint: str,
        params: ParamsType | None = None,
        data: bytes | None = None,
        json: Mapping[str, Any] | None = None,
        files: FileType = None,
        headers: MutableMapping[str, str] | None = None,
    ) -> requests.Response:
        if self.emulator and endpoint.startswith(SHEETS_HOST):
            endpoint = f"http://{self.emulator}{endpoint[len(SHEETS_HOST) :]}"
        send = super().request
        retrying = Retrying(
            stop=stop_after_attempt(ATTEMPTS),
            wait=_wait,
            retry=retry_if_exception(_retry_on(method, endpoint)),
            sleep=lambda seconds: _sleep(seconds),
            reraise=True,
        )
        return retrying(
            send,
            method,
            endpoint,
            params=params,
            data=data,
            json=json,
            files=files,
            headers=headers,
        )


@dataclass(frozen=True)
class _Account:
    """Who the requests run as, for messages about sharing."""

    email: str | None  # a service account's client_email
    source: str  # where the credentials came from


class GoogleSheet:
    """One worksheet of a Google spreadsheet, reached through the Sheets API v4."""

    def __init__(
        self,
        client: HTTPClient,
        key: str,
        metadata: Mapping[str, Any],
        properties: Mapping[str, Any],
        account: _Account,
    ) -> None:
        self.client = client
        self.key = key
        self.title = str(metadata.get("properties", {}).get("title", key))
        # The spreadsheet's locale (File > Settings) tells how its people write a date.
        self.locale = str(metadata.get("properties", {}).get("locale", ""))
        self.worksheet = str(properties["title"])
        self.sheet_id = int(properties.get("sheetId", 0))
        self.account = account
        self._grid_columns = int(properties.get("gridProperties", {}).get("columnCount", 0))
        self._grid_rows = int(properties.get("gridProperties", {}).get("rowCount", 0))
        self._merged = _merged_cells(metadata, self.sheet_id)
        self._hidden = _hidden_rows(metadata, self.sheet_id)
        self._protected = _protected_ranges(metadata, self.sheet_id)

    @property
    def label(self) -> str:
        return f"{self.title} / {self.worksheet}"

    def _range(self, cells: str = "") -> str:
        return quote_title(self.worksheet) + (f"!{cells}" if cells else "")

    def read(self) -> Grid:
        payload = self._call(
            lambda: self.client.values_get(self.key, self._range(), params=dict(_READ_PARAMS))
        )
        return self._grid(payload)

    def _grid(self, payload: Mapping[str, Any]) -> Grid:
        bounds = parse_range(str(payload.get("range", self._range("A1"))))
        if bounds.last_col is not None:
            self._grid_columns = bounds.last_col + 1
        if bounds.last_row is not None:
            self._grid_rows = max(self._grid_rows, bounds.last_row + 1)
        values: list[list[Any]] = payload.get("values", [])
        # The API leaves out trailing blank cells of each row and trailing blank rows, so rows
        # are padded to one width, wide enough for merged ranges too.
        width = max(
            [bounds.first_col + len(r) for r in values] + [c + 1 for _, c in self._merged],
            default=0,
        )
        height = max([len(values)] + [r + 1 - bounds.first_row for r, _ in self._merged])
        rows: list[SheetRow] = []
        for offset in range(height):
            number = bounds.first_row + offset + 1
            raw = values[offset] if offset < len(values) else []
            cells = [BLANK] * bounds.first_col + [to_cell(v) for v in raw]
            cells += [BLANK] * (width - len(cells))
            merged = False
            for col in range(width):
                top_left = self._merged.get((number - 1, col))
                if top_left is not None:
                    cells[col] = Cell(merged_into=top_left)
                    merged = True
            row = SheetRow(number, tuple(cells), number in self._hidden)
            if not row.blank or merged:
                rows.append(row)
        return Grid(self.worksheet, tuple(rows), locale=self.locale, protected=self._protected)

    def write(
        self,
        updates: Sequence[RowUpdate],
        header: Header | None = None,
        appends: Sequence[Mapping[str, str]] = (),
    ) -> WriteReport:
        if not updates and not appends:
            return WriteReport()
        # The sheet as it is now, in one request: results are placed by Order ID, and free
        # columns are measured over every row from the header down.
        payload = self._call(
            lambda: self.client.values_batch_get(
                self.key, [self._range()], params=dict(_READ_PARAMS)
            )
        )
        grid = self._grid(payload["valueRanges"][0])
        header = current_header(grid, header)
        id_col = header.columns["Order ID"]
        ids = {r.number: r.cell(id_col).text for r in grid.rows if r.number > header.row}
        merged = {(r + 1, c): top_left for (r, c), top_left in self._merged.items()}
        plan = plan_write(
            header,
            ids,
            used_width(grid.rows, header.row),
            updates,
            merged,
            appends=appends,
            last_row=last_used_row(grid.rows, header),
        )
        if plan.empty:
            return plan.report()
        by_row: dict[int, dict[int, str]] = {}
        for (number, col), value in plan.cells.items():
            by_row.setdefault(number, {})[col] = value
        data = [self._row_range(number, row) for number, row in sorted(by_row.items())]
        needed = max(col for _, col in plan.cells) + 1 - self._grid_columns
        more_rows = max(plan.rows) - self._grid_rows
        # Relative: a sheet someone widened or lengthened meanwhile only grows (add_cols()
        # sends an absolute size from a cached count and could shrink it). Writing past the
        # grid fails.
        grow = [
            {"appendDimension": {"sheetId": self.sheet_id, "dimension": axis, "length": n}}
            for axis, n in (("COLUMNS", needed), ("ROWS", more_rows))
            if n > 0
        ]
        if grow:
            body = {"requests": grow}
            self._call(lambda: self.client.batch_update(self.key, body))
            self._grid_columns += max(needed, 0)
            self._grid_rows += max(more_rows, 0)
        # RAW: Google stores every value as the text given and never runs it as a formula;
        # as_text still escapes formula-like text for whoever downloads the sheet as CSV.
        self._call(
            lambda: self.client.values_batch_update(
                self.key, body={"valueInputOption": "RAW", "data": data}
            )
        )
        return plan.report()

    def _row_range(self, number: int, row: Mapping[int, str]) -> dict[str, Any]:
        """One range per row from its first to its last cell; None leaves a cell as it is."""
        first, last = min(row), max(row)
        span = f"{column_letter(first)}{number}"
        if last != first:
            span += f":{column_letter(last)}{number}"
        return {
            "range": self._range(span),
            "values": [[row.get(c) for c in range(first, last + 1)]],
        }

    def _call(self, request: Callable[[], T]) -> T:
        return _guarded(request, self.key, self.account, self.label)


def _guarded(request: Callable[[], T], key: str, account: _Account, label: str) -> T:
    """Run one API call; every gspread, google-auth and requests failure becomes a BulkError."""
    try:
        return request()
    except APIError as e:
        raise _api_error(e, key, account, label) from e
    except PermissionError as e:  # gspread's own translation of a 403
        raise SheetError(_no_access_message(key, account)) from e
    except RefreshError as e:
        raise ConfigError(
            f"Google refused the credentials from {account.source} ({_first_line(e)}); "
            "check the key file, or create a new key for the service account"
        ) from e
    except (TransportError, requests.RequestException) as e:
        raise SheetError(
            f"cannot reach Google Sheets ({type(e).__name__}); check the network and run again"
        ) from e


def _api_error(error: APIError, key: str, account: _Account, label: str) -> BulkError:
    status = _status(error)
    message = str(error.error.get("message", "")).strip() or str(error.response.reason)
    if status == 403:
        project = _api_disabled(error.error, message)
        if project is not None:
            where = f" in Google Cloud project {project}" if project else ""
            return ConfigError(
                f"the Google Sheets API is not enabled{where} (the project of the credentials "
                f"from {account.source}); enable it at "
                f"https://console.cloud.google.com/apis/library/sheets.googleapis.com"
                f"{f'?project={project}' if project else ''}, wait a few minutes, and run again"
            )
        return SheetError(_no_access_message(key, account))
    if status == 404:
        return SheetError(
            f"Google Sheet {key} not found; check the URL (copy it from the browser's address "
            "bar) and that the sheet was not deleted"
        )
    if status == 401:
        return ConfigError(
            f"Google rejected the credentials from {account.source} ({message}); "
            "sign in again or use a new service-account key"
        )
    if status == 429:
        return SheetError(
            f"Google Sheets quota exhausted (429) after {ATTEMPTS} tries; wait a minute "
            "and run again"
        )
    if status >= 500:
        return SheetError(f"Google Sheets failed ({status}: {message}); run again in a few minutes")
    return SheetError(f"Google Sheets refused a request for {label} ({status}: {message})")


def _api_disabled(error: Mapping[str, Any], message: str) -> str | None:
    """A 403 that says the Sheets API is off in the caller's project (not a sharing problem):
    the project's number ("" when Google does not name it), else None. Google marks it with the
    reason SERVICE_DISABLED (v2 error details) or accessNotConfigured (v1 errors)."""
    reasons = {
        str(d.get("reason", ""))
        for d in [*error.get("details", []), *error.get("errors", [])]
        if isinstance(d, Mapping)
    }
    if not reasons & {"SERVICE_DISABLED", "accessNotConfigured"} and (
        "has not been used in project" not in message
    ):
        return None
    found = re.search(r"project[= ](\d+)", message)
    return found.group(1) if found else ""


def _no_access_message(key: str, account: _Account) -> str:
    if account.email:
        return (
            f"the service account has no access to Google Sheet {key}; share the sheet with "
            f"{account.email} (as Editor) and run again"
        )
    return (
        f"no access to Google Sheet {key} with the credentials from {account.source}; ask the "
        "sheet's owner to share it with that account (as Editor)"
    )


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _hidden_rows(metadata: Mapping[str, Any], sheet_id: int) -> frozenset[int]:
    """1-based numbers of the rows hidden by hand or by the sheet's filter (GridData's
    rowMetadata: DimensionProperties.hiddenByUser, hiddenByFilter)."""
    hidden: set[int] = set()
    for sheet in metadata.get("sheets", []):
        if sheet.get("properties", {}).get("sheetId") != sheet_id:
            continue
        for data in sheet.get("data", []):
            start = int(data.get("startRow", 0))
            for offset, meta in enumerate(data.get("rowMetadata", [])):
                if meta.get("hiddenByUser") or meta.get("hiddenByFilter"):
                    hidden.add(start + offset + 1)
    return frozenset(hidden)


def _protected_ranges(
    metadata: Mapping[str, Any], sheet_id: int
) -> tuple[tuple[int, int, int, int], ...]:
    """The ranges of the worksheet this account may not edit (ProtectedRange.range where
    requestingUserCanEdit is false; a warning-only range can be edited), as (first row, last
    row, first column, last column): rows 1-based, columns 0-based, inclusive. A GridRange
    leaves out an index that is unbounded."""
    found: list[tuple[int, int, int, int]] = []
    for sheet in metadata.get("sheets", []):
        if sheet.get("properties", {}).get("sheetId") != sheet_id:
            continue
        for guarded in sheet.get("protectedRanges", []):
            if guarded.get("requestingUserCanEdit") or guarded.get("warningOnly"):
                continue
            box = guarded.get("range", {})
            found.append(
                (
                    int(box.get("startRowIndex", 0)) + 1,
                    int(box.get("endRowIndex", 10**9)),
                    int(box.get("startColumnIndex", 0)),
                    int(box.get("endColumnIndex", 10**9)) - 1,
                )
            )
    return tuple(found)


def _merged_cells(metadata: Mapping[str, Any], sheet_id: int) -> dict[tuple[int, int], str]:
    """(row, col) 0-based of every cell a merge covers, except its top-left -> "D4"."""
    covered: dict[tuple[int, int], str] = {}
    for sheet in metadata.get("sheets", []):
        if sheet.get("properties", {}).get("sheetId") != sheet_id:
            continue
        for merge in sheet.get("merges", []):
            r0, r1 = merge.get("startRowIndex", 0), merge.get("endRowIndex", 0)
            c0, c1 = merge.get("startColumnIndex", 0), merge.get("endColumnIndex", 0)
            top_left = f"{column_letter(c0)}{r0 + 1}"
            for r in range(r0, r1):
                for c in range(c0, c1):
                    if (r, c) != (r0, c0):
                        covered[(r, c)] = top_left
    return covered


def _pick_worksheet(
    metadata: Mapping[str, Any], key: str, gid: int | None, title: str | None
) -> Mapping[str, Any]:
    """By --worksheet title (it is explicit), else by the URL's gid, else the first visible grid."""
    sheets: list[Mapping[str, Any]] = [s.get("properties", {}) for s in metadata.get("sheets", [])]
    names = ", ".join(f"'{p.get('title')}'" for p in sheets)
    spreadsheet = metadata.get("properties", {}).get("title", key)
    if title is not None:
        for props in sheets:
            if props.get("title") == title:
                return props
        raise SheetError(
            f"Google Sheet '{spreadsheet}' has no worksheet '{title}'; it has: {names}"
        )
    if gid is not None:
        for props in sheets:
            if props.get("sheetId") == gid:
                return props
        raise SheetError(
            f"Google Sheet '{spreadsheet}' has no worksheet with gid {gid}; open the tab in the "
            f"browser and copy the URL again, or pass --worksheet (it has: {names})"
        )
    grids = [p for p in sheets if p.get("sheetType", "GRID") == "GRID"]
    for props in sorted(grids, key=lambda p: (bool(p.get("hidden")), p.get("index", 0))):
        return props
    raise SheetError(f"Google Sheet '{spreadsheet}' has no worksheet with cells")


def _service_account_file(path: str, source: str) -> tuple[Credentials, _Account]:
    """A service account's JSON key file (IAM > Service accounts > Keys > Add key > JSON)."""
    from google.oauth2.service_account import Credentials as ServiceAccountCredentials

    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(
            f"{source} points to {file}, which does not exist; set it to the service account's "
            "JSON key file"
        )
    try:
        info = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"{file} ({source}) is not a readable JSON key file: {e}") from e
    kind = info.get("type") if isinstance(info, dict) else None
    if kind != "service_account":
        raise ConfigError(
            f"{file} ({source}) is not a service account's key file (its type is {kind!r}); "
            "download a JSON key of a service account from the Google Cloud console"
        )
    try:
        load = ServiceAccountCredentials.from_service_account_info
        credentials = load(info, scopes=SCOPES)  # type: ignore[no-untyped-call]
    except (GoogleAuthError, ValueError, KeyError) as e:
        raise ConfigError(
            f"{file} ({source}) is not a usable service-account key ({_first_line(e)}); "
            "download a new JSON key from the Google Cloud console"
        ) from e
    return credentials, _Account(str(info.get("client_email") or "") or None, str(file))


def _oauth_client(config_dir: Path) -> SheetsHTTPClient:
    """A person's own Google account through gspread's OAuth flow (a browser opens once)."""
    import gspread

    client_file = config_dir / "credentials.json"
    user_file = config_dir / "authorized_user.json"
    try:
        client = gspread.oauth(
            scopes=list(SCOPES),
            credentials_filename=client_file,
            authorized_user_filename=user_file,
            http_client=SheetsHTTPClient,
        )
    except (OSError, ValueError, GoogleAuthError) as e:
        raise ConfigError(
            f"signing in to Google with {client_file} failed ({_first_line(e)}); delete "
            f"{user_file} and run again, or set GOOGLE_APPLICATION_CREDENTIALS"
        ) from e
    http = client.http_client
    if not isinstance(http, SheetsHTTPClient):  # gspread builds it from the class passed in
        raise ConfigError("gspread did not use bulk's HTTP client; check the gspread version")
    return http


def _connect(
    credentials: str | None, source: str = "the credentials argument"
) -> tuple[SheetsHTTPClient, _Account]:
    """Credentials, in order: the argument, GOOGLE_APPLICATION_CREDENTIALS, gspread's OAuth files.

    With SHEETS_EMULATOR_HOST set, requests go to that host over plain HTTP, anonymously
    unless a key file is passed as the argument.
    """
    emulator = os.environ.get(EMULATOR_VARIABLE, "").strip()
    emulator = re.sub(r"^https?://", "", emulator).rstrip("/")
    if emulator:
        if credentials:
            creds, account = _service_account_file(credentials, source)
        else:
            creds = AnonymousCredentials()  # type: ignore[no-untyped-call]
            account = _Account(None, f"{EMULATOR_VARIABLE}={emulator}")
        client = SheetsHTTPClient(creds)
        client.emulator = emulator
        client.session.trust_env = False  # a local emulator is never behind a proxy
    elif credentials:
        creds, account = _service_account_file(credentials, source)
        client = SheetsHTTPClient(creds)
    elif os.environ.get("GOOGLE_APPLICATION_CREDENTIALS", "").strip():
        path = os.environ["GOOGLE_APPLICATION_CREDENTIALS"].strip()
        creds, account = _service_account_file(path, "GOOGLE_APPLICATION_CREDENTIALS")
        client = SheetsHTTPClient(creds)
    else:
        from gspread.auth import get_config_dir

        config_dir = get_config_dir()
        oauth_files = (config_dir / "credentials.json", config_dir / "authorized_user.json")
        if not any(f.is_file() for f in oauth_files):
            raise ConfigError(
                "no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service account's "
                "JSON key file (and share the sheet with its client_email), or save an OAuth "
                f"client file as {oauth_files[0]} to sign in with your own Google account"
            )
        client = _oauth_client(config_dir)
        account = _Account(None, "your Google sign-in")
    client.set_timeout(TIMEOUT)
    return client, account


def open_google_sheet(
    target: str,
    worksheet: str | None,
    credentials: str | None = None,
    source: str = "the credentials argument",
) -> GoogleSheet:
    """Open one worksheet of a Google spreadsheet: one metadata request."""
    key, gid = parse_target(target)
    client, account = _connect(credentials, source)
    metadata: Mapping[str, Any] = _guarded(
        lambda: client.fetch_sheet_metadata(key, params=dict(_METADATA_PARAMS)), key, account, key
    )
    properties = _pick_worksheet(metadata, key, gid, worksheet)
    return GoogleSheet(client, key, metadata, properties, account)
