"""Tests for the shipped buyer languages: every locale folder complete, every message in its language."""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from test_messages import LOCALES, MESSAGES_ONLY

from bulk.config import REASON_LABELS
from bulk.marketplaces import MARKETPLACES
from bulk.models import CANCEL_REASON_CODES, CancelRequest, ItemRef, Order, OrderItem, Remedy
from bulk.rules.lint import lint_message
from bulk.rules.messages import (
    Templates,
    format_date,
    load_templates,
    render_message,
    render_support_case,
)

SHIPPED = Path(__file__).resolve().parent.parent / "templates"
# Every shipped locale but the first two (their own tests are in test_messages.py).
NEW_LOCALES = tuple(loc for loc in LOCALES if loc not in ("en_US", "de_DE"))
REASONS = {r.code: r for r in REASON_LABELS}
# Staff's internal Details: never in any customer message.
INTERNAL = "Supplier ticket 4411: pallet damaged, credit note pending"


# What a buyer in each locale sees: product titles and a note in their language, the date
# written their way, the greeting and the partial-order wording.
SAMPLE = {
    "fr_FR": {
        "titles": ("Tasse en céramique rouge", "Gobelet bleu", "Assiette verte"),
        "details": "Notre fournisseur ne pourra pas nous livrer avant mai.",
        "greeting": "Bonjour,",
        "date": "du 5 mars 2025",
        "partial": "une partie de votre commande",
        "sign_off": "Bien cordialement,",
    },
    "it_IT": {
        "titles": ("Tazza in ceramica rossa", "Bicchiere blu", "Piatto verde"),
        "details": "Il nostro fornitore non potrà consegnarci la merce prima di maggio.",
        "greeting": "Gentile cliente,",
        "date": "(data dell'ordine: 5 marzo 2025)",
        "partial": "parte del suo ordine",
        "sign_off": "Cordiali saluti,",
    },
    "es_ES": {
        "titles": ("Taza de cerámica roja", "Vaso azul", "Plato verde"),
        "details": "Nuestro proveedor no podrá entregarnos la mercancía antes de mayo.",
        "greeting": "Hola:",
        "date": "del 5 de marzo de 2025",
        "partial": "parte de su pedido",
        "sign_off": "Saludos cordiales,",
    },
    "en_GB": {
        "titles": ("Red ceramic mug", "Blue tumbler", "Green plate"),
        "details": "Our supplier cannot deliver to us before May.",
        "greeting": "Hello,",
        "date": "of 5 March 2025",
        "partial": "part of your order",
        "sign_off": "Kind regards,",
    },
    "ja_JP": {
        "titles": ("赤い陶器のマグカップ", "青いタンブラー", "緑のプレート"),
        "details": "仕入先からの入荷が5月以降となる見込みです。",
        "greeting": "お客様",
        "date": "ご注文日：2025年3月5日",
        "partial": "の一部をキャンセル",
        "sign_off": "今後とも何卒よろしくお願い申し上げます。",
    },
    "nl_NL": {
        "titles": ("Rode keramische mok", "Blauwe beker", "Groen bord"),
        "details": "Wij sturen u graag een bericht zodra het artikel weer leverbaar is.",
        "greeting": "Beste klant,",
        "date": "van 5 maart 2025",
        "partial": "een deel van uw bestelling",
        "sign_off": "Met vriendelijke groet,",
    },
    "pl_PL": {
        "titles": ("Czerwony kubek ceramiczny", "Niebieski kubek", "Zielony talerz"),
        "details": "Dostawca nie dostarczy nam towaru przed majem.",
        "greeting": "Dzień dobry,",
        "date": "z dnia 5 marca 2025",
        "partial": "część Państwa zamówienia",
        "sign_off": "Z poważaniem",
    },
    "sv_SE": {
        "titles": ("Röd keramikmugg", "Blå tumlare", "Grön tallrik"),
        "details": "Vår leverantör kan inte leverera till oss före maj.",
        "greeting": "Hej,",
        "date": "från den 5 mars 2025",
        "partial": "en del av din beställning",
        "sign_off": "Vänliga hälsningar",
    },
    "tr_TR": {
        "titles": ("Kırmızı seramik kupa", "Mavi bardak", "Yeşil tabak"),
        "details": "Tedarikçimiz ürünü mayıs ayından önce teslim edemiyor.",
        "greeting": "Sayın Müşterimiz,",
        "date": "5 Mart 2025 tarihli",
        "partial": "siparişinizin bir kısmını",
        "sign_off": "Saygılarımızla,",
    },
    "pt_BR": {
        "titles": ("Caneca de cerâmica vermelha", "Copo azul", "Prato verde"),
        "details": "Nosso fornecedor não consegue nos entregar antes de maio.",
        "greeting": "Olá,",
        "date": "feito em 5 de março de 2025",
        "partial": "parte do seu pedido",
        "sign_off": "Atenciosamente,",
    },
    "ar_SA": {
        "titles": ("كوب خزفي أحمر", "كوب أزرق", "طبق أخضر"),
        "details": "نتوقع وصول مخزون جديد في مايو.",
        "greeting": "عزيزنا العميل،",
        "date": "بتاريخ 5 مارس 2025",
        "partial": "جزء من طلبكم",
        "sign_off": "مع أطيب التحيات،",
    },
}
# Sentences of the en_US templates that must not survive in a translation.
ENGLISH_LEFTOVERS = ("Hello", "Unfortunately", "Kind regards", "Amazon refunds", "reply to this")


