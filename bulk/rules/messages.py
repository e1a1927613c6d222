"""Customer messages and Seller Support cases: the template folder and sandboxed rendering."""

from __future__ import annotations

import functools
import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, tzinfo
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import (
    BaseLoader,
    Environment,
    StrictUndefined,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
)
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from bulk import __version__, config, marketplaces, models
from bulk.config import REASON_LABELS
from bulk.errors import TemplateError, closest
from bulk.infra import cache
from bulk.infra.resources import PACKAGED_TEMPLATES_LABEL, label, packaged_templates, walk
from bulk.models import (
    CANCEL_REASON_CODES,
    ORDER_ITEM_ID_RE,
    CancelRequest,
    Order,
    OrderItem,
    Remedy,
)

CANCEL_FOLDER = "cancel"
DEFAULT_TEMPLATE = "default"
SUPPORT_CASE = "support_case.j2"
SUFFIX = ".j2"

_LOCALE_RE = re.compile(r"^([A-Za-z]{2,3})(?:[_-]([A-Za-z]{2}))?$")


@dataclass(frozen=True, eq=False)
class Templates:
    """Loaded and checked templates: one sandboxed Jinja environment per locale folder.

    The set is the templates shipped in the package, with the files of an override folder
    (`[messages] templates`) laid over them: a file there wins, a file missing there comes
    from the shipped set.
    """

    override: Path | None  # the team's folder, as configured; None: the shipped set only
    default_locale: str
    environments: Mapping[str, ImmutableSandboxedEnvironment]
    names: Mapping[str, frozenset[str]]  # template names (posix, relative to the locale folder)
    filenames: frozenset[str]  # every file's path as Jinja reports it in tracebacks
    paths: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (locale, name) -> file

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(sorted(self.environments))

    def locale_for(self, buyer_locale: str, market_locale: str = "") -> str:
        """The locale folder for a buyer: the buyer's language where a folder speaks it, else
        the language of the marketplace the order was placed in, else the default locale.

        A Catalan-speaking buyer on amazon.es reads Spanish, not the team's English.
        """
        for wanted in (buyer_locale, market_locale):
            found = self._speaking(_normal_locale(wanted))
            if found:
                return found
        return self.default_locale

    def _speaking(self, wanted: str) -> str:
        """The folder for `wanted`: exactly that one, else one of the same language; "" if none."""
        if wanted in self.environments:
            return wanted
        language = wanted.split("_")[0]
        if not language:
            return ""
        same = [loc for loc in self.locales if loc.split("_")[0] == language]
        for preferred in (language, self.default_locale, f"{language}_{language.upper()}"):
            if preferred in same:
                return preferred
        return same[0] if same else ""

    def cancel_template(self, locale: str, reason_code: str, remedy: Remedy) -> str:
        """The template name for a message: reason.remedy, reason, default.remedy, default."""
        names = self.names[locale]
        for stem in (
            f"{reason_code}.{remedy.value}",
            reason_code,
            f"{DEFAULT_TEMPLATE}.{remedy.value}",
            DEFAULT_TEMPLATE,
        ):
            name = f"{CANCEL_FOLDER}/{stem}{SUFFIX}"
            if name in names:
                return name
        raise TemplateError(
            f"{self.path_of(locale, CANCEL_FOLDER)} has no template for reason '{reason_code}'; "
            f"add {CANCEL_FOLDER}/{reason_code}{SUFFIX} or {CANCEL_FOLDER}/{DEFAULT_TEMPLATE}{SUFFIX}"
        )

    def path_of(self, locale: str, name: str) -> str:
        """How a template is named in error messages: the file it came from, else where to add
        it (the override folder as configured, or `templates/`)."""
        found = self.paths.get((locale, name))
        if found is not None:
            return found
        return os.fspath((self.override or Path("templates")) / locale / name)


