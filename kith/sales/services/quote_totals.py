"""The arithmetic of quote totals: exact decimals, rounded half up to the currency's minor units.

The rule (also in docs/sales-quotes.md):

- a line's gross = quantity × unit price, rounded half up to the currency (JPY: whole yen, EUR: cents);
- a line's net = quantity × unit price × (1 − discount / 100), rounded once, from the unrounded product
  (so the discount is never taken off an already rounded figure);
- a line's tax = net × tax rate / 100, rounded; a line's total = net + tax;
- the quote's subtotal = Σ gross, discount = subtotal − Σ net, tax = Σ tax, total = Σ net + Σ tax.

Each line is rounded on its own and the quote adds the rounded figures, so the lines printed on the PDF
always add up to the totals printed under them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, ROUND_UP, Decimal

from kith.sales import currencies

HUNDRED = Decimal(100)
ZERO = Decimal("0.00")


def round_money(value: Decimal, currency: str) -> Decimal:
    """``value`` rounded half up to what ``currency`` allows (kept with two places, as stored)."""
    rounded = value.quantize(currencies.quantum(currency), rounding=ROUND_HALF_UP)
    return rounded.quantize(Decimal("0.01")) + 0  # + 0: "-0" is 0


@dataclass(frozen=True)
class LineAmounts:
    gross: Decimal
    net: Decimal
    tax: Decimal
    total: Decimal


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    discount_total: Decimal
    tax_total: Decimal
    total: Decimal

    @property
    def discount_percent(self) -> Decimal:
        """The overall discount in percent of the subtotal (two places, rounded up so a gate is not
        slipped past by a rounding): 0 for an empty quote."""
        if not self.subtotal:
            return ZERO
        return (self.discount_total * HUNDRED / self.subtotal).quantize(Decimal("0.01"), rounding=ROUND_UP)


def line_amounts(
    *, quantity: Decimal, unit_price: Decimal, discount_percent: Decimal, tax_rate: Decimal, currency: str
) -> LineAmounts:
    exact = Decimal(quantity) * Decimal(unit_price)
    gross = round_money(exact, currency)
    net = round_money(exact * (HUNDRED - Decimal(discount_percent)) / HUNDRED, currency)
    tax = round_money(net * Decimal(tax_rate) / HUNDRED, currency)
    return LineAmounts(gross=gross, net=net, tax=tax, total=net + tax)


def quote_totals(lines: Iterable[LineAmounts]) -> Totals:
    subtotal = net = tax = ZERO
    for line in lines:
        subtotal += line.gross
        net += line.net
        tax += line.tax
    return Totals(subtotal=subtotal, discount_total=subtotal - net, tax_total=tax, total=net + tax)