def order_for(locale: str, order_id: str = "171-4829301-5562310") -> Order:
    titles = SAMPLE[locale]["titles"]
    return Order(
        order_id=order_id,
        status="Unshipped",
        channel="MFN",
        purchased=datetime(2025, 3, 5, 9, 12, tzinfo=UTC),
        items=(
            OrderItem("40318872216041", "MUG-RED-350", titles[0], 2),
            OrderItem("40318872216042", "TMB-BLUE", titles[1], 3),
            OrderItem("40318872216043", "PLT-GREEN-27", titles[2], 1),
        ),
        locale=locale,
    )


def request_for(
    locale: str, code: str, remedy: Remedy, items: tuple[ItemRef, ...] = ()
) -> CancelRequest:
    return CancelRequest(
        row=7,
        order_id="171-4829301-5562310",
        reason=REASONS[code],
        details=INTERNAL,
        items=items,
        remedy=remedy,
        note=SAMPLE[locale]["details"],
    )


@functools.cache
def shipped_with(default_locale: str) -> Templates:
    return load_templates(SHIPPED, default_locale)


def template_files(locale: str) -> set[str]:
    folder = SHIPPED / locale
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*.j2")}


# --- every locale is complete ---------------------------------------------------------------


@pytest.mark.parametrize("locale", NEW_LOCALES)
def test_locale_has_every_template_en_us_has(locale: str) -> None:
    expected = template_files("en_US")
    assert "support_case.j2" in expected
    assert len(expected) == len(CANCEL_REASON_CODES) + 3  # reasons, default, layout, case
    if locale in MESSAGES_ONLY:
        expected = expected - {"support_case.j2"}
    assert template_files(locale) == expected


@pytest.mark.parametrize("locale", [loc for loc in NEW_LOCALES if loc not in MESSAGES_ONLY])
def test_locale_loads_as_the_default_locale(locale: str) -> None:
    # The load-time check renders every template with every reason, remedy and order shape.
    assert shipped_with(locale).default_locale == locale


# --- every message, in the buyer's language -------------------------------------------------