def load_templates(
    folder: Path | None = None, default_locale: str = "en_US", *, shipped: bool = True
) -> Templates:
    """Load every locale folder, compile every template and render each with sample data.

    `folder` is the team's override folder; with `shipped` its files are laid over the
    templates that come with bulk, else it must hold a whole set. Any syntax error, unknown
    variable or sandbox violation raises TemplateError here, before a single message is
    written or sent.
    """
    sources: dict[str, dict[str, tuple[str, str]]] = {}  # locale -> name -> (text, file)
    if shipped:
        _collect(packaged_templates(), None, sources)
    if folder is not None:
        if not folder.is_dir():
            raise TemplateError(
                f"templates folder {folder} ([messages] templates) does not exist; "
                f"`bulk templates export {folder}` copies bulk's own templates there to edit, "
                "or remove the setting to use them as they are"
            )
        _collect(folder, folder, sources)
    default = _normal_locale(default_locale)
    if default not in sources:
        found = ", ".join(sorted(sources)) or "none"
        where = folder or Path("templates")
        if not default:
            raise TemplateError(
                f"[messages] default_locale {default_locale!r} is not a locale name; write it "
                f"as language_COUNTRY (en_US, de_DE, fr_FR) and add that folder, e.g. "
                f"{where / 'fr_FR'}/, to your templates folder (locales found: {found})"
            )
        how = (
            f"add {where / default}/ (copy {where / 'en_US'}/ and translate it)"
            if folder is not None
            else f"add {where / default}/ to a templates folder of your own "
            f"(`bulk templates export my-templates`, then [messages] templates = "
            f'"my-templates")'
        )
        raise TemplateError(
            f"no templates for the default locale '{default}' (locales found: {found}); "
            f"{how}, or set [messages] default_locale in bulk.toml to one of the locales found"
        )
    templates = Templates(
        override=folder,
        default_locale=default,
        environments={locale: _environment(files) for locale, files in sorted(sources.items())},
        names={
            locale: frozenset(n for n in files if n.endswith(SUFFIX))
            for locale, files in sources.items()
        },
        filenames=frozenset(
            os.path.normpath(file) for files in sources.values() for _, file in files.values()
        ),
        paths={
            (locale, name): file
            for locale, files in sources.items()
            for name, (_, file) in files.items()
        },
    )
    # The self-check renders every template in every shape (most of a small run's time): a set
    # that passed it once, with this version of bulk, passes it again.
    key = _check_key(default, sources)
    if not cache.known("templates-checked", key):
        for locale in templates.locales:
            _check_locale(templates, locale)
        cache.remember("templates-checked", key)
    return templates


def _check_key(default: str, sources: Mapping[str, Mapping[str, tuple[str, str]]]) -> str:
    """A hash of all the self-check depends on: the templates (text and file), the default
    locale, bulk's version and the code that checks them."""
    code = [
        Path(m.__file__).read_bytes() for m in (sys.modules[__name__], models, config) if m.__file__
    ]
    texts = [
        f"{locale}\0{name}\0{file}\0{text}"
        for locale, files in sorted(sources.items())
        for name, (text, file) in sorted(files.items())
    ]
    return cache.digest(__version__, default, *code, *texts)


def _collect(
    root: Traversable, folder: Path | None, sources: dict[str, dict[str, tuple[str, str]]]
) -> None:
    """Add every locale folder's files under `root` to `sources`, over what is there."""
    for sub in sorted(root.iterdir(), key=lambda e: e.name):
        if not sub.is_dir() or sub.name.startswith((".", "_")):
            continue
        if not _LOCALE_RE.match(sub.name):
            continue  # not a locale folder (shared notes, drafts): ignored
        if _normal_locale(sub.name) != sub.name:
            raise TemplateError(
                f"locale folder {label(sub, sub.name)} is misnamed; rename it to "
                f"'{_normal_locale(sub.name)}' (language in lower case, underscore, country "
                "in upper case)"
            )
        files = sources.setdefault(sub.name, {})
        for name, entry in walk(sub):
            file = label(entry, f"{PACKAGED_TEMPLATES_LABEL}/{sub.name}/{name}")
            if folder is not None:
                file = os.fspath(folder / sub.name / name)  # the folder as the user gave it
            try:
                text = entry.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                if name.endswith(SUFFIX):
                    raise TemplateError(f"{file} is not UTF-8 text; save it as UTF-8") from None
                continue  # not a template (a picture, notes in another encoding)
            files[name] = (text, file)


