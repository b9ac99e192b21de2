"""``kith demo``: add realistic, reproducible demo customers (progress on stderr)."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from kith.parties.demo import DEFAULT_INTERACTIONS, DEFAULT_USERS, load_demo


class Command(BaseCommand):
    help = _("Add demo customers with contact points, relationships, interactions and anniversaries.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--customers", type=int, default=2000, help=_("How many customers to add."))
        parser.add_argument("--seed", type=int, default=1, help=_("The same seed gives the same data."))
        parser.add_argument(
            "--users", type=int, default=DEFAULT_USERS, help=_("Account managers am01 … amNN to use.")
        )
        parser.add_argument(
            "--interactions-per-customer",
            type=float,
            default=DEFAULT_INTERACTIONS,
            help=_("Average number of interactions per customer."),
        )

    def handle(
        self,
        *args: Any,
        customers: int,
        seed: int,
        users: int = DEFAULT_USERS,
        interactions_per_customer: float = DEFAULT_INTERACTIONS,
        **options: Any,
    ) -> None:
        if customers < 0 or users < 0 or interactions_per_customer < 0:
            raise CommandError(_("The numbers must not be negative."))
        verbosity = int(options.get("verbosity", 1))
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            if verbosity < 1:
                return
            elapsed = max(time.monotonic() - started, 1e-6)
            self.stderr.write(
                _("%(done)d / %(total)d customers (%(rate).0f/s)")
                % {"done": done, "total": total, "rate": done / elapsed}
            )

        result = load_demo(
            customers=customers,
            seed=seed,
            users=users,
            interactions_per_customer=interactions_per_customer,
            progress=progress,
        )
        if verbosity >= 1:
            self.stdout.write(
                _(
                    "Added %(customers)d customers (%(persons)d persons, %(companies)d companies, "
                    "numbers %(first)s … %(last)s), %(interactions)d interactions, %(relationships)d "
                    "relationships and %(dates)d special dates for %(managers)d account managers "
                    "in %(seconds).1f s (%(rate).0f customers/s)."
                )
                % {
                    "customers": result.customers,
                    "persons": result.persons,
                    "companies": result.companies,
                    "first": result.first_number or "-",
                    "last": result.last_number or "-",
                    "interactions": result.interactions,
                    "relationships": result.relationships,
                    "dates": result.special_dates,
                    "managers": result.managers,
                    "seconds": result.seconds,
                    "rate": result.per_second,
                }
            )
