"""Tests for bulk/messages.py and bulk/lint.py: the shipped templates, locale choice, load-time checks and lint."""

from __future__ import annotations

import functools
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bulk.config import REASON_LABELS
from bulk.errors import TemplateError
from bulk.models import (
    CANCEL_REASON_CODES,
    CancelRequest,
    ItemRef,
    Order,
    OrderItem,
    Reason,
    Remedy,
)
from bulk.rules.lint import lint_message
from bulk.rules.messages import (
    Templates,
    export_templates,
    load_templates,
    render_message,
    render_support_case,
)

SHIPPED = Path(__file__).resolve().parent.parent / "templates"
LOCALES = (
    "en_US",
    "de_DE",
    "fr_FR",
    "it_IT",
    "es_ES",
    "en_GB",
    "ja_JP",
    "nl_NL",
    "pl_PL",
    "sv_SE",
    "tr_TR",
    "pt_BR",
    "ar_SA",
)
# Locales that ship customer messages but no Seller Support case (templates/README.md).
MESSAGES_ONLY = ("ar_SA",)
# The first line of every customer message in each shipped locale.
GREETING = {
    "en_US": "Hello,",
    "de_DE": "Guten Tag,",
    "fr_FR": "Bonjour,",
    "it_IT": "Gentile cliente,",
    "es_ES": "Hola:",
    "en_GB": "Hello,",
    "ja_JP": "お客様",
    "nl_NL": "Beste klant,",
    "pl_PL": "Dzień dobry,",
    "sv_SE": "Hej,",
    "tr_TR": "Sayın Müşterimiz,",
    "pt_BR": "Olá,",
    "ar_SA": "عزيزنا العميل،",
}
ORDER_ID = "112-0000001-0000001"
REASONS = {r.code: r for r in REASON_LABELS}


def make_order(
    locale: str = "en_US", channel: str = "MFN", status: str = "Unshipped", id_: str = ORDER_ID
) -> Order:
    return Order(
        order_id=id_,
        status=status,
        channel=channel,
        purchased=datetime(2025, 3, 5, 14, 30, tzinfo=UTC),
        items=(
            OrderItem("00000000000101", "MUG-RED", "Red mug", 2),
            OrderItem("00000000000102", "CUP-BLUE", "Blue cup", 3),
            OrderItem("00000000000103", "PLATE-GREEN", "Green plate", 1),
        ),
        locale=locale,
    )


def make_request(
    code: str = "NoInventory",
    remedy: Remedy = Remedy.REFUND,
    items: tuple[ItemRef, ...] = (),
    details: str = "Our supplier cannot deliver before May.",
    order_id: str = ORDER_ID,
    note: str = "",
) -> CancelRequest:
    return CancelRequest(
        row=2,
        order_id=order_id,
        reason=REASONS[code],
        details=details,
        items=items,
        remedy=remedy,
        note=note,
    )


@functools.cache
def shipped_with(default_locale: str) -> Templates:
    return load_templates(SHIPPED, default_locale)


