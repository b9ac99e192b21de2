"""The PDF of a quote, rendered by the app (fpdf2, pure Python, no network).

Fonts: ``KITH_PDF_FONT`` (a TTF/OTF/TTC file) is the text font when set; else DejaVu Sans when installed.
Chinese, Japanese and Korean text comes from a CJK font used as fallback: ``KITH_PDF_CJK_FONT`` when set,
else the first found of the usual Debian ones (``fonts-noto-cjk``, ``fonts-wqy-microhei``,
``fonts-wqy-zenhei``, ``fonts-arphic-uming``, ``fonts-droid-fallback``). Without any TrueType font the
PDF uses the built-in Helvetica and characters it cannot show become "?": rendering never fails for a
missing font.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from kith.sales.models import Quote

logger = logging.getLogger(__name__)

LATIN_FONTS = (
    (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    ),
    (
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Bold.ttf",
    ),
)
CJK_FONTS = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


@dataclass(frozen=True)
class Fonts:
    regular: str | None  # None: the built-in Helvetica (Latin-1 only)
    bold: str | None
    cjk: str | None


def _file(value: Any) -> str | None:
    path = str(value or "").strip()
    return path if path and Path(path).is_file() else None


def find_fonts() -> Fonts:
    """The fonts the PDF uses on this machine (settings first, then the usual Debian paths)."""
    regular = _file(getattr(settings, "KITH_PDF_FONT", ""))
    bold = _file(getattr(settings, "KITH_PDF_FONT_BOLD", "")) if regular else None
    if regular is None:
        for normal, heavy in LATIN_FONTS:
            if _file(normal):
                regular, bold = normal, _file(heavy)
                break
    cjk = _file(getattr(settings, "KITH_PDF_CJK_FONT", ""))
    if cjk is None:
        cjk = next((path for path in CJK_FONTS if _file(path)), None)
    if regular is None and cjk is not None:
        regular, cjk = cjk, None
    return Fonts(regular=regular, bold=bold, cjk=cjk)


def _money(amount: Decimal) -> str:
    return f"{amount:,}"


def _number(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


class _Writer:
    """fpdf2 with the fonts found; ``text`` makes a string safe for the font in use."""

    def __init__(self, fonts: Fonts) -> None:
        from fpdf import FPDF

        self.pdf = FPDF(format="A4", unit="mm")
        self.pdf.set_auto_page_break(auto=True, margin=15)
        self.pdf.set_margins(15, 15, 15)
        self.unicode = False
        self.family = "helvetica"
        self.has_bold = True
        try:
            if fonts.regular:
                self.pdf.add_font("kith", "", fonts.regular)
                self.family = "kith"
                self.unicode = True
                self.has_bold = False
                if fonts.bold:
                    self.pdf.add_font("kith", "B", fonts.bold)
                    self.has_bold = True
            if fonts.cjk and self.unicode:
                self.pdf.add_font("kithcjk", "", fonts.cjk)
                self.pdf.set_fallback_fonts(["kithcjk"], exact_match=False)
        except Exception:  # a broken font file: fall back to the built-in font
            logger.exception("quote PDF: a font could not be loaded; using Helvetica")
            from fpdf import FPDF

            self.pdf = FPDF(format="A4", unit="mm")
            self.pdf.set_auto_page_break(auto=True, margin=15)
            self.pdf.set_margins(15, 15, 15)
            self.family, self.unicode, self.has_bold = "helvetica", False, True
        self.pdf.add_page()

    def font(self, size: float, bold: bool = False) -> None:
        self.pdf.set_font(self.family, "B" if bold and self.has_bold else "", size)

    def text(self, value: Any) -> str:
        value = str(value if value is not None else "")
        if self.unicode:
            return value
        return value.encode("latin-1", "replace").decode("latin-1")


def render_quote_pdf(quote: Quote) -> bytes:
    """The quote as a PDF document (bytes starting with ``%PDF``)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "font is missing glyphs": those characters are left out
        return _render(quote, find_fonts())


