"""The message lint: what in a buyer message breaks Amazon's buyer-messaging rules."""

from __future__ import annotations

import re
from collections.abc import Iterator

# createUnexpectedProblem takes 1-2000 characters of plain text
# (docs/amazon.md, "Messaging rules").
MAX_MESSAGE_CHARS = 2000

# Every pattern below runs on text staff typed (Details, product titles, Items) and must take
# time linear in its length, whatever the text (a 1 MB cell once took minutes). A pattern that
# starts with a repeated class may not start inside a run of that class (a lookbehind refuses
# it), so a run is scanned once from its start rather than once from each of its characters;
# and repeats that follow one another take different characters, so a failed match is given
# up in one pass instead of trying every split. tests/test_hostile.py measures the growth.
_HTML_RE = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(?:\s[^<>]*)?/?>|<!--|&(?:[A-Za-z]+|#\d+);")
_EMAIL_RE = re.compile(r"(?<![\w.%+-])[\w.%+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}")
_TLDS = (
    "com|net|org|info|biz|io|co|uk|de|at|ch|fr|it|es|nl|be|eu|us|ca|au|jp|pl|se|in|"
    "shop|store|online|site|app|dev|me|tv|ly|xyz"
)
_URL_RE = re.compile(
    r"\b(?:https?|ftp)://\S+"
    r"|\bwww\.\S+"
    rf"|(?<![\w.@-])(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_TLDS})(?![\w-])(?:/\S*)?",
    re.IGNORECASE,
)
# A cheap first look: no "://", no "www." and no ".tld" means no link to look for.
_MAYBE_LINK_RE = re.compile(rf"://|www\.|\.(?:{_TLDS})(?![\w-])", re.IGNORECASE)
# Amazon: buyer messages exist to complete an order or resolve a problem, never to market
# (Communication Guidelines; docs/amazon.md, "Messaging rules"). Longer phrases come first so that
# "leave a review" is reported once, not also as "review".
_MARKETING_PHRASES: tuple[tuple[str, str], ...] = (
    # (a lowercase word the phrase must contain, the phrase's pattern): the cheap substring
    # test skips the regular expression for the many messages that cannot match it.
    ("buy", r"buy now"),
    ("special", r"special offers?"),
    ("leave", r"leave (?:us )?an? (?:review|rating)"),
    ("check out", r"check out our"),
    ("promo", r"promo codes?"),
    ("promo", r"codes? promo"),  # French
    ("star", r"(?:5|five)[ -]stars?"),
    ("discount", r"discounts?"),
    ("coupon", r"coupons?"),
    ("promo", r"promos?"),
    ("promotion", r"promotions?"),
    ("review", r"reviews?"),
    ("feedback", r"feedback"),
    ("sale", r"sales?"),
    # German
    ("jetzt", r"jetzt kaufen"),
    ("stern", r"(?:5|fünf) sternen?"),
    ("rabatt", r"\w*rabatt\w*"),
    ("gutschein", r"\w*gutschein\w*"),
    ("angebot", r"\w*angebot(?:e|s)?"),  # not "angeboten", which is also the verb "offered"
    ("bewertung", r"\w*bewertung(?:en)?"),
    ("bewerten", r"bewerten"),
    ("rezension", r"\w*rezension(?:en)?"),
    ("schnäppchen", r"schnäppchen"),
    # French
    ("réduction", r"(?:bons? de |codes? de )?réductions?"),
    ("offre", r"offres? spéciales?"),
    ("soldes", r"soldes"),
    ("avis", r"(?:laiss|donn|partag)\w*(?:-nous)? (?:nous )?(?:un|votre) avis"),
    ("commentaire", r"(?:laiss|donn|partag)\w*(?:-nous)? (?:nous )?(?:un|votre) commentaire"),
    ("étoile", r"(?:5|cinq) étoiles?"),
    ("achetez", r"achetez maintenant"),
    # Italian
    ("sconto", r"(?:codice|buono) sconto"),
    ("scont", r"scont[oi]"),
    ("offert", r"offert[ae] special[ei]"),
    ("saldi", r"saldi"),
    ("recension", r"recension[ei]"),
    ("stelle", r"(?:5|cinque) stelle"),
    ("acquista", r"acquista ora"),
    # Spanish
    ("descuento", r"descuentos?"),
    ("cup", r"cup[oó]n(?:es)?"),
    ("promocional", r"códigos? promocional(?:es)?"),
    ("oferta", r"ofertas?"),
    ("rebajas", r"rebajas"),
    ("reseña", r"reseñas?"),
    ("valoraci", r"valoraci[oó]n(?:es)?"),
    ("estrellas", r"(?:5|cinco) estrellas"),
    ("ahora", r"compr[ae] ahora"),
)
# Japanese is written without spaces: these match anywhere, not as whole words.
_MARKETING_CJK = (
    "レビュー",
    "ご評価",
    "評価をお願い",
    "星5",
    "星５",
    "★5",
    "五つ星",
    "クーポン",
    "割引",
    "セール",
    "キャンペーン",
    "特価",
    "お買い得",
)
_MARKETING_RE = [
    (needle, re.compile(rf"(?<!\w)(?:{p})(?!\w)", re.IGNORECASE))
    for needle, p in _MARKETING_PHRASES
] + [(phrase, re.compile(re.escape(phrase))) for phrase in _MARKETING_CJK]
_PERCENT_OFF_RE = re.compile(r"(?<!\d)\d*\s?[%％]\s?(?:(?:off|rabatt)(?!\w)|オフ)", re.IGNORECASE)


def lint_message(text: str) -> list[str]:
    """What breaks Amazon's buyer-messaging rules in `text`, one sentence each; empty when fine."""
    problems: list[str] = []
    body = text.strip()
    if not body:
        problems.append("message is empty; Amazon needs at least 1 character")
    elif len(body) > MAX_MESSAGE_CHARS:
        problems.append(
            f"message is {len(body)} characters; Amazon allows at most {MAX_MESSAGE_CHARS}"
        )
    html = _distinct(m.group(0) for m in _HTML_RE.finditer(body))
    if html:
        problems.append(f"message contains HTML ({_show(html)}); write plain text only")
    emails = _distinct(m.group(0) for m in _EMAIL_RE.finditer(body))
    if emails:
        problems.append(
            f"message contains an email address ({_show(emails)}); "
            f"Amazon does not allow email addresses in buyer messages"
        )
    without_emails = _EMAIL_RE.sub(" ", body) if "@" in body else body
    links: list[str] = []
    if _MAYBE_LINK_RE.search(without_emails):
        links = _distinct(m.group(0).rstrip(".,;:!?)") for m in _URL_RE.finditer(without_emails))
    if links:
        problems.append(
            f"message contains a link ({_show(links)}); remove it, "
            f"links are not allowed in buyer messages"
        )
    phrases = _marketing(without_emails)
    if phrases:
        quoted = _show([f'"{p}"' for p in phrases])
        problems.append(
            f"message reads as marketing ({quoted}); Amazon allows messages only to "
            f"complete an order or resolve a problem"
        )
    return problems


def _marketing(text: str) -> list[str]:
    # One byte per character of text, set where an earlier (longer) phrase matched: a later
    # match inside it is not reported again. Checking a match costs its own length, not the
    # number of matches so far (which made a cell of 20,000 "review"s take seconds).
    taken = bytearray(len(text))
    found: list[tuple[int, str]] = []
    lowered = text.lower()
    patterns = [p for needle, p in _MARKETING_RE if needle in lowered]
    if "%" in text or "％" in text:
        patterns.append(_PERCENT_OFF_RE)
    for pattern in patterns:
        for m in pattern.finditer(text):
            start, end = m.span()
            if taken.find(1, start, end) != -1:
                continue
            taken[start:end] = b"\x01" * (end - start)
            found.append((start, m.group(0).strip().lower()))
    return _distinct(phrase for _, phrase in sorted(found))


def _distinct(values: Iterator[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _show(values: list[str]) -> str:
    shown = ", ".join(values[:3])
    return shown + (f" and {len(values) - 3} more" if len(values) > 3 else "")