@pytest.mark.parametrize("locale", NEW_LOCALES)
@pytest.mark.parametrize("code", CANCEL_REASON_CODES)
def test_every_reason_and_remedy_in_the_buyers_language(locale: str, code: str) -> None:
    sample = SAMPLE[locale]
    texts = {}
    for remedy in Remedy:
        shapes = {
            "whole": (request_for(locale, code, remedy), order_for(locale)),
            "partial": (
                request_for(locale, code, remedy, (ItemRef("TMB-BLUE", 1),)),
                order_for(locale),
            ),
        }
        for shape, (request, order) in shapes.items():
            text = render_message(shipped_with("en_US"), request, order, "Maison Lumière")
            assert lint_message(text) == [], text
            assert text.startswith(sample["greeting"]), text
            sign_off = sample["sign_off"]
            assert text.endswith((f"{sign_off}\nMaison Lumière", f"{sign_off}\n\nMaison Lumière"))
            assert "171-4829301-5562310" in text
            assert sample["date"] in text, text
            # The Note to Buyer is quoted in every message; the Details never are.
            assert sample["details"] in text, text
            assert INTERNAL not in text and "pallet" not in text, text
            assert "{{" not in text and "{%" not in text and "None" not in text
            if not locale.startswith("en"):
                assert not [w for w in ENGLISH_LEFTOVERS if w in text], text
            if shape == "partial":
                assert sample["partial"] in text, text
                assert sample["titles"][1] in text
                assert sample["titles"][0] not in text
            else:
                assert all(title in text for title in sample["titles"]), text
        texts[remedy] = text
    # Each remedy says something different: refund, replacement and nothing more.
    assert len(set(texts.values())) == len(Remedy)


@pytest.mark.parametrize("locale", [loc for loc in NEW_LOCALES if loc not in MESSAGES_ONLY])
def test_unknown_order_still_renders_for_a_team_in_that_language(locale: str) -> None:
    templates = shipped_with(locale)
    for code in CANCEL_REASON_CODES:
        for remedy in Remedy:
            request = request_for(locale, code, remedy, (ItemRef("MUG-RED-350", 2),))
            text = render_message(templates, request, None, "Maison Lumière")
            assert lint_message(text) == [], text
            assert text.startswith(SAMPLE[locale]["greeting"])
            assert "MUG-RED-350" in text


# --- the choice of locale -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("buyer", "greeting"),
    [
        ("fr_CA", "Bonjour,"),  # no fr_CA folder: the language's own country, fr_FR
        ("fr_BE", "Bonjour,"),
        ("it_CH", "Gentile cliente,"),
        ("es_MX", "Hola:"),
        ("ja", "お客様"),
        ("en_GB", "Hello,"),
        ("pt_PT", "Olá,"),  # no pt_PT folder: Brazilian Portuguese
        ("ar_EG", "عزيزنا العميل،"),  # amazon.eg's buyers read the Arabic set
        ("da_DK", "Hello,"),  # no Danish: the order's marketplace (here unknown), then the default
    ],
)
def test_buyer_without_own_folder_gets_the_same_language(buyer: str, greeting: str) -> None:
    order = replace(order_for("fr_FR"), locale=buyer)
    text = render_message(
        shipped_with("en_US"), request_for("fr_FR", "NoInventory", Remedy.REFUND), order, "A"
    )
    assert text.startswith(greeting)


def test_every_marketplace_language_we_ship_is_used() -> None:
    templates = shipped_with("en_US")
    shipped_languages = {loc.split("_")[0] for loc in templates.locales}
    for marketplace in MARKETPLACES:
        chosen = templates.locale_for(marketplace.locale)
        language = marketplace.locale.split("_")[0]
        if language in shipped_languages:
            assert chosen.split("_")[0] == language, marketplace
        else:
            assert chosen == "en_US", marketplace
    assert templates.locale_for("en_GB") == "en_GB"
    assert set(NEW_LOCALES) <= set(templates.locales)