def _render(quote: Quote, fonts: Fonts) -> bytes:
    w = _Writer(fonts)
    pdf, t = w.pdf, w.text
    company = str(getattr(settings, "KITH_COMPANY_NAME", "") or "").strip() or "Kith"
    label = quote.number if quote.revision == 1 else f"{quote.number} / {quote.revision}"
    pdf.set_title(t(f"{_('Quote')} {label}"))
    pdf.set_author(t(company))
    pdf.set_creator("Kith")

    w.font(16, bold=True)
    pdf.cell(0, 8, t(company), new_x="LMARGIN", new_y="NEXT")
    w.font(20, bold=True)
    pdf.cell(0, 12, t(f"{_('Quote')} {quote.number}"), new_x="LMARGIN", new_y="NEXT")
    w.font(10)
    issued = (quote.sent_at or timezone.now()).astimezone(dt_tz()).date()
    facts = [
        (_("Revision"), str(quote.revision)),
        (_("Date"), issued.isoformat()),
        (_("Valid until"), quote.valid_until.isoformat() if quote.valid_until else "—"),
        (_("Currency"), quote.currency),
    ]
    for name, value in facts:
        pdf.cell(35, 6, t(name))
        pdf.cell(0, 6, t(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    customer = quote.customer
    w.font(11, bold=True)
    pdf.cell(0, 7, t(pgettext("the customer a quote is for", "For")), new_x="LMARGIN", new_y="NEXT")
    w.font(10)
    pdf.cell(0, 6, t(f"{customer.display_name} ({customer.customer_number})"), new_x="LMARGIN", new_y="NEXT")
    address = customer.addresses.order_by("-is_primary", "pk").first()
    if address is not None:
        pdf.multi_cell(0, 5, t(str(address)), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    lines = list(quote.lines.select_related("product").order_by("position", "pk"))
    w.font(9)
    headings = [
        _("#"),
        _("Description"),
        _("Qty"),
        _("Unit price"),
        _("Discount"),
        _("Tax"),
        _("Net"),
    ]
    with pdf.table(
        col_widths=(8, 72, 18, 24, 16, 14, 28),
        text_align=("RIGHT", "LEFT", "RIGHT", "RIGHT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=5,
        first_row_as_headings=True,
    ) as table:
        row = table.row()
        for heading in headings:
            row.cell(t(heading))
        for index, line in enumerate(lines, start=1):
            row = table.row()
            description = line.description
            if line.product is not None:
                description = f"{line.product.sku} — {description}"
            row.cell(str(index))
            row.cell(t(description))
            row.cell(t(f"{_number(line.quantity)} {line.unit}".strip()))
            row.cell(_money(line.unit_price))
            row.cell(f"{_number(line.discount_percent)} %")
            row.cell(f"{_number(line.tax_rate)} %")
            row.cell(_money(line.net))
    pdf.ln(4)

    w.font(10)
    totals = [
        (_("Subtotal"), quote.subtotal, False),
        (_("Discount"), -quote.discount_total if quote.discount_total else quote.discount_total, False),
        (_("Tax"), quote.tax_total, False),
        (_("Total"), quote.total, True),
    ]
    for name, amount, strong in totals:
        w.font(11 if strong else 10, bold=strong)
        pdf.cell(140, 6, t(name), align="R")
        pdf.cell(0, 6, t(f"{_money(amount)} {quote.currency}"), align="R", new_x="LMARGIN", new_y="NEXT")
    if quote.terms:
        pdf.ln(6)
        w.font(11, bold=True)
        pdf.cell(0, 7, t(_("Terms and notes")), new_x="LMARGIN", new_y="NEXT")
        w.font(9)
        pdf.multi_cell(0, 5, t(quote.terms), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def dt_tz() -> Any:
    return timezone.get_current_timezone()
