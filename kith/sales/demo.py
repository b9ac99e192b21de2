"""Demo sales data for a first start: products, a web-to-lead form, an assignment rule, leads,
opportunities spread over the default pipeline (some won and lost), and a few quotes. Everything goes
through the services, as a user's work would; run once (nothing happens when products exist)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

PRODUCTS = [
    # sku, name, unit, category, price, tax rate
    ("MOB-5G-L", "5G mobile plan L", "month", "Mobile", "39.00", "20"),
    ("MOB-5G-M", "5G mobile plan M", "month", "Mobile", "24.00", "20"),
    ("FIB-1000", "Fibre 1 Gbit/s", "month", "Broadband", "59.00", "20"),
    ("FIB-300", "Fibre 300 Mbit/s", "month", "Broadband", "35.00", "20"),
    ("SIP-TRUNK", "SIP trunk, 10 channels", "month", "Voice", "120.00", "20"),
    ("ROUTER-X2", "Business router X2", "pcs", "Hardware", "249.00", "20"),
    ("PHONE-DESK", "Desk phone", "pcs", "Hardware", "89.90", "20"),
    ("INSTALL", "On-site installation", "hour", "Services", "95.00", "20"),
    ("SUPPORT-PLUS", "Support Plus, 24/7", "month", "Services", "150.00", "20"),
    ("CLOUD-BKP", "Cloud backup 1 TB", "month", "Cloud", "19.50", "20"),
]
LEAD_NAMES = [
    ("Lena", "Fischer", "Fischer Logistik GmbH", "de"),
    ("Marco", "Rossi", "Rossi Costruzioni", "it"),
    ("Amélie", "Laurent", "Atelier Laurent", "fr"),
    ("James", "Walker", "Walker & Sons Ltd", "gb"),
    ("Wei", "Zhang", "上海星辰贸易有限公司", "cn"),
    ("Yuki", "Tanaka", "", "jp"),
    ("Sofia", "Nowak", "Nowak Design", "pl"),
    ("Daniel", "Ortega", "Ortega Foods S.L.", "es"),
    ("Hannah", "Becker", "", "de"),
    ("Oliver", "Smith", "Smith Dental Clinic", "gb"),
    ("Mei", "Chen", "陈氏茶业", "cn"),
    ("Lucas", "Martin", "Martin Transports", "fr"),
]


def load_sales_demo(*, seed: int = 1, opportunities: int = 40) -> dict[str, int]:
    from kith.parties.models import Customer
    from kith.sales.choices import LeadSource, StageKind
    from kith.sales.models import CloseReason, Product, Stage
    from kith.sales.services import assignment, leads, products, quotes, web_forms
    from kith.sales.services import opportunities as deals
    from kith.sales.services.opportunities import default_pipeline

    if Product.objects.exists():
        return {}
    rng = random.Random(seed)
    currency = "EUR"
    made = {"products": 0, "leads": 0, "opportunities": 0, "quotes": 0}
    with transaction.atomic():
        catalogue = []
        for sku, name, unit, category, price, tax in PRODUCTS:
            catalogue.append(
                products.product_create(
                    actor=None,
                    data={
                        "sku": sku,
                        "name": name,
                        "unit": unit,
                        "category": category,
                        "list_price": price,
                        "currency": currency,
                        "tax_rate": tax,
                    },
                )
            )
        made["products"] = len(catalogue)
        managers = list(
            get_user_model().objects.filter(username__startswith="am", is_active=True).order_by("pk")
        )
        if managers:
            assignment.rule_create(
                actor=None,
                data={"name": "Everyone in turn", "method": "round_robin", "users": managers[1:] or managers},
            )
        web_forms.web_form_create(
            actor=None,
            data={
                "name": "Website contact form",
                "title": "Talk to our sales team",
                "thank_you": "Thank you!",
            },
        )
        sources = [
            LeadSource.WEB_FORM,
            LeadSource.PHONE,
            LeadSource.EVENT,
            LeadSource.REFERRAL,
            LeadSource.MANUAL,
        ]
        for i, (given, family, company, country) in enumerate(LEAD_NAMES):
            lead = leads.lead_create(
                actor=None,
                data={
                    "given_name": given,
                    "family_name": family,
                    "company": company,
                    "email": f"{given.lower()}.{family.lower()}@example.com".encode(
                        "ascii", "ignore"
                    ).decode(),
                    "territory": country.upper(),
                    "source": sources[i % len(sources)],
                    "estimated_value": str(rng.randrange(5, 200) * 100),
                    "currency": currency,
                    "description": "Asked about business mobile and fibre.",
                },
            )
            if i % 4 == 1:
                leads.lead_qualify(actor=None, lead=lead)
            elif i % 4 == 2:
                leads.lead_mark_contacted(actor=None, lead=lead)
            made["leads"] += 1
        pipeline = default_pipeline()
        if pipeline is None:
            return made
        stages = list(Stage.objects.filter(pipeline=pipeline).order_by("position"))
        open_stages = [s for s in stages if s.kind == StageKind.OPEN and not s.requires_approval]
        won = next((s for s in stages if s.kind == StageKind.WON), None)
        lost = next((s for s in stages if s.kind == StageKind.LOST), None)
        reasons = {r.kind: r for r in CloseReason.objects.filter(is_active=True)}
        customers = list(
            Customer.objects.filter(
                status__in=["active", "prospect"], owner__isnull=False, merged_into__isnull=True
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:2000]
        )
        rng.shuffle(customers)
        today = timezone.localdate()
        for i, customer_id in enumerate(customers[:opportunities]):
            customer = Customer.objects.get(pk=customer_id)
            product = catalogue[i % len(catalogue)]
            deal = deals.opportunity_create(
                actor=None,
                data={
                    "customer": customer,
                    "name": f"{product.name} for {customer.display_name}"[:200],
                    "amount": str(rng.randrange(10, 600) * 100),
                    "currency": currency,
                    "owner": customer.owner_id,
                    "stage": open_stages[i % len(open_stages)].pk if open_stages else None,
                    "expected_close_date": (today + dt.timedelta(days=rng.randrange(5, 120))).isoformat(),
                    "next_step": "Call back with an offer",
                },
            )
            made["opportunities"] += 1
            closing = i % 7
            if closing == 0 and won is not None:
                deals.opportunity_move(
                    actor=None, opportunity=deal, stage=won, close_reason=reasons.get("won")
                )
            elif closing == 1 and lost is not None:
                deals.opportunity_move(
                    actor=None, opportunity=deal, stage=lost, close_reason=reasons.get("lost")
                )
            elif closing == 2:
                try:
                    quotes.quote_create(
                        actor=None,
                        data={"opportunity": deal, "currency": currency},
                        lines=[
                            {"product": product.pk, "quantity": str(rng.randrange(1, 20))},
                            {"product": catalogue[7].pk, "quantity": "4", "discount_percent": "5"},
                        ],
                    )
                    made["quotes"] += 1
                except ValidationError:  # a demo customer the price rules refuse: no quote, no harm
                    pass
        made.update(_after_sales(rng, catalogue, customers[opportunities : opportunities + 150], managers))
    return made


def _after_sales(
    rng: random.Random, catalogue: list[Any], customer_ids: list[int], managers: list[Any]
) -> dict[str, int]:
    """An order shipped in part, invoiced and paid in part; a year of consumption for some customers (so
    the statistics have something to show); this quarter's target for each account manager."""
    from kith.parties.models import Customer
    from kith.sales.services import billing, consumption, orders, targets

    made = {"orders": 0, "consumption_lines": 0, "targets": 0}
    today = timezone.localdate()
    customers = list(Customer.objects.filter(pk__in=customer_ids).order_by("pk"))
    if customers:
        buyer = customers[0]
        order = orders.order_create(
            actor=None,
            data={"customer": buyer, "currency": "EUR", "owner": buyer.owner_id},
            lines=[
                {"product": catalogue[5].pk, "quantity": "5"},
                {"product": catalogue[7].pk, "quantity": "3"},
            ],
        )
        order = orders.order_confirm(actor=None, order=order)
        first = order.lines.order_by("position", "pk").first()
        if first is not None:
            order = orders.shipment_create(actor=None, order=order, lines=[(first, "2")]).order
            invoice = billing.invoice_from_order(actor=None, order=order)
            billing.payment_create(
                actor=None,
                data={"invoice": invoice, "amount": str(invoice.total / 2), "method": "bank_transfer"},
            )
        made["orders"] = 1
    for customer in customers[1:]:
        rows = []
        for n in range(rng.randrange(3, 12)):
            product = catalogue[rng.randrange(len(catalogue))]
            rows.append(
                {
                    "customer": customer,
                    "product": product,
                    "sku": product.sku,
                    "description": product.name,
                    "occurred_on": (today - dt.timedelta(days=rng.randrange(0, 365))).isoformat(),
                    "quantity": str(rng.randrange(1, 10)),
                    "unit_price": str(product.list_price),
                    "currency": product.currency,
                    "line_number": n + 1,
                }
            )
        result = consumption.consumption_add_many(
            actor=None, rows=rows, reference=f"DEMO-{customer.customer_number}", source="manual"
        )
        made["consumption_lines"] += len(result.created)
    quarter_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    next_quarter = dt.date(
        quarter_start.year + (quarter_start.month == 10), (quarter_start.month + 2) % 12 + 1, 1
    )
    for manager in managers:
        targets.target_create(
            actor=None,
            data={
                "user": manager,
                "period_start": quarter_start.isoformat(),
                "period_end": (next_quarter - dt.timedelta(days=1)).isoformat(),
                "amount": "50000",
                "currency": "EUR",
            },
        )
        made["targets"] += 1
    return made
