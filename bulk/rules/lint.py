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
    "tr|br|mx|sg|ae|sa|eg|za|cn|ru|gg|link|page|"
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
    # "review" as a request for one; "we will review the stock" is an ordinary verb.
    ("review", r"(?:write|post|give|share|leave)\w* (?:us )?(?:a |an |your )?(?:\w+ )?reviews?"),
    (
        "review",
        r"(?:a|an|your|product|positive|honest|customer|good|great|\d[ -]?stars?) reviews?",
    ),
    ("review", r"review us"),
    ("voucher", r"vouchers?"),
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
    # Dutch
    ("korting", r"\w*korting\w*"),
    ("aanbieding", r"aanbieding(?:en)?"),
    ("recensie", r"recensies?"),
    ("beoordeling", r"beoordeling(?:en)?"),
    ("sterren", r"(?:5|vijf) sterren"),
    # Polish
    ("rabat", r"rabat(?:y|u|em)?"),
    ("kod", r"kod(?:y|u)? rabatow\w*"),
    ("kupon", r"kupon(?:y|u|em)?"),
    ("promocj", r"promocj\w*"),
    ("opini", r"opini[aęi]"),
    ("gwiazd", r"(?:5|pięć) gwiazd\w*"),
    # Swedish
    ("erbjudande", r"\w*erbjudanden?"),
    ("rea", r"rea"),
    ("recension", r"recensioner"),
    ("omdöme", r"omdömen?"),
    # Turkish
    ("indirim", r"indirim\w*"),
    ("kupon", r"kupon\w*"),
    ("kampanya", r"kampanya\w*"),
    ("fırsat", r"fırsat\w*"),
    ("değerlendirme", r"değerlendirme\w*"),
    ("yıldız", r"(?:5|beş) yıldız\w*"),
    # Portuguese
    ("desconto", r"descontos?"),
    ("cupo", r"cupom|cupons"),
    ("promoç", r"promoç(?:ão|ões)"),
    ("avalia", r"avaliaç(?:ão|ões)"),
    ("estrelas", r"(?:5|cinco) estrelas"),
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


# Telephone numbers: Amazon allows none in buyer messages (docs/amazon.md, "Messaging rules").
# A candidate is a run of digits and the separators numbers are written with; each run
# is scanned once (possessive, and it may not start inside a run), then judged by its form.
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2212\uff0d"
_NUMBER_RUN_RE = re.compile(
    rf"(?<![A-Za-z_\d+(.{_DASHES}])[+(（]?\d(?:[\d().（）/{_DASHES}]|[ \t\u00a0](?=[\d(]))*+"
)
_ORDER_ID_LIKE = re.compile(r"\d{3}-\d{7}-\d{7}")
_DATE_LIKE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
_US_LIKE = re.compile(rf"\d{{3}}[ .{_DASHES}]\d{{3}}[ .{_DASHES}]\d{{4}}")
# Words that name a telephone, in each shipped language: a number right after one is a phone
# number whatever its form ("call 5551234567").
_PHONE_WORDS_RE = re.compile(
    r"(?:\b(?:phone|telephone|tel|call|ring|text|sms|mobile|cell|hotline|whats|"
    r"telefon\w*|handy|anruf\w*|rufen|téléphone|tél|appel\w*|telefono|cellulare|chiam\w*|"
    r"teléfono|llam\w*|móvil|telefoon|bel\w*|mobiel|zadzwoń|komórk\w*|ring|mobil|"
    r"telefone|celular|ligue|ara\w*|cep)\b|電話|携帯)\W{0,12}$",
    re.IGNORECASE,
)
# Messaging apps and social networks: contact outside Amazon's messaging.
# Latin-letter boundaries: in Japanese, "LINEで" has no space before the particle.
_APPS_RE = re.compile(
    r"(?<![A-Za-z0-9_])(?:whats\s?app|telegram|wechat|weixin|viber|instagram|insta|facebook|fb messenger|"
    r"messenger|tiktok|snapchat|twitter|kakaotalk|skype|discord|signal app|line app|line id)"
    r"(?![A-Za-z0-9_])"
    r"|(?<![A-Za-z0-9_])(?-i:LINE)(?![A-Za-z0-9_])|微信|インスタ",
    re.IGNORECASE,
)
_APPS_CASED = {"line": "LINE"}
# A social handle (an e-mail address is reported on its own and removed first).
_HANDLE_RE = re.compile(r"(?<![\w.@])@[A-Za-z0-9_](?:[A-Za-z0-9_.]*[A-Za-z0-9_])?")
# A code to type at checkout: a word for "code" followed by a token of capitals and digits.
_CODE_WORDS = (
    r"code promo|codice sconto|códigos? de descuento|códigos? promocional(?:es)?|"
    r"kod(?:em|u)? (?:rabatow|promocyjn)\w*|código de desconto|"
    r"code|codes|coupon|voucher|promo|gutschein\w*|rabattcode|codice|código|cupón|"
    r"kortingscode|kod|kodem|kodu|rabattkod|kodunu|cupom|クーポンコード|コード"
)
_CODE_RE = re.compile(
    rf"(?i:(?<!\w)(?:{_CODE_WORDS}))[:\s「「\"'“„]{{1,4}}([A-Z0-9][A-Z0-9_-]{{2,}}[A-Z0-9])"
)


def _phone_numbers(text: str) -> list[str]:
    found = []
    for m in _NUMBER_RUN_RE.finditer(text):
        run = m.group(0).rstrip("().（）/ " + _DASHES.replace("\\", ""))
        digits = sum(c.isdigit() for c in run)
        if not 7 <= digits <= 15 or _ORDER_ID_LIKE.fullmatch(run) or _DATE_LIKE.fullmatch(run):
            continue
        separated = any(not c.isdigit() for c in run)
        if (
            run.startswith("+")
            or run[0] in "(（"
            or (run.startswith("0") and separated)
            or _US_LIKE.fullmatch(run)
            or run.count(" ") >= 2
            or _PHONE_WORDS_RE.search(text, max(0, m.start() - 40), m.start())
        ):
            found.append(run)
    return found


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
    phones = _distinct(iter(_phone_numbers(without_emails))) if _has_digits(body) else []
    if phones:
        problems.append(
            f"message contains a phone number ({_show(phones)}); Amazon allows contact with "
            "buyers only through its own messaging"
        )
    apps = _distinct(
        _APPS_CASED.get(m.group(0).lower(), m.group(0)) for m in _APPS_RE.finditer(without_emails)
    )
    handles = (
        _distinct(m.group(0) for m in _HANDLE_RE.finditer(without_emails))
        if "@" in without_emails
        else []
    )
    if apps or handles:
        problems.append(
            f"message names a messaging app or social account ({_show(apps + handles)}); "
            "Amazon allows contact with buyers only through its own messaging"
        )
    codes = _distinct(m.group(0) for m in _CODE_RE.finditer(without_emails))
    if codes:
        problems.append(
            f"message contains a discount or promo code ({_show(codes)}); Amazon does not "
            "allow offers in buyer messages"
        )
    phrases = _marketing(without_emails)
    if phrases:
        quoted = _show([f'"{p}"' for p in phrases])
        problems.append(
            f"message reads as marketing ({quoted}); Amazon allows messages only to "
            f"complete an order or resolve a problem"
        )
    return problems


def _has_digits(text: str) -> bool:
    return any(c.isdigit() for c in text)


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
