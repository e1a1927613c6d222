"""The sandbox server itself: routing answers, bugs shown as 500, start errors, and `serve`."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO

import pytest
import requests
from freezegun.api import FrozenDateTimeFactory

from bulk.errors import ConfigError
from bulk.sandbox import Sandbox, server, start_sandbox
from bulk.sandbox.market import SandboxMarket
from bulk.sandbox.state import STATE_FILE
from bulk.sandbox.wire import Reply, Request

ROOT = Path(__file__).parent.parent


def test_unknown_paths_and_methods(sandbox: Sandbox) -> None:
    missing = requests.get(f"{sandbox.url}/orders/v1/orders", timeout=10)
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "NotFound"
    assert missing.headers["x-amzn-RequestId"]
    wrong = requests.delete(f"{sandbox.url}/orders/v0/orders", timeout=10)
    assert wrong.status_code == 405
    kind = requests.post(
        f"{sandbox.url}/messaging/v1/orders/112-0000001-0000001/messages/poem", timeout=10
    )
    assert kind.status_code == 404


def test_a_sandbox_bug_answers_500_and_is_shown(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(market: SandboxMarket, request: Request) -> Reply:
        raise KeyError("oops")

    route = next(r for r in server.ROUTES if r.operation == "_sandbox/calls")
    monkeypatch.setattr(
        server,
        "ROUTES",
        (server.Route(route.method, route.pattern, route.operation, broken, route.kind),),
    )
    res = requests.get(f"{sandbox.url}/_sandbox/calls", timeout=10)
    assert res.status_code == 500
    assert res.json()["errors"][0]["details"] == "KeyError: 'oops'"
    assert "KeyError: 'oops'" in capsys.readouterr().err


def test_a_busy_port_is_a_config_error(
    sandbox: Sandbox, sandbox_orders: Path, tmp_path: Path
) -> None:
    port = int(sandbox.url.rsplit(":", 1)[1])
    with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{port}"):
        start_sandbox(sandbox_orders, tmp_path / "other-state", port=port)
    # The failed start let go of its state folder.
    with start_sandbox(sandbox_orders, tmp_path / "other-state"):
        pass


def test_a_bad_book_stops_the_start(sandbox_clock: FrozenDateTimeFactory, tmp_path: Path) -> None:
    book = tmp_path / "book.json"
    book.write_text(json.dumps({"orders": [{"id": "1"}]}), encoding="utf-8")
    with pytest.raises(
        ConfigError, match=re.escape("book.json: orders[0]: 'id' must be an Amazon order id")
    ):
        start_sandbox(book, tmp_path / "state")
    assert not (tmp_path / "state").exists()


def test_stop_is_idempotent(
    sandbox_clock: FrozenDateTimeFactory, sandbox_orders: Path, sandbox_state: Path
) -> None:
    running = start_sandbox(sandbox_orders, sandbox_state)
    running.stop()
    running.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{running.url}/_sandbox/calls", timeout=10)


def _lines(stream: IO[str]) -> queue.Queue[str]:
    """The stream's lines as they come, read by a thread: a test waits for one with a time-out
    instead of blocking for ever on a readline() that never returns."""
    found: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stream:
            found.put(line)

    threading.Thread(target=read, daemon=True).start()
    return found


def test_serve_runs_in_the_foreground_until_ctrl_c(tmp_path: Path) -> None:
    state = tmp_path / "state"
    code = (
        "import signal, sys; from pathlib import Path; from bulk.sandbox import serve; "
        # Ctrl-C raises KeyboardInterrupt even when this test runs with SIGINT ignored.
        "signal.signal(signal.SIGINT, signal.default_int_handler); "
        "serve(Path(sys.argv[1]), Path(sys.argv[2]), 0)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(ROOT / "samples" / "marketplace.json"), str(state)],
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stderr is not None
        lines = _lines(proc.stderr)
        banner = lines.get(timeout=20)
        assert "bulk sandbox: 12 orders from" in banner and "Ctrl-C stops" in banner
        url = banner.split(" at ", 1)[1].split(" ", 1)[0]
        assert requests.get(f"{url}/_sandbox/calls", timeout=10).json() == {"_sandbox/calls": 1}
        assert "GET /_sandbox/calls" in lines.get(timeout=20)  # each request is logged
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=20) == 0
        assert "stopped" in lines.get(timeout=20)  # its last words
    finally:
        proc.kill()
        proc.wait()
        if proc.stderr is not None:
            proc.stderr.close()
    assert json.loads((state / STATE_FILE).read_text(encoding="utf-8"))["calls"] == {
        "_sandbox/calls": 1
    }


def test_parallel_requests_are_all_answered_and_counted(sandbox: Sandbox) -> None:
    token = requests.post(
        f"{sandbox.url}/auth/o2/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": "sandbox-refresh-token",
            "client_id": "sandbox-app",
            "client_secret": "sandbox-secret",
        },
        timeout=10,
    ).json()["access_token"]

    def get(n: int) -> int:
        order = f"112-0000001-{n % 12 + 1:07d}"
        url = f"{sandbox.url}/orders/v0/orders/{order}"
        return requests.get(url, headers={"x-amz-access-token": token}, timeout=10).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert set(pool.map(get, range(48))) == {200}
    assert requests.get(f"{sandbox.url}/_sandbox/calls", timeout=10).json()["getOrder"] == 48
