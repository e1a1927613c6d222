"""One line, never a crash: a login server that answers HTML, an endless timeout, a bulk.toml
saved with a BOM, an empty marketplace list."""

from __future__ import annotations

import math
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sample import as_a_new_user
from typer.testing import CliRunner

from bulk.cli import app
from bulk.config import find_config, load_from, parse_config
from bulk.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    shutil.copy(ROOT / "samples" / "orders.xlsx", tmp_path / "orders.xlsx")
    as_a_new_user(monkeypatch, tmp_path)
    yield tmp_path


def bulk(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


class _HtmlPage:
    """A server that answers every request with a gateway's HTML page (status 200)."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                page = b"<html><body>Sign in to the corporate proxy</body></html>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            do_GET = do_POST

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_a_login_answer_that_is_not_json_is_one_line(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (work / "bulk.toml").write_text(
        '[amazon]\ntarget = "production"\nseller_id = "A1SELLER"\n', encoding="utf-8"
    )
    page = _HtmlPage()
    try:
        monkeypatch.setenv("BULK_SP_API_ENDPOINT", page.url)
        monkeypatch.setenv("BULK_LWA_ENDPOINT", page.url)
        monkeypatch.setenv("LWA_APP_ID", "amzn1.application-oa2-client.0123456789abcdef")
        monkeypatch.setenv("LWA_CLIENT_SECRET", "amzn1.oa2-cs.v1.0123456789abcdef")
        monkeypatch.setenv("SP_API_REFRESH_TOKEN", "Atzr|IwEBIJ-not-a-real-token-0123")
        result = bulk("check", "orders.xlsx")
    finally:
        page.close()
    assert result.exit_code == 2, result.output
    last = result.output.strip().splitlines()[-1]
    host = page.url.removeprefix("http://")
    assert last.startswith(
        f"error: Login with Amazon ({host}) answered with something that is not JSON"
    )
    assert "Traceback" not in result.output and not list((work / ".bulk").rglob("crash-*"))


@pytest.mark.parametrize("value", [math.inf, math.nan, -1.0, 0.0, 3601.0])
def test_timeout_seconds_must_be_finite_and_bounded(value: float) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config({"amazon": {"timeout_seconds": value}})
    assert "[amazon] timeout_seconds must be a positive number of seconds, at most 3600" in str(
        caught.value
    )
    assert parse_config({"amazon": {"timeout_seconds": 3600}}).amazon.timeout_seconds == 3600


def test_timeout_inf_in_bulk_toml_is_one_line(work: Path) -> None:
    (work / "bulk.toml").write_text("[amazon]\ntimeout_seconds = inf\n", encoding="utf-8")
    result = bulk("check", "orders.xlsx")
    assert result.exit_code == 2
    assert "timeout_seconds must be a positive number" in result.output.strip().splitlines()[-1]


def test_a_bulk_toml_saved_with_a_bom_is_read(work: Path) -> None:
    text = '[messages]\nseller_name = "Zoë Home"\n'
    (work / "bulk.toml").write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    config = load_from(find_config(None, {}, work, None))
    assert config.messages.seller_name == "Zoë Home"


@pytest.mark.parametrize("amazon", [{"marketplaces": []}, {"marketplace": ""}])
def test_an_empty_marketplace_list_is_not_silently_us(amazon: dict[str, Any]) -> None:
    with pytest.raises(ConfigError, match=r"\[amazon\] marketplaces is empty; name the"):
        parse_config({"amazon": amazon})
    assert parse_config({}).amazon.marketplaces == ("US",)
