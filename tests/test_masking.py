"""No credential value reaches the terminal, the ledger, the state folder or the sheet, even when
a server (a proxy, a misconfigured endpoint) echoes the request in its error answers."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import threading
import zlib
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import openpyxl
import pytest
from sample import MESSAGED
from typer.testing import CliRunner

from bulk.cli import app
from bulk.infra.masking import MASK, mask, remember_secret
from bulk.sandbox import start_sandbox
from bulk.targets import SANDBOX_CREDENTIALS

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()

# Shaped like real Login with Amazon credentials.
CLIENT_SECRET = "amzn1.oa2-cs.v1.0123456789abcdef0123456789abcdef"
REFRESH_TOKEN = "Atzr|IwEBIJ-not-a-real-refresh-token-0123456789"


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("refresh_token=Atzr%7Cabc&client_secret=s3cr3t-value", ["Atzr%7Cabc", "s3cr3t-value"]),
        ('{"access_token": "Atza|IwEBIA-token", "x": 1}', ["Atza|IwEBIA-token", "IwEBIA"]),
        ("x-amz-access-token: Atza|abc.def-ghi", ["Atza|abc.def-ghi", "abc.def"]),
        ("'client_secret': 'amzn1.oa2-cs.v1.deadbeef'", ["deadbeef"]),
        ("Authorization: Bearer eyJhbGciOi.payload", ["eyJhbGciOi"]),
        ("the token Atzr|xyz was refused", ["Atzr|xyz"]),
        # Each field name alone, in any case, with a value of no known shape.
        ("X-Amz-Access-Token: zzzz1234", ["zzzz1234"]),
        ("REFRESH_TOKEN = plain-value-1", ["plain-value-1"]),
        ("Client_Secret=qwerty99", ["qwerty99"]),
        ('{"Access_Token":"tok-777"}', ["tok-777"]),
        ("AUTHORIZATION: Basic dXNlcjpwYXNz", ["dXNlcjpwYXNz"]),
    ],
)
def test_mask_hides_credential_shapes(text: str, hidden: list[str]) -> None:
    masked = mask(text)
    assert MASK in masked
    for value in hidden:
        assert value not in masked


@pytest.mark.parametrize(
    "text",
    [
        # Echoed without its field name, percent-encoded as in a URL or a form.
        "the proxy logged POST /auth/o2/token?x=Atzr%7CIwEBIJ-echoed-0123 and gave up",
        "redirected to https://example.com/cb#Atza%7cIwEBIA-echoed-456",
    ],
)
def test_mask_hides_url_encoded_tokens_without_their_field(text: str) -> None:
    masked = mask(text)
    assert MASK in masked and "IwEB" not in masked


def test_mask_hides_remembered_values_in_their_url_encoded_forms() -> None:
    remember_secret("pa ss/w+rd|long-secret")
    for form in ("pa%20ss%2Fw%2Brd%7Clong-secret", "pa+ss%2Fw%2Brd%7Clong-secret"):
        assert mask(f"echo: {form} end") == f"echo: {MASK} end"


def test_mask_hides_remembered_values_and_keeps_other_words() -> None:
    remember_secret("hunter2-long-secret")
    assert mask("the server said: hunter2-long-secret is wrong") == (
        f"the server said: {MASK} is wrong"
    )
    plain = "order 112-0000001-0000001: Amazon error 8560 (order is Unshipped)"
    assert mask(plain) == plain


class _EchoProxy:
    """Forwards to the sandbox, except operations told to fail: those answer with an error body
    that quotes the whole request (headers and body), as a careless proxy would."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.echo: dict[str, int] = {}  # path regex -> status of the echoing answer
        self.echoed = 0
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                proxy.answer(self)

            def do_POST(self) -> None:
                proxy.answer(self)

            def do_PUT(self) -> None:
                proxy.answer(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, h: BaseHTTPRequestHandler) -> None:
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0))
        path = h.path.split("?")[0]
        headers = dict(h.headers.items())
        for pattern, status in self.echo.items():
            if re.search(pattern, path):
                self.echoed += 1
                said = f"{h.command} {h.path} headers={headers} body={body.decode('latin-1')}"
                if path.endswith("/auth/o2/token"):
                    reply: dict[str, Any] = {"error": "invalid_client", "error_description": said}
                else:
                    reply = {"errors": [{"code": "InvalidInput", "message": said}]}
                self._send(h, status, json.dumps(reply).encode(), "application/json")
                return
        if path.endswith("/auth/o2/token"):
            # The real-looking credentials reach the proxy; the sandbox knows only its own.
            form = {k: v[-1] for k, v in parse_qs(body.decode()).items()}
            form.update(
                client_id=SANDBOX_CREDENTIALS["lwa_app_id"],
                client_secret=SANDBOX_CREDENTIALS["lwa_client_secret"],
                refresh_token=SANDBOX_CREDENTIALS["refresh_token"],
            )
            body = urlencode(form).encode()
        keep = {k: v for k, v in headers.items() if k.lower() not in ("host", "content-length")}
        res = httpx.request(h.command, self.upstream + h.path, headers=keep, content=body)
        self._send(h, res.status_code, res.content, res.headers.get("content-type", ""))

    @staticmethod
    def _send(h: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def proxied(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[_EchoProxy]:
    shutil.copytree(ROOT / "samples", tmp_path / "samples")
    shutil.copytree(ROOT / "templates", tmp_path / "templates")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("BULK_HOME", raising=False)
    (tmp_path / "bulk.toml").write_text(
        '[amazon]\ntarget = "production"\nseller_id = "A1SANDBOXSELLER"\n', encoding="utf-8"
    )
    # Production polls in real time: feeds and reports are ready at the first look.
    book = json.loads((tmp_path / "samples" / "marketplace.json").read_text(encoding="utf-8"))
    book.update(report_polls=0, feed_polls=0)
    (tmp_path / "quick.json").write_text(json.dumps(book), encoding="utf-8")
    with start_sandbox(tmp_path / "quick.json", tmp_path / "upstream-state") as sb:
        proxy = _EchoProxy(sb.url)
        monkeypatch.setenv("BULK_SP_API_ENDPOINT", proxy.url)
        monkeypatch.setenv("BULK_LWA_ENDPOINT", proxy.url)
        monkeypatch.setenv("LWA_APP_ID", "amzn1.application-oa2-client.0123456789abcdef")
        monkeypatch.setenv("LWA_CLIENT_SECRET", CLIENT_SECRET)
        monkeypatch.setenv("SP_API_REFRESH_TOKEN", REFRESH_TOKEN)
        try:
            yield proxy
        finally:
            proxy.close()


def _everything_written(workdir: Path, outputs: list[str]) -> list[str]:
    written = list(outputs)
    for p in (workdir / ".bulk").rglob("*"):
        if p.is_file():
            written.append(p.read_bytes().decode("latin-1"))
    ledger = workdir / ".bulk" / "ledger.sqlite"
    if ledger.exists():
        db = sqlite3.connect(ledger)
        for table in ("submissions", "submission_rows", "messages"):
            for r in db.execute(f"SELECT * FROM {table}"):
                # Feed documents are kept deflated: what counts is what they hold.
                values = [zlib.decompress(v).decode() if isinstance(v, bytes) else v for v in r]
                written.append(json.dumps(values))
        db.close()
    ws = openpyxl.load_workbook(workdir / "samples" / "orders.xlsx")["Orders"]
    written.extend(str(c.value) for row in ws.iter_rows() for c in row if c.value)
    return written


def _no_credentials(texts: list[str]) -> None:
    access = re.compile(r"Atza\|[\w.\-]+")
    for text in texts:
        assert CLIENT_SECRET not in text
        assert REFRESH_TOKEN not in text
        assert "Atzr%7C" not in text  # the refresh token as a form field
        assert not access.search(text), access.search(text)


def test_a_login_answer_that_echoes_the_request_is_masked(
    proxied: _EchoProxy, tmp_path: Path
) -> None:
    proxied.echo[r"/auth/o2/token$"] = 401
    result = runner.invoke(app, ["check", "samples/orders.xlsx"])
    assert result.exit_code == 2, result.output
    assert proxied.echoed >= 1
    assert "client_secret" in result.output and MASK in result.output, result.output
    _no_credentials(_everything_written(tmp_path, [result.output]))


def test_api_answers_that_echo_the_request_are_masked_in_output_ledger_and_sheet(
    proxied: _EchoProxy, tmp_path: Path
) -> None:
    # The buyer message is refused (stored as "failed" in the ledger and the sheet) and the
    # message actions call quotes the access token header.
    proxied.echo[r"/messages/unexpectedProblem$"] = 400
    result = runner.invoke(app, ["submit", "samples/orders.xlsx", "--yes", "-v"])
    assert result.exit_code == 1, result.output
    assert proxied.echoed >= len(MESSAGED)  # each buyer message attempted was echoed
    ws = openpyxl.load_workbook(tmp_path / "samples" / "orders.xlsx")["Orders"]
    header = [c.value for c in ws[1]]
    statuses = [
        str(r[header.index("Message Status")] or "") for r in ws.iter_rows(values_only=True)
    ]
    failed = [s for s in statuses if s.startswith("failed:")]
    assert failed and all("x-amz-access-token" in s and MASK in s for s in failed), statuses
    db = sqlite3.connect(tmp_path / ".bulk" / "ledger.sqlite")
    details = [d for (d,) in db.execute("SELECT detail FROM messages WHERE state = 'failed'")]
    db.close()
    assert details and all(MASK in d for d in details), details

    proxied.echo[r"/orders/2026-01-01/orders/"] = 400
    refused = runner.invoke(app, ["check", "samples/orders.xlsx"])
    assert refused.exit_code == 2, refused.output
    assert "x-amz-access-token" in refused.output and MASK in refused.output
    _no_credentials(_everything_written(tmp_path, [result.output, refused.output]))