def message_locale(templates: Templates, order: Order | None) -> str:
    """The locale folder a customer message is written from (Templates.locale_for)."""
    if order is None:
        return templates.default_locale
    market = marketplaces.by_id(order.marketplace_id)
    return templates.locale_for(order.locale, market.locale if market else "")


# Message Status for a row whose buyer asked to cancel: Amazon confirms the cancellation to the
# buyer itself, and a seller message that only repeats it has no permitted purpose
# (docs/amazon.md, "Messaging rules").
BUYER_REQUESTED_NO_MESSAGE = (
    "no message: the buyer asked to cancel and Amazon confirms it to them; set Notify to Yes "
    "to send one anyway"
)
NOTIFY_NO = "not requested (Notify is No)"


def why_no_message(request: CancelRequest, order: Order | None) -> str:
    """Why a row's customer message is not to be sent, before it is rendered; "" to send it.

    Notify No sends nothing; a buyer-requested cancellation (the reason says so, or Amazon
    shows the buyer's request) is messaged only when Notify says Yes in the row itself.
    """
    if not request.notify:
        return NOTIFY_NO
    asked = request.reason.buyer_requested or (order is not None and order.buyer_requested_cancel)
    if asked and not request.notify_explicit:
        return BUYER_REQUESTED_NO_MESSAGE
    return ""


def render_message(
    templates: Templates, request: CancelRequest, order: Order | None, seller_name: str
) -> str:
    """The customer message for one request, in the buyer's language where a template exists."""
    locale = message_locale(templates, order)
    name = templates.cancel_template(locale, request.reason.code, request.remedy)
    return render_template(
        templates, locale, name, message_context(request, order, seller_name, locale)
    )


def render_support_case(
    templates: Templates, request: CancelRequest, order: Order | None, why: str, seller_name: str
) -> str:
    """A ready-to-paste Seller Support case, in the team's language (the default locale)."""
    locale = templates.default_locale
    context = message_context(request, order, seller_name, locale)
    context.update(
        details=request.details,
        why=why,
        channel=order.channel if order else "",
        order_status=order.status if order else "",
    )
    return render_template(templates, locale, SUPPORT_CASE, context)


def message_context(
    request: CancelRequest, order: Order | None, seller_name: str, locale: str
) -> dict[str, Any]:
    """The variables a customer message template sees (templates/README.md lists them).

    Details are not among them: they are the team's words, never the buyer's (the Seller
    Support case adds them). The Note to Buyer is the only staff text a message may quote.
    Besides the seller's name and the locale, every variable comes from the row's order id,
    `purchase_date`, `message_items` or `message_inputs` (bulk.rules.message_shapes relies on it).
    """
    items, whole_order = message_items(request, order)
    label, code, note, remedy, buyer_locale, buyer_requested = message_inputs(request, order)
    return {
        "order_id": request.order_id,
        "purchase_date": purchase_date(order, locale),
        "items": items,
        "whole_order": whole_order,
        "reason": label,
        "reason_code": code,
        "note": note,
        "remedy": remedy.value,
        "seller_name": seller_name,
        "buyer_locale": buyer_locale,
        # Amazon shows the buyer's own cancellation request on the order ("as you requested").
        "buyer_requested": buyer_requested,
    }


