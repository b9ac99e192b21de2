"""``kith firststart``: on a database with no users, create an admin, load demo data and print the login once."""

from __future__ import annotations

import os
import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "First start: admin account with a random password (printed once) and demo data."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--customers", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=1)

    def handle(self, *args: Any, customers: int, seed: int, **options: Any) -> None:
        user_model = get_user_model()
        if user_model.objects.exists():
            self.stdout.write(
                "Kith is set up already (sign in with your account; `kith changepassword admin`"
                " sets a new admin password)."
            )
            return
        password = secrets.token_urlsafe(12)
        admin = user_model.objects.create_superuser(
            username="admin", email="admin@example.com", password=password, display_name="Administrator"
        )
        from kith.accounts.services import password_change_require  # the printed password is one-time

        password_change_require(user=admin)
        self.stdout.write("Loading demo data ...")
        call_command("demo", customers=customers, seed=seed, verbosity=0)
        from kith.parties.demo import add_demo_duplicates
        from kith.parties.services.duplicates import scan_changed

        add_demo_duplicates(seed=seed)  # so the duplicates report has something to show
        scan_changed()
        from kith.sales.demo import load_sales_demo

        load_sales_demo(seed=seed)  # products, leads, opportunities and quotes to try the sales pages on
        line = "=" * 64
        self.stdout.write(
            self.style.SUCCESS(
                f"\n{line}\n  Kith is ready.  Sign in at http://127.0.0.1:{os.environ.get('PORT') or 8000}/\n"
                f"    user:     admin\n    password: {password}\n"
                f"  (shown once; you choose your own password at the first sign-in)\n{line}\n"
            )
        )