# --- the language itself --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("locale", "day", "expected"),
    [
        ("fr_FR", date(2025, 3, 5), "5 mars 2025"),
        ("fr_FR", date(2025, 8, 1), "1 août 2025"),
        ("it_IT", date(2025, 3, 5), "5 marzo 2025"),
        ("it_IT", date(2025, 12, 1), "1 dicembre 2025"),
        ("es_ES", date(2025, 2, 14), "14 de febrero de 2025"),
        ("en_GB", date(2025, 3, 5), "5 March 2025"),
        ("ja_JP", date(2025, 11, 23), "2025年11月23日"),
        ("de_DE", date(2025, 3, 5), "5. März 2025"),
        ("en_US", date(2025, 3, 5), "March 5, 2025"),
        ("nl_NL", date(2025, 3, 5), "5 maart 2025"),
        ("pl_PL", date(2025, 3, 5), "5 marca 2025"),
        ("sv_SE", date(2025, 3, 5), "5 mars 2025"),
        ("tr_TR", date(2025, 3, 5), "5 Mart 2025"),
        ("pt_BR", date(2025, 3, 5), "5 de março de 2025"),
        ("xx_YY", date(2025, 3, 5), "2025-03-05"),  # a locale CLDR does not know
    ],
)
def test_purchase_date_is_written_the_locale_way(locale: str, day: date, expected: str) -> None:
    assert format_date(day, locale) == expected


# British "fulfilled" and "fulfilling" keep the double l; "fulfill", "fulfills", "fulfillment" do not.
_AMERICAN = re.compile(
    r"apologiz|fulfill(?!ed|ing)|\bcanceled|\bcolor|\bcenter|organiz|realiz|recogniz|authoriz", re.I
)


def test_british_english_is_spelt_the_british_way() -> None:
    for path in sorted((SHIPPED / "en_GB").rglob("*.j2")):
        found = _AMERICAN.findall(path.read_text(encoding="utf-8"))
        assert not found, (path, found)
    text = render_message(
        shipped_with("en_US"),
        request_for("en_GB", "NoInventory", Remedy.REPLACEMENT),
        order_for("en_GB"),
        "A",
    )
    assert "We apologise for the inconvenience." in text
    assert "dispatch" in text
    assert "5 March 2025" in text


_POLITE_ENDING = re.compile(r"(?:ます|ません|ました|ませんでした|ください|です|でした)$")


@pytest.mark.parametrize("code", CANCEL_REASON_CODES)
def test_japanese_sentences_are_polite(code: str) -> None:
    for remedy in Remedy:
        request = request_for("ja_JP", code, remedy, (ItemRef("TMB-BLUE", 1),))
        text = render_message(shipped_with("en_US"), request, order_for("ja_JP"), "A")
        sentences = [s.strip() for s in re.split(r"。", text)[:-1]]
        assert len(sentences) >= 5, text
        plain = [s for s in sentences if not _POLITE_ENDING.search(s)]
        assert not plain, plain


# --- Seller Support cases in the team's language --------------------------------------------


@pytest.mark.parametrize(
    ("locale", "subject", "partial"),
    [
        ("fr_FR", "Objet : Demande d'annulation", "quantité 1 sur 3 commandés"),
        ("it_IT", "Oggetto: Richiesta di annullamento", "quantità 1 su 3 ordinati"),
        ("es_ES", "Asunto: Solicitud de cancelación", "cantidad 1 de 3 pedidos"),
        ("en_GB", "Subject: Please cancel", "quantity 1 of 3 ordered"),
        ("ja_JP", "件名：注文", "数量 1（注文数 3）"),
    ],
)
def test_support_case_in_the_default_locale(locale: str, subject: str, partial: str) -> None:
    templates = shipped_with(locale)
    request = request_for(locale, "BuyerCanceled", Remedy.REFUND, (ItemRef("TMB-BLUE", 1),))
    german_buyer = replace(order_for(locale), channel="AFN", locale="de_DE")
    case = render_support_case(templates, request, german_buyer, "this is an FBA order", "A")
    assert case.startswith(subject), case
    assert partial in case
    assert "FBA" in case and "BuyerCanceled" in case and INTERNAL in case
    assert lint_message(case) == []
    # ...while the buyer still hears from us in German.
    message = render_message(templates, request, german_buyer, "A")
    assert message.startswith("Guten Tag,")