def message_inputs(
    request: CancelRequest, order: Order | None
) -> tuple[str, str, str, Remedy, str, bool]:
    """What a customer message reads of a row besides its order id, purchase date and items:
    the reason's label and code, the Note to Buyer, the remedy, the buyer's locale and whether
    the buyer asked Amazon to cancel."""
    return (
        request.reason.label,
        request.reason.code,
        request.note,
        request.remedy,
        order.locale if order else "",
        bool(order and order.buyer_requested_cancel),
    )


def purchase_date(order: Order | None, locale: str) -> str:
    """The order's date as a message writes it for the buyer; "" when it is unknown."""
    if order is None or not order.purchased:
        return ""
    return format_date(order_day(order.purchased, order.marketplace_id), locale)


def order_day(purchased: datetime, marketplace_id: str) -> date:
    """The order date as the buyer knows it: the purchase's day in the marketplace's zone (an
    order placed at 00:30 in Tokyo is that day's, though it is the day before in UTC)."""
    moment = purchased if purchased.tzinfo else purchased.replace(tzinfo=UTC)
    return moment.astimezone(_market_zone(marketplace_id)).date()


@functools.lru_cache(maxsize=64)
def _market_zone(marketplace_id: str) -> tzinfo:
    market = marketplaces.by_id(marketplace_id)
    return ZoneInfo(market.timezone) if market else UTC


@functools.lru_cache(maxsize=1024)
def format_date(day: date, locale: str) -> str:
    """A date written out the locale's way (CLDR's long form, through Babel): "March 5, 2025",
    "5. März 2025", "5 maart 2025", "2025年3月5日"; ISO 8601 for a locale Babel does not know."""
    # Imported here: Babel's date module takes about 50 ms to load, which a command that sends
    # no message (bulk --help, bulk status) should not pay.
    from babel import UnknownLocaleError
    from babel import dates as babel_dates

    try:
        return babel_dates.format_date(day, "long", locale=locale or "en_US")
    except (ValueError, UnknownLocaleError):
        return day.isoformat()


# --- loading and rendering ---------------------------------------------------------------------


class _Loader(BaseLoader):
    """One locale's template files, read once at load (shipped and override alike)."""

    def __init__(self, files: Mapping[str, tuple[str, str]]) -> None:
        self._files = files

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        found = self._files.get(template)
        if found is None:
            raise TemplateNotFound(template)
        text, file = found
        return text, file, lambda: True


def _environment(files: Mapping[str, tuple[str, str]]) -> ImmutableSandboxedEnvironment:
    # Sandboxed because staff edit these files: a template can read the variables it is given
    # and nothing else (no attribute walks to Python internals, no mutation of the context).
    return ImmutableSandboxedEnvironment(
        loader=_Loader(files),
        undefined=StrictUndefined,
        autoescape=False,  # plain text; Amazon rejects HTML anyway
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_blank_none,
        # A run renders thousands of messages from files read once: never look again.
        auto_reload=False,
        cache_size=-1,
    )


def _blank_none(value: Any) -> Any:
    """`{{ item.quantity }}` of an unknown quantity prints nothing rather than "None"."""
    return "" if value is None else value


def _normal_locale(value: str) -> str:
    m = _LOCALE_RE.match(value.strip())
    if not m:
        return ""
    language, country = m.group(1).lower(), m.group(2)
    return f"{language}_{country.upper()}" if country else language


def _check_locale(templates: Templates, locale: str) -> None:
    names = templates.names[locale]
    for name in sorted(names):
        for context in _sample_contexts(templates, locale, name):
            render_template(templates, locale, name, context)
    # A locale folder must answer every reason, or a buyer would get no message at all.
    for code in CANCEL_REASON_CODES:
        for remedy in Remedy:
            templates.cancel_template(locale, code, remedy)
    if locale == templates.default_locale and SUPPORT_CASE not in names:
        raise TemplateError(
            f"{templates.path_of(locale, SUPPORT_CASE)} is missing; Seller Support cases are "
            f"written in the default locale, so add it (copy it from the templates that come "
            f"with bulk)"
        )


