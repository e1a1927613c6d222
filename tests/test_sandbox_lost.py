"""The sandbox's "lost" faults: the work is done, then the answer is lost on the way back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
from freezegun.api import FrozenDateTimeFactory

from bulk.errors import ConfigError
from bulk.sandbox import start_sandbox
from bulk.sandbox.auth import REFRESH_TOKEN, access_token
from bulk.sandbox.book import load_book

DATA = Path(__file__).parent / "data"
ORDER = "113-0000001-0000001"


def _book(tmp_path: Path, faults: dict[str, Any]) -> Path:
    book = json.loads((DATA / "marketplace_faults.json").read_text(encoding="utf-8"))
    book["faults"] = faults
    book["orders"][0]["messaging"] = ["unexpectedProblem"]
    path = tmp_path / "book.json"
    path.write_text(json.dumps(book), encoding="utf-8")
    return path


def _message(url: str, timeout: float) -> requests.Response:
    return requests.post(
        f"{url}/messaging/v1/orders/{ORDER}/messages/unexpectedProblem",
        params={"marketplaceIds": "ATVPDKIKX0DER"},
        data=json.dumps({"text": "Your order was cancelled: the pens are out of stock."}),
        headers={"x-amz-access-token": access_token(REFRESH_TOKEN)},
        timeout=timeout,
    )


@pytest.mark.parametrize(
    ("how", "fails_with"),
    [
        ("lost-reset", requests.ConnectionError),
        ("lost-hang", requests.ReadTimeout),
        ("lost-504", None),
        ("lost-500", None),
    ],
)
def test_the_work_is_done_and_the_answer_lost(
    sandbox_clock: FrozenDateTimeFactory,
    tmp_path: Path,
    how: str,
    fails_with: type[Exception] | None,
) -> None:
    book = _book(
        tmp_path,
        {"rate": 1.0, "kinds": [how], "operations": ["createUnexpectedProblem"], "limit": 1},
    )
    with start_sandbox(book, tmp_path / "state") as sb:
        if fails_with is not None:
            with pytest.raises(fails_with):
                _message(sb.url, timeout=1.0)
        else:
            answer = _message(sb.url, timeout=10)
            assert answer.status_code == int(how[-3:])
            if how == "lost-504":
                assert answer.headers["Content-Type"] == "text/html"
                assert b"504 Gateway Time-out" in answer.content
            else:
                assert answer.json()["errors"][0]["code"] == "InternalFailure"
        # The message was accepted before its answer was lost.
        kept = requests.get(f"{sb.url}/_sandbox/messages", timeout=10).json()
        assert [m["orderId"] for m in kept] == [ORDER]
        # Only the aimed-at operation fails, and only `limit` times.
        assert requests.get(f"{sb.url}/_sandbox/orders", timeout=10).status_code == 200
        again = _message(sb.url, timeout=10)
        assert again.status_code == 201
        assert len(requests.get(f"{sb.url}/_sandbox/messages", timeout=10).json()) == 2


def test_a_hang_ends_when_the_sandbox_stops(
    sandbox_clock: FrozenDateTimeFactory, tmp_path: Path
) -> None:
    book = _book(tmp_path, {"rate": 1.0, "kinds": ["lost-hang"], "hang_seconds": 600})
    sb = start_sandbox(book, tmp_path / "state")
    with pytest.raises(requests.ReadTimeout):
        _message(sb.url, timeout=0.5)
    sb.stop()  # returns at once: the held connection is let go, not waited out


def test_an_unknown_operation_is_refused_when_the_sandbox_starts(tmp_path: Path) -> None:
    book = _book(tmp_path, {"operations": ["createFeeds"]})
    with pytest.raises(ConfigError, match="'operations' has unknown value 'createFeeds'; did you"):
        start_sandbox(book, tmp_path / "state")


@pytest.mark.parametrize(
    ("faults", "words"),
    [
        ({"limit": -1}, "limit"),
        ({"kinds": ["lost-timeout"]}, "'kinds' has unknown value 'lost-timeout'"),
    ],
)
def test_bad_fault_settings_are_refused(tmp_path: Path, faults: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        load_book(_book(tmp_path, faults))