@pytest.fixture
def shipped() -> Templates:
    return shipped_with("en_US")


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A writable copy of the shipped templates, to break on purpose."""
    target = tmp_path / "templates"
    shutil.copytree(SHIPPED, target)
    return target


# --- the shipped templates ------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("remedy", list(Remedy))
@pytest.mark.parametrize("code", CANCEL_REASON_CODES)
def test_every_shipped_message_renders_and_passes_lint(
    shipped: Templates, code: str, remedy: Remedy, locale: str
) -> None:
    shapes = [
        (make_request(code, remedy), make_order(locale)),
        (make_request(code, remedy, (ItemRef("CUP-BLUE", 1),)), make_order(locale)),
        (make_request(code, remedy), None),
        (make_request(code, remedy, (ItemRef("00000000000101"),)), None),
    ]
    for request, order in shapes:
        text = render_message(shipped, request, order, "Acme Home")
        assert lint_message(text) == [], text
        assert ORDER_ID in text
        assert text.endswith("Acme Home")
        assert "{{" not in text and "{%" not in text
        assert "None" not in text  # an unknown value prints as nothing, not as Python's None
        if order is not None:
            assert text.startswith(GREETING[locale])


@pytest.mark.parametrize("default_locale", [loc for loc in LOCALES if loc not in MESSAGES_ONLY])
@pytest.mark.parametrize("remedy", list(Remedy))
@pytest.mark.parametrize("code", CANCEL_REASON_CODES)
def test_every_shipped_support_case_renders(code: str, remedy: Remedy, default_locale: str) -> None:
    templates = shipped_with(default_locale)
    for order in (make_order(channel="AFN"), make_order(status="PartiallyShipped"), None):
        request = make_request(code, remedy, (ItemRef("CUP-BLUE", 1),))
        text = render_support_case(templates, request, order, "this is an FBA order", "Acme Home")
        assert lint_message(text) == [], text
        assert ORDER_ID in text
        assert "this is an FBA order" in text
        assert "CUP-BLUE" in text
        assert code in text
        assert request.details in text


def test_message_explains_reason_and_remedy(shipped: Templates) -> None:
    refund = render_message(shipped, make_request(), make_order(), "Acme Home")
    assert "out of stock" in refund
    assert "March 5, 2025" in refund
    # Amazon refunds; the future tense: it has not happened yet when the message goes out.
    assert "Amazon will refund" in refund and "nothing you need to do" in refund
    assert "Our supplier cannot deliver before May." not in refund  # Details stay internal

    replacement = render_message(
        shipped, make_request(remedy=Remedy.REPLACEMENT), make_order(), "Acme Home"
    )
    # A replacement is a new order the buyer may place: bulk cannot ship one on its own, and
    # Amazon lets no seller send a later "it has shipped" message unprompted.
    assert "place a new order on Amazon" in replacement
    assert "Amazon will refund" in replacement
    assert "free of charge" not in replacement and "no extra cost" not in replacement
    assert "shipped" not in replacement and "You do not need to place" not in replacement


@pytest.mark.parametrize(
    ("default_locale", "new_order"),
    [
        ("en_US", "they will place a new order"),
        ("en_GB", "they will place a new order"),
        ("de_DE", "gibt er eine neue Bestellung auf"),
        ("fr_FR", "il passera une nouvelle commande"),
        ("it_IT", "effettuerà un nuovo ordine"),
        ("es_ES", "realizará un nuevo pedido"),
        ("ja_JP", "新たにご注文いただく"),
    ],
)
def test_a_support_case_with_replacement_says_the_buyer_orders_again(
    default_locale: str, new_order: str
) -> None:
    # bulk ships nothing without an order: Seller Support must not be told a replacement is sent.
    request = make_request(remedy=Remedy.REPLACEMENT)
    case = render_support_case(shipped_with(default_locale), request, None, "FBA", "Acme Home")
    assert new_order in case, case


def test_german_message_is_german(shipped: Templates) -> None:
    text = render_message(shipped, make_request(), make_order("de_DE"), "Acme Home")
    assert "vom 5. März 2025" in text
    assert "Mit freundlichen Grüßen" in text
    assert "erstattet Amazon Ihnen automatisch" in text


def test_internal_notes_are_not_shown_for_risk_checks(shipped: Templates) -> None:
    request = make_request("RiskAssessmentInformationNotValid", details="Card flagged by bank XYZ")
    assert "flagged" not in render_message(shipped, request, make_order(), "Acme Home")


def test_german_has_one_leider(shipped: Templates) -> None:
    for code in CANCEL_REASON_CODES:
        text = render_message(shipped, make_request(code), make_order("de_DE"), "Acme Home")
        assert text.lower().count("leider") <= 1, text


@pytest.mark.parametrize(
    "note", ["Restock {{ 7*7 }} weeks", "{% for x in range(3) %}x{% endfor %}", "{# hi #}"]
)
def test_the_note_and_details_are_printed_literally(shipped: Templates, note: str) -> None:
    request = make_request(details=note, note=note)
    assert note in render_message(shipped, request, make_order(), "Acme Home")
    assert note in render_support_case(shipped, request, make_order(), "FBA order", "Acme Home")
    assert "49" not in render_message(shipped, request, make_order(), "Acme Home")


# --- locale choice --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("buyer", "default", "expected"),
    [
        ("en_US", "en_US", "en_US"),
        ("de_DE", "en_US", "de_DE"),
        ("de_AT", "en_US", "de_DE"),
        ("de", "en_US", "de_DE"),
        ("de-ch", "en_US", "de_DE"),
        ("fr_FR", "en_US", "fr_FR"),
        ("fr_CA", "en_US", "fr_FR"),
        ("fr_BE", "en_US", "fr_FR"),
        ("fr", "en_US", "fr_FR"),
        ("it_CH", "en_US", "it_IT"),
        ("es_MX", "en_US", "es_ES"),
        ("es-us", "en_US", "es_ES"),
        ("ja_JP", "en_US", "ja_JP"),
        ("ja", "en_US", "ja_JP"),
        ("en_GB", "en_US", "en_GB"),
        ("en_IE", "en_US", "en_US"),  # the default locale speaks English: it wins over en_GB
        ("en_AU", "en_GB", "en_GB"),
        ("nl_NL", "en_US", "nl_NL"),
        ("nl_BE", "en_US", "nl_NL"),
        ("ca_ES", "en_US", "en_US"),  # no Catalan, no marketplace: the default (see below)
        ("", "en_US", "en_US"),
        ("not a locale", "en_US", "en_US"),
        ("", "de_DE", "de_DE"),
        ("fr_FR", "de_DE", "fr_FR"),
        ("pt_BR", "de_DE", "pt_BR"),
        ("ar_EG", "de_DE", "ar_SA"),
        ("da_DK", "de_DE", "de_DE"),
        ("en_AU", "de_DE", "en_GB"),  # no en_EN folder: the first en_* in alphabetical order
        ("en_AU", "fr_FR", "en_GB"),
    ],
)
def test_locale_fallback(buyer: str, default: str, expected: str) -> None:
    assert shipped_with(default).locale_for(buyer) == expected


def test_austrian_buyer_gets_german_message(shipped: Templates) -> None:
    text = render_message(shipped, make_request(), make_order("de_AT"), "Acme Home")
    assert text.startswith("Guten Tag,")


def test_unknown_order_gets_default_locale(folder: Path) -> None:
    templates = load_templates(folder, "de_DE")
    assert render_message(templates, make_request(), None, "Acme Home").startswith("Guten Tag,")


def test_language_prefers_country_of_same_name(folder: Path) -> None:
    shutil.copytree(folder / "de_DE", folder / "de_CH")
    shutil.copytree(folder / "de_DE", folder / "de_AT")
    templates = load_templates(folder)
    assert templates.locale_for("de_LI") == "de_DE"
    assert templates.locale_for("de_CH") == "de_CH"
    shutil.rmtree(folder / "de_DE")
    assert load_templates(folder, shipped=False).locale_for("de_LI") == "de_AT"


def test_bare_language_folder_wins(folder: Path) -> None:
    shutil.copytree(folder / "de_DE", folder / "de")
    (folder / "de" / "cancel" / "NoInventory.j2").write_text("Hallo {{ order_id }}")
    templates = load_templates(folder)
    assert templates.locale_for("de_AT") == "de"
    text = render_message(templates, make_request(), make_order("de_AT"), "Acme Home")
    assert text == f"Hallo {ORDER_ID}"


def test_support_case_is_in_default_locale_whatever_the_buyer(shipped: Templates) -> None:
    text = render_support_case(shipped, make_request(), make_order("de_DE"), "FBA", "Acme Home")
    assert "Please cancel" in text


# --- items ----------------------------------------------------------------------------------


@pytest.mark.parametrize("ref", ["CUP-BLUE", "00000000000102"])
def test_partial_items_render_only_those_items(shipped: Templates, ref: str) -> None:
    request = make_request(items=(ItemRef(ref),))
    text = render_message(shipped, request, make_order(), "Acme Home")
    assert "- 3 x Blue cup" in text
    assert "Red mug" not in text and "Green plate" not in text
    assert "part of your order" in text


def test_whole_order_lists_every_item(shipped: Templates) -> None:
    text = render_message(shipped, make_request(), make_order(), "Acme Home")
    for line in ("- 2 x Red mug", "- 3 x Blue cup", "- 1 x Green plate"):
        assert line in text
    assert "cancel your order" in text


def test_every_line_listed_in_full_is_the_whole_order(shipped: Templates) -> None:
    refs = (ItemRef("MUG-RED"), ItemRef("CUP-BLUE", 3), ItemRef("00000000000103"))
    text = render_message(shipped, make_request(items=refs), make_order(), "Acme Home")
    assert "cancel your order" in text


def test_partial_quantity(shipped: Templates) -> None:
    request = make_request(items=(ItemRef("CUP-BLUE", 1),))
    text = render_message(shipped, request, make_order(), "Acme Home")
    assert "- 1 x Blue cup" in text
    case = render_support_case(shipped, request, make_order(), "partial quantity", "Acme Home")
    assert "quantity 1 of 3 ordered" in case
    assert "only the items and quantities listed above" in case


def test_unknown_order_uses_refs_as_skus(shipped: Templates) -> None:
    request = make_request(items=(ItemRef("CUP-BLUE", 2), ItemRef("MUG-RED")))
    text = render_message(shipped, request, None, "Acme Home")
    assert "- 2 x CUP-BLUE" in text
    assert "- MUG-RED" in text


@pytest.mark.parametrize(
    ("channel", "status", "expected"),
    [
        ("AFN", "Unshipped", "Fulfilled by Amazon (FBA)"),
        ("AFN", "Unshipped", "please stop the shipment"),
        ("MFN", "PartiallyShipped", "cancel only the unshipped items"),
    ],
)
def test_support_case_says_what_to_ask(
    shipped: Templates, channel: str, status: str, expected: str
) -> None:
    order = make_order(channel=channel, status=status)
    text = render_support_case(shipped, make_request(), order, "why", "Acme Home")
    assert expected in text


def test_buyer_requested_support_case_asks_to_record_it(shipped: Templates) -> None:
    request = make_request("BuyerCanceled")
    text = render_support_case(shipped, request, make_order(channel="AFN"), "FBA", "Acme Home")
    assert "requested by the buyer" in text


# --- load-time checks -----------------------------------------------------------------------

BROKEN = [
    pytest.param(
        '{% extends "cancel/_layout.j2" %}\n{% block explanation %}\nOut of stock.\n'
        "Order {{ order_number }}.\n{% endblock %}\n",
        "line 4: 'order_number' is undefined",
        id="undefined variable",
    ),
    pytest.param(
        "Hello,\n\nOrder {{ order_id }\n", "line 3: syntax error: unexpected '}'", id="syntax"
    ),
    pytest.param(
        "Hello\n{% if remedy == 'Refund' %}\nRefund\n", "syntax error", id="unclosed block"
    ),
    pytest.param(
        "Hello\n{{ ''.__class__.__mro__ }}\n",
        "line 2: access to attribute '__class__' of 'str' object is unsafe (blocked by the "
        "template sandbox)",
        id="sandbox mro",
    ),
    pytest.param(
        "{{ lipsum.__globals__['os'] }}", "line 1: access to attribute '__globals__'", id="globals"
    ),
    pytest.param(
        "{{ items.__class__.__subclasses__() }}", "blocked by the template sandbox", id="subclasses"
    ),
    pytest.param("{% set _ = items.append(1) %}{{ order_id }}", "sandbox", id="mutation"),
    pytest.param(
        "{% for item in items %}{{ item.price }}{% endfor %}",
        "has no attribute 'price'",
        id="unknown item field",
    ),
    pytest.param("{{ why }}", "'why' is undefined", id="support-case variable in a message"),
    pytest.param('{% include "cancel/_footer.j2" %}', "'cancel/_footer.j2' does not", id="include"),
]


@pytest.mark.parametrize(("source", "expected"), BROKEN)
def test_broken_template_fails_at_load(folder: Path, source: str, expected: str) -> None:
    (folder / "en_US" / "cancel" / "NoInventory.j2").write_text(source, encoding="utf-8")
    with pytest.raises(TemplateError) as e:
        load_templates(folder)
    message = str(e.value)
    assert message.startswith(str(folder / "en_US" / "cancel" / "NoInventory.j2"))
    assert expected in message
    assert "\n" not in message


def test_error_in_layout_names_the_layout(folder: Path) -> None:
    layout = folder / "de_DE" / "cancel" / "_layout.j2"
    layout.write_text(layout.read_text() + "{{ seller }}\n", encoding="utf-8")
    with pytest.raises(TemplateError, match=r"de_DE/cancel/_layout\.j2 line \d+: 'seller'"):
        load_templates(folder)


def test_relative_folder_is_named_as_given(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (folder / "en_US" / "cancel" / "NoInventory.j2").write_text("x\n\n\n{{ order_number }}")
    monkeypatch.chdir(folder.parent)
    with pytest.raises(TemplateError) as e:
        load_templates(Path("templates"))
    assert str(e.value).startswith(
        "templates/en_US/cancel/NoInventory.j2 line 4: 'order_number' is undefined"
    )


def test_support_case_variables_are_checked(folder: Path) -> None:
    (folder / "en_US" / "support_case.j2").write_text("{{ order_id }} {{ reasn }}")
    with pytest.raises(TemplateError, match=r"en_US/support_case\.j2 line 1: 'reasn' is undefined"):
        load_templates(folder)


def test_error_at_render_names_template_and_line(folder: Path) -> None:
    odd = "999-9999999-9999999"
    (folder / "en_US" / "cancel" / "NoInventory.j2").write_text(
        f'Hello\n{{% if order_id == "{odd}" %}}\n{{{{ 1 // 0 }}}}\n{{% endif %}}\n'
    )
    templates = load_templates(folder)  # the sample order is not the odd one: loads fine
    with pytest.raises(TemplateError, match=r"NoInventory\.j2 line 3: ZeroDivisionError"):
        render_message(templates, make_request(order_id=odd), None, "Acme Home")


def test_missing_folder(tmp_path: Path) -> None:
    nowhere = tmp_path / "nowhere"
    with pytest.raises(TemplateError, match=rf"does not exist; `bulk templates export {nowhere}`"):
        load_templates(nowhere)


def test_missing_default_locale_names_the_folder_to_add(folder: Path) -> None:
    with pytest.raises(TemplateError) as e:
        load_templates(folder, "da_DK")
    assert "no templates for the default locale 'da_DK' (locales found: ar_SA, de_DE, en_GB" in str(
        e.value
    )
    assert f"add {folder / 'da_DK'}/" in str(e.value)


def test_missing_default_locale_without_a_folder_says_how_to_make_one() -> None:
    with pytest.raises(TemplateError) as e:
        load_templates(None, "tlh_US")
    assert "add templates/tlh_US/ to a templates folder of your own" in str(e.value)
    assert "`bulk templates export my-templates`" in str(e.value)


def test_a_default_locale_that_is_no_locale_name_says_how_to_write_one() -> None:
    with pytest.raises(TemplateError, match=r"'klingon' is not a locale name; write it as"):
        load_templates(None, "klingon")


def test_missing_support_case_in_default_locale(folder: Path) -> None:
    (folder / "de_DE" / "support_case.j2").unlink()
    load_templates(folder, shipped=False)  # de_DE is not the default: its cases are never written
    with pytest.raises(TemplateError, match=r"support_case\.j2 is missing"):
        load_templates(folder, "de_DE", shipped=False)
    load_templates(folder, "de_DE")  # the shipped one fills the gap


def test_misspelled_reason_file(folder: Path) -> None:
    (folder / "en_US" / "cancel" / "NoInventry.j2").write_text("{{ order_id }}")
    with pytest.raises(TemplateError, match=r"'NoInventry' is not an Amazon reason code; did you"):
        load_templates(folder)


def test_misspelled_remedy_file(folder: Path) -> None:
    (folder / "en_US" / "cancel" / "NoInventory.Refnd.j2").write_text("{{ order_id }}")
    with pytest.raises(TemplateError, match=r"'Refnd' is not a remedy; did you mean 'Refund'"):
        load_templates(folder)


def test_locale_must_answer_every_reason(folder: Path) -> None:
    (folder / "de_DE" / "cancel" / "default.j2").unlink()
    load_templates(folder, shipped=False)  # every reason still has its own file
    (folder / "de_DE" / "cancel" / "CustomerReturn.j2").unlink()
    with pytest.raises(TemplateError, match=r"no template for reason 'CustomerReturn'"):
        load_templates(folder, shipped=False)


def test_misnamed_locale_folder(folder: Path) -> None:
    (folder / "de_DE").rename(folder / "de-de")
    with pytest.raises(TemplateError, match=r"rename it to 'de_DE'"):
        load_templates(folder)


def test_fallback_chain(folder: Path) -> None:
    cancel = folder / "en_US" / "cancel"
    (cancel / "NoInventory.Replacement.j2").write_text("specific {{ remedy }}")
    (cancel / "default.None.j2").write_text("default-none")
    (cancel / "CustomerReturn.j2").unlink()
    templates = load_templates(folder, shipped=False)
    render = render_message
    order = make_order()
    assert render(templates, make_request(remedy=Remedy.REPLACEMENT), order, "A") == (
        "specific Replacement"
    )
    assert "out of stock" in render(templates, make_request(), order, "A")
    # the reason's own file beats a default for the remedy
    assert "out of stock" in render(templates, make_request(remedy=Remedy.NONE), order, "A")
    returned = make_request("CustomerReturn", Remedy.NONE)
    assert render(templates, returned, order, "A") == "default-none"
    returned = make_request("CustomerReturn")
    assert "not able to fulfill it as ordered" in render(templates, returned, order, "A")


def test_other_folders_and_files_are_ignored(folder: Path) -> None:
    (folder / "notes").mkdir()
    (folder / "notes" / "draft.j2").write_text("{{ broken")
    (folder / "en_US" / "cancel" / "notes.txt").write_text("{{ broken")
    (folder / "en_US" / "cancel" / "NoInventory.j2").write_text("mine {{ order_id }}")
    templates = load_templates(folder)
    assert "notes" not in templates.locales
    assert "en_US" in templates.locales
    # The folder's own template is used; the stray files around it are not read.
    assert render_message(templates, make_request(), make_order(), "A") == f"mine {ORDER_ID}"


def test_custom_reason_label(shipped: Templates) -> None:
    request = CancelRequest(2, ORDER_ID, Reason("Sold out", "NoInventory"), "Supplier is late")
    case = render_support_case(shipped, request, make_order(), "FBA", "A")
    assert "Cancellation reason: Sold out (NoInventory)" in case


# --- lint -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "message is empty"),
        ("   \n ", "message is empty"),
        ("Hello <b>there</b>", "message contains HTML (<b>, </b>)"),
        ("Line<br/>break", "HTML (<br/>)"),
        ("Hello&nbsp;there", "HTML (&nbsp;)"),
        ("Write to help@shop-example.com today", "email address (help@shop-example.com)"),
        ("See https://example.com/x for details", "link (https://example.com/x)"),
        ("See http://example.com.", "link (http://example.com)"),
        ("See www.example.org", "link (www.example.org)"),
        ("Visit example.com now", "link (example.com)"),
        ("Visit shop.example.co.uk", "link (shop.example.co.uk)"),
        ("Besuchen Sie meinshop.de", "link (meinshop.de)"),
        ("Buy now while stocks last", '"buy now"'),
        ("Here is a 10% discount", '"discount"'),
        ("Use this coupon", '"coupon"'),
        ("Use promo code SAVE", '"promo code"'),
        ("A special offer for you", '"special offer"'),
        ("Please leave a review", '"leave a review"'),
        ("Your review matters", '"your review"'),
        ("We value your feedback", '"feedback"'),
        ("Rate us 5 stars", '"5 stars"'),
        ("Check out our new range", '"check out our"'),
        ("Our summer sale starts", '"sale"'),
        ("Get 20% off next time", '"20% off"'),
        ("Get 20 % off next time", '"20 % off"'),
        ("Sichern Sie sich 10 % Rabatt", '"rabatt"'),
        ("Ihr Rabattcode", '"rabattcode"'),
        ("Ein Gutschein für Sie", '"gutschein"'),
        ("Unser Angebot für Sie", '"angebot"'),
        ("Unsere Sonderangebote", '"sonderangebote"'),
        ("Über eine Bewertung freuen wir uns", '"bewertung"'),
        ("Bitte bewerten Sie uns", '"bewerten"'),
        ("Utilisez le code promo ÉTÉ", '"code promo"'),
        ("Un bon de réduction de 10 %", '"bon de réduction"'),
        ("Laissez-nous un avis", '"laissez-nous un avis"'),
        ("Pourriez-vous laisser un commentaire ?", '"laisser un commentaire"'),
        ("Nos offres spéciales", '"offres spéciales"'),
        ("Profitez des soldes", '"soldes"'),
        ("Notez-nous 5 étoiles", '"5 étoiles"'),
        ("Uno sconto del 10% per lei", '"sconto"'),
        ("Ecco un buono sconto", '"buono sconto"'),
        ("Lasci una recensione", '"recensione"'),
        ("Ci dia cinque stelle", '"cinque stelle"'),
        ("Le ofrecemos un descuento", '"descuento"'),
        ("Un cupón para usted", '"cupón"'),
        ("Use el código promocional", '"código promocional"'),
        ("Deje una reseña", '"reseña"'),
        ("Su valoración nos ayuda", '"valoración"'),
        ("レビューをお願いいたします", '"レビュー"'),
        ("次回使えるクーポンです", '"クーポン"'),
        ("10％オフでご提供します", '"10％オフ"'),
        ("星5つのご評価をお願いします", '"星5"'),
    ],
)
def test_lint_catches(text: str, expected: str) -> None:
    problems = lint_message(text)
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    "text",
    [
        "Hello, your order 112-0000001-0000001 was cancelled. Kind regards, Acme",
        "We reviewed your order, e.g. the address, and i.e. the items.",
        "Wir haben Ihnen Ersatz angeboten. Bitte prüfen Sie z.B. Ihre Adresse.",
        "Version 2.0 of the mug, 5. März 2025, 3 < 4 and 5 > 2.",
        "Amazon bestätigt Ihnen die Stornierung zusätzlich per E-Mail.",
        "Wholesale and resale items are unaffected.",
        "Node.js mug and a 2.5 kg bag",
        "À votre avis, l'adresse est-elle correcte ? Le reste de la commande est offert.",
        "Il prezzo resta saldo e la merce le è stata offerta in sostituzione.",
        "Le ofrecemos un producto de sustitución; su opinión nos importa.",
        "ご注文の商品を確認いたしました。評価額は変わりません。",
    ],
)
def test_lint_passes_ordinary_text(text: str) -> None:
    assert lint_message(text) == []


# What Amazon forbids, in each shipped language (docs/amazon.md, "Messaging rules"): the
# issue's own examples first. Each case names the locale whose wording it uses.
PHONE, APP, CODE, LINK, MAIL = (
    "phone number",
    "messaging app or social account",
    "discount or promo code",
    "link",
    "email address",
)
FORBIDDEN = [
    ("en_US", "Call us on +1 (555) 123-4567", PHONE, "+1 (555) 123-4567"),
    ("en_US", "Please message us on WhatsApp", APP, "WhatsApp"),
    ("en_US", "Use code THANKS10 at checkout next time", CODE, "code THANKS10"),
    ("en_US", "Questions? Call (555) 123-4567", PHONE, "(555) 123-4567"),
    ("en_US", "Or ring 555.123.4567 any time", PHONE, "555.123.4567"),
    ("en_US", "Follow @acme_home for news", APP, "@acme_home"),
    ("en_US", "Find us on Instagram", APP, "Instagram"),
    ("en_US", "Reach us at shop.example.com", LINK, "shop.example.com"),
    ("en_US", "Write to help@example.com", MAIL, "help@example.com"),
    ("en_GB", "Ring us on 020 7946 0958", PHONE, "020 7946 0958"),
    ("en_GB", "Text us on Telegram", APP, "Telegram"),
    ("en_GB", "Enter voucher code SPRING15", CODE, "code SPRING15"),
    ("de_DE", "Rufen Sie uns an: 030 1234567", PHONE, "030 1234567"),
    ("de_DE", "Telefon +49 30 1234567", PHONE, "+49 30 1234567"),
    ("de_DE", "Schreiben Sie uns per WhatsApp", APP, "WhatsApp"),
    ("de_DE", "Mit dem Gutscheincode SOMMER20 sparen", CODE, "Gutscheincode SOMMER20"),
    ("fr_FR", "Appelez-nous au 01 23 45 67 89", PHONE, "01 23 45 67 89"),
    ("fr_FR", "Contactez-nous au +33 1 23 45 67 89", PHONE, "+33 1 23 45 67 89"),
    ("fr_FR", "Suivez-nous sur Instagram", APP, "Instagram"),
    ("fr_FR", "Avec le code promo BIENVENUE10", CODE, "code promo BIENVENUE10"),
    ("it_IT", "Ci chiami al 06 1234 5678", PHONE, "06 1234 5678"),
    ("it_IT", "Ci scriva su Telegram", APP, "Telegram"),
    ("it_IT", "Usi il codice sconto ESTATE10", CODE, "codice sconto ESTATE10"),
    ("es_ES", "Llámenos al +34 912 345 678", PHONE, "+34 912 345 678"),
    ("es_ES", "Escríbanos por WhatsApp", APP, "WhatsApp"),
    ("es_ES", "Con el código de descuento VERANO10", CODE, "código de descuento VERANO10"),
    ("ja_JP", "お電話は03-1234-5678までお願いします", PHONE, "03-1234-5678"),
    ("ja_JP", "LINEでお問い合わせください", APP, "LINE"),
    ("ja_JP", "WeChatでもご連絡いただけます", APP, "WeChat"),
    ("ja_JP", "クーポンコード SAKURA10 をご利用ください", CODE, "クーポンコード SAKURA10"),
    ("nl_NL", "Bel ons op 06-12345678", PHONE, "06-12345678"),
    ("nl_NL", "Stuur ons een bericht via WhatsApp", APP, "WhatsApp"),
    ("nl_NL", "Met kortingscode ZOMER10 bespaart u", CODE, "kortingscode ZOMER10"),
    ("pl_PL", "Prosimy o kontakt pod numerem +48 601 234 567", PHONE, "+48 601 234 567"),
    ("pl_PL", "Napisz do nas na Facebook", APP, "Facebook"),
    ("pl_PL", "Z kodem rabatowym RABAT15 taniej", CODE, "kodem rabatowym RABAT15"),
    ("sv_SE", "Ring oss på 08-123 456 78", PHONE, "08-123 456 78"),
    ("sv_SE", "Följ oss på Instagram", APP, "Instagram"),
    ("sv_SE", "Använd rabattkod SOMMAR10", CODE, "rabattkod SOMMAR10"),
    ("tr_TR", "Bizi 0212 123 45 67 numaralı telefondan arayın", PHONE, "0212 123 45 67"),
    ("tr_TR", "Bize WhatsApp üzerinden yazın", APP, "WhatsApp"),
    ("tr_TR", "İndirim kodu YAZ2024 ile", CODE, "kodu YAZ2024"),
    ("pt_BR", "Ligue para (11) 91234-5678", PHONE, "(11) 91234-5678"),
    ("pt_BR", "Fale com a gente no WhatsApp", APP, "WhatsApp"),
    ("pt_BR", "Use o cupom BEMVINDO10", CODE, "cupom BEMVINDO10"),
]


@pytest.mark.parametrize(("locale", "text", "kind", "shown"), FORBIDDEN)
def test_lint_catches_contact_outside_amazon_and_codes(
    locale: str, text: str, kind: str, shown: str
) -> None:
    problems = [p for p in lint_message(text) if kind in p]
    assert problems, (locale, lint_message(text))
    assert f"({shown})" in problems[0] or f"({shown}," in problems[0], problems


# Plain words that look like the above and must pass, in each shipped language.
ORDINARY = [
    ("en_US", "Our team will review the stock levels"),
    ("en_US", "We will review your order 112-0000001-0000001 from 2025-03-05 again."),
    ("en_US", "The line was busy, so the courier left; 2 x Mug 350 ml, pack of 12."),
    ("en_US", "Item 40318872216041 is the 1000 ml kettle; expected in 6 to 8 weeks."),
    ("en_GB", "Our warehouse team will review the remaining stock this week."),
    ("de_DE", "Unser Team prüft den Lagerbestand bis zum 12.03.2025 erneut."),
    ("fr_FR", "Notre équipe va revoir le stock ; commande du 05/03/2025."),
    ("it_IT", "Il nostro team verificherà le scorte entro il 12/03/2025."),
    ("es_ES", "Nuestro equipo revisará el inventario; su opinión nos importa."),
    ("ja_JP", "在庫状況を改めて確認いたします。2025年3月5日のご注文です。"),
    ("nl_NL", "Ons team controleert de voorraad opnieuw; het artikel is 2 x 500 ml."),
    ("pl_PL", "Nasz zespół ponownie sprawdzi stan magazynu do 12.03.2025."),
    ("sv_SE", "Vårt team går igenom lagret igen; området runt lagret är stängt."),
    ("tr_TR", "Ekibimiz stok durumunu yeniden gözden geçirecek."),
    ("pt_BR", "Nossa equipe vai revisar o estoque; o pedido é de 05/03/2025."),
]


@pytest.mark.parametrize(("locale", "text"), ORDINARY)
def test_lint_lets_plain_words_through(locale: str, text: str) -> None:
    assert lint_message(text) == [], locale


def test_lint_reports_each_problem_once() -> None:
    problems = lint_message("Leave a review at www.example.com or mail a@b.com for a coupon")
    assert len(problems) == 3
    assert problems[2] == (
        'message reads as marketing ("leave a review", "coupon"); '
        "Amazon allows messages only to complete an order or resolve a problem"
    )


@pytest.mark.parametrize(
    ("length", "flagged"), [(1, False), (1999, False), (2000, False), (2001, True), (2104, True)]
)
def test_lint_length(length: int, flagged: bool) -> None:
    problems = lint_message("  " + "a" * length + "\n\n")
    expected = [f"message is {length} characters; Amazon allows at most 2000"] if flagged else []
    assert problems == expected


def test_long_item_list_is_flagged(shipped: Templates) -> None:
    items = tuple(
        OrderItem(f"{i:014d}", f"SKU-{i}", "A very long product title " * 4, 1) for i in range(40)
    )
    order = Order(ORDER_ID, "Unshipped", "MFN", datetime(2025, 3, 5, tzinfo=UTC), items=items)
    text = render_message(shipped, make_request(), order, "Acme Home")
    assert len(text) > 2000
    assert lint_message(text)[0].startswith(f"message is {len(text)} characters")


# --- the shipped set and an override folder ---------------------------------------------------


def test_the_shipped_templates_load_with_no_folder() -> None:
    templates = load_templates()
    assert templates.locales == tuple(sorted(LOCALES))
    assert templates.override is None
    text = render_message(templates, make_request(), make_order(), "Acme Home")
    assert text == render_message(shipped_with("en_US"), make_request(), make_order(), "Acme Home")


def test_one_file_in_the_override_folder_wins_and_the_rest_comes_from_bulk(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    (mine / "en_US" / "cancel").mkdir(parents=True)
    (mine / "en_US" / "cancel" / "NoInventory.j2").write_text("Ours: {{ order_id }}\n")
    templates = load_templates(mine)
    order = make_order()
    assert render_message(templates, make_request(), order, "A") == f"Ours: {ORDER_ID}"
    returned = render_message(templates, make_request("CustomerReturn"), order, "A")
    assert returned == render_message(
        shipped_with("en_US"), make_request("CustomerReturn"), order, "A"
    )
    assert templates.locale_for("de_DE") == "de_DE"  # the shipped German set is still there
    assert templates.path_of("en_US", "cancel/NoInventory.j2") == str(
        mine / "en_US" / "cancel" / "NoInventory.j2"
    )


def test_an_override_folder_may_add_a_locale(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    (mine / "da_DK" / "cancel").mkdir(parents=True)
    (mine / "da_DK" / "cancel" / "default.j2").write_text("Goddag, {{ order_id }}\n")
    templates = load_templates(mine)
    assert templates.locales == tuple(sorted([*LOCALES, "da_DK"]))
    text = render_message(templates, make_request(), make_order("da_DK"), "A")
    assert text == f"Goddag, {ORDER_ID}"


def test_a_broken_override_file_is_named_by_its_path(tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    (mine / "en_US" / "cancel").mkdir(parents=True)
    (mine / "en_US" / "cancel" / "NoInventory.j2").write_text("{{ order_number }}")
    with pytest.raises(TemplateError) as e:
        load_templates(mine)
    assert str(e.value).startswith(f"{mine / 'en_US' / 'cancel' / 'NoInventory.j2'} line 1:")


def test_export_copies_the_shipped_set_and_never_overwrites(tmp_path: Path) -> None:
    out = tmp_path / "out"
    written = export_templates(out)
    shipped = sorted(
        p.relative_to(SHIPPED)
        for p in SHIPPED.rglob("*")
        if p.is_file() and p.name != "__init__.py" and "__pycache__" not in p.parts
    )
    assert sorted(p.relative_to(out) for p in written) == shipped
    assert all((out / f).read_bytes() == (SHIPPED / f).read_bytes() for f in shipped)
    load_templates(out, shipped=False)  # a whole set on its own
    edited = out / "en_US" / "cancel" / "NoInventory.j2"
    edited.write_text("edited {{ order_id }}")
    with pytest.raises(TemplateError, match=r"already holds .* and \d+ more; nothing was copied"):
        export_templates(out)
    assert edited.read_text() == "edited {{ order_id }}"


def test_export_into_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(TemplateError, match="is a file"):
        export_templates(tmp_path / "file")