def _sample_contexts(templates: Templates, locale: str, name: str) -> Iterator[dict[str, Any]]:
    """Every context a template will meet, in each shape (whole, partial, unknown order)."""
    codes: tuple[str, ...] = CANCEL_REASON_CODES
    remedies: tuple[Remedy, ...] = tuple(Remedy)
    support = True
    if name.startswith(f"{CANCEL_FOLDER}/"):
        support = False
        file = name.removeprefix(f"{CANCEL_FOLDER}/")
        if "/" not in file and not file.startswith("_"):
            stem, _, remedy_name = file.removesuffix(SUFFIX).partition(".")
            codes, remedies = _cancel_variant(templates, locale, name, stem, remedy_name)
    for code in codes:
        for remedy in remedies:
            for shape in ("whole", "partial", "unknown"):
                yield _sample(code, remedy, shape, locale, support)


def _cancel_variant(
    templates: Templates, locale: str, name: str, stem: str, remedy_name: str
) -> tuple[tuple[str, ...], tuple[Remedy, ...]]:
    path = templates.path_of(locale, name)
    if stem != DEFAULT_TEMPLATE and stem not in CANCEL_REASON_CODES:
        raise TemplateError(
            f"{path}: '{stem}' is not an Amazon reason code; "
            f"{_hint(stem, [*CANCEL_REASON_CODES, DEFAULT_TEMPLATE])}"
        )
    remedies: tuple[Remedy, ...] = tuple(Remedy)
    if remedy_name:
        if remedy_name not in [r.value for r in Remedy]:
            raise TemplateError(
                f"{path}: '{remedy_name}' is not a remedy; "
                f"{_hint(remedy_name, [r.value for r in Remedy])}"
            )
        remedies = (Remedy(remedy_name),)
    codes = CANCEL_REASON_CODES if stem == DEFAULT_TEMPLATE else (stem,)
    return codes, remedies


def _hint(value: str, known: list[str]) -> str:
    close = closest(value, known)
    return f"did you mean '{close}'?" if close else "expected one of " + ", ".join(known)


def _sample(code: str, remedy: Remedy, shape: str, locale: str, support: bool) -> dict[str, Any]:
    label = next((r.label for r in REASON_LABELS if r.code == code), code)
    item = _item(OrderItem("00000000000101", "MUG-RED", "Red mug", 2), 2)
    context: dict[str, Any] = {
        "order_id": "112-0000001-0000001",
        "purchase_date": format_date(date(2025, 3, 5), locale),
        "items": [item],
        "whole_order": True,
        "reason": label,
        "reason_code": code,
        "note": "A sample note to the buyer.",
        "remedy": remedy.value,
        "seller_name": "Sample Store",
        "buyer_locale": locale,
        "buyer_requested": code == "BuyerCanceled",
    }
    extra = {
        "details": "Sample details written by the team.",
        "why": "this is a sample order",
        "channel": "MFN",
        "order_status": "Unshipped",
    }
    if shape == "partial":
        partial = _item(OrderItem("00000000000102", "CUP-BLUE", "Blue cup", 3), 1)
        context.update(items=[partial, _unknown_item("PLATE-GREEN", None)], whole_order=False)
        extra.update(channel="AFN", order_status="PartiallyShipped")
    elif shape == "unknown":
        context.update(purchase_date="", items=[], buyer_locale="", note="", buyer_requested=False)
        extra.update(channel="", order_status="")
    if support:
        context.update(extra)
    return context


# The fields of every item a message template sees (`_item`, `_unknown_item`).
ITEM_FIELDS = frozenset({"title", "sku", "order_item_id", "quantity", "quantity_ordered"})


def _item(item: OrderItem, quantity: int | None) -> dict[str, Any]:
    return {
        "title": item.title,
        "sku": item.sku,
        "order_item_id": item.order_item_id,
        "quantity": quantity,
        "quantity_ordered": item.quantity_ordered,
    }


