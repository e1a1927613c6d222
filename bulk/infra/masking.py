"""Credentials never leave bulk: one function masks them in any text it prints or stores."""

from __future__ import annotations

import re
import threading
from urllib.parse import quote, quote_plus

MASK = "***"

# Login with Amazon tokens: refresh tokens start "Atzr|", access tokens "Atza|"; client secrets
# look like "amzn1.oa2-cs.v1.<hex>". A server or proxy that echoes a request can put any of them
# (or the request's form fields and headers) into an error body.
# A token echoed from a form or a URL is percent-encoded ("Atzr%7C...", the | as %7C).
_SHAPES = re.compile(r"Atz[ar](?:\||%7[cC])[^\s\"'&,;<>)\]}]*|amzn1\.oa2-cs\.v1\.[0-9A-Za-z]+")
_FIELDS = re.compile(
    r"(?P<key>client_secret|refresh_token|access_token|x-amz-access-token|authorization)"
    r"(?P<sep>[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic)\s+)?)"
    r"(?P<value>[^\s\"'&,;<>)\]}]+)",
    re.IGNORECASE,
)

# Lower-case pieces that one of the patterns above needs: text holding none of them has nothing
# the patterns could match, so the regular expressions are not run over it (every cell bulk
# writes passes through `mask`; most hold no such word).
_HINTS = (
    "atz",
    "amzn1.oa2-cs.v1.",
    "client_secret",
    "refresh_token",
    "access_token",
    "access-token",
    "authorization",
)

_known: tuple[str, ...] = ()  # longest first, so a secret inside another is masked whole
_lock = threading.Lock()


def remember_secret(value: str) -> None:
    """Mask this exact value from now on (the credentials a run was given)."""
    global _known
    if len(value) >= 4:  # a one-letter "secret" would mask every word that contains it
        # Also as a URL or a form carries it (percent-encoded; a space as + in a form).
        forms = {value, quote(value, safe=""), quote_plus(value)}
        with _lock:
            _known = tuple(sorted({*_known, *forms}, key=len, reverse=True))


def mask(text: str) -> str:
    """`text` with every credential value replaced by ***."""
    for value in _known:  # replaced whole by remember_secret, so reading it needs no lock
        if value in text:
            text = text.replace(value, MASK)
    lower = text.lower()
    for hint in _HINTS:
        if hint in lower:
            break
    else:
        return text
    text = _SHAPES.sub(MASK, text)
    return _FIELDS.sub(lambda m: f"{m['key']}{m['sep']}{MASK}", text)


class MaskMemo(dict[str, str]):
    """`mask` for one batch of texts (a sheet update), each short text masked once: message
    statuses, days and blanks repeat row after row, and the credentials to mask do not change
    while a batch is built. A long text (a customer message) is seldom repeated: masked afresh."""

    SHORT = 200  # characters
    MOST = 4096  # texts remembered

    def __call__(self, text: str) -> str:
        return self[text] if len(text) <= self.SHORT else mask(text)

    def __missing__(self, text: str) -> str:
        found = mask(text)
        if len(self) < self.MOST:
            self[text] = found
        return found