def _unknown_item(ref: str, quantity: int | None) -> dict[str, Any]:
    """A line named in the Items column that the order does not show (or no order was found)."""
    is_item_id = ORDER_ITEM_ID_RE.match(ref) is not None
    return {
        "title": "",
        "sku": ref,
        "order_item_id": ref if is_item_id else "",
        "quantity": quantity,
        "quantity_ordered": None,
    }


def message_items(request: CancelRequest, order: Order | None) -> tuple[list[dict[str, Any]], bool]:
    """The lines being cancelled, and whether that is the whole order."""
    if order is None:
        return [_unknown_item(ref.ref, ref.quantity) for ref in request.items], not request.items
    if not request.items:
        return [_item(i, i.quantity_ordered) for i in order.items], True
    chosen: list[dict[str, Any]] = []
    seen: set[str] = set()
    full_lines: set[str] = set()
    for ref in request.items:
        matches = [i for i in order.items if ref.ref in (i.sku, i.order_item_id)]
        if not matches:
            chosen.append(_unknown_item(ref.ref, ref.quantity))
        for line in matches:
            if line.order_item_id in seen:
                continue
            seen.add(line.order_item_id)
            quantity = ref.quantity if ref.quantity is not None else line.quantity_ordered
            if quantity >= line.quantity_ordered:
                full_lines.add(line.order_item_id)
            chosen.append(_item(line, quantity))
    whole = bool(order.items) and all(i.order_item_id in full_lines for i in order.items)
    return chosen, whole


def render_template(
    templates: Templates, locale: str, name: str, context: Mapping[str, Any]
) -> str:
    env = templates.environments[locale]
    try:
        text = env.get_template(name).render(context)
    except Exception as e:  # template code is staff-written: any failure is theirs to fix
        raise TemplateError(_describe(e, templates, templates.path_of(locale, name))) from e
    return _tidy(text)


def _describe(exc: Exception, templates: Templates, path: str) -> str:
    """One line: the template file, its line, and the problem."""
    line: int | None = None
    if isinstance(exc, TemplateSyntaxError):
        path = exc.filename or path
        line = exc.lineno
        problem = f"syntax error: {exc.message or exc}"
    else:
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename in templates.filenames:
                path, line = frame.filename, frame.lineno
        if isinstance(exc, SecurityError):
            problem = f"{str(exc).rstrip('.')} (blocked by the template sandbox)"
        elif isinstance(exc, TemplateNotFound):
            problem = f"included template '{exc.name}' does not exist"
        elif isinstance(exc, UndefinedError):
            problem = f"{exc} (the variables are listed in README.md in the templates folder)"
        else:
            problem = f"{type(exc).__name__}: {exc}"
    where = f"{path} line {line}" if line else path
    return f"{where}: {problem}"


def _tidy(text: str) -> str:
    """Plain text as Amazon shows it: no trailing spaces, at most one blank line in a row."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- export ----------------------------------------------------------------------------------


def export_templates(dest: Path) -> list[Path]:
    """Copy the templates shipped with bulk into `dest` to edit; never overwrites a file."""
    files = list(walk(packaged_templates()))
    if dest.exists() and not dest.is_dir():
        raise TemplateError(f"{dest} is a file; export the templates into a folder")
    clashes = [dest / name for name, _ in files if (dest / name).exists()]
    if clashes:
        more = f" and {len(clashes) - 1} more" if len(clashes) > 1 else ""
        raise TemplateError(
            f"{dest} already holds {clashes[0]}{more}; nothing was copied: export into a new "
            "or empty folder (your changes there stay yours)"
        )
    written = []
    for name, entry in files:
        target = dest / name
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "xb") as f:
                f.write(entry.read_bytes())
        except OSError as e:
            raise TemplateError(f"cannot write {target}: {e.strerror or e}") from None
        written.append(target)
    return written
