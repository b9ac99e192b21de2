"""``kith keys status | rotate [--index] | reencrypt [--indexes]``: the keys of encryption at rest."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from kith.core import console, keys


def _bar(table: str, done: int, total: int) -> None:
    console.bar(table, done, total)


class Command(BaseCommand):
    help = "Encryption at rest: show the keyring and what each key encrypts, rotate the key, re-encrypt."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("status", help="Where the keys come from, their ids, and the values under each key.")
        rotate = sub.add_parser(
            "rotate", help="Add a new key to the instance keyring and re-encrypt every value under it."
        )
        rotate.add_argument(
            "--index", action="store_true", help="Also replace the blind-index key and recompute the indexes."
        )
        again = sub.add_parser(
            "reencrypt", help="Bring every value under the first key (after changing KITH_ENCRYPTION_KEYS)."
        )
        again.add_argument("--indexes", action="store_true", help="Also recompute every blind index.")

    def handle(self, *args: Any, **options: Any) -> None:
        command = options["subcommand"]
        try:
            if command == "status":
                self.status()
            elif command == "rotate":
                new_id, counts = keys.rotate(index=options["index"], progress=_bar)
                self.stdout.write(f"New primary key {new_id}; values re-encrypted: {sum(counts.values()):,}")
                self.status()
            else:
                counts = keys.reencrypt(indexes=options["indexes"], progress=_bar)
                self.stdout.write(f"Values re-encrypted: {sum(counts.values()):,}")
                self.status()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc

    def status(self) -> None:
        found = keys.status()
        self.stdout.write(f"Keyring: {found.source}")
        self.stdout.write(
            "Keys: "
            + ", ".join(f"{kid}{' (primary)' if kid == found.primary else ''}" for kid in found.key_ids)
        )
        self.stdout.write(f"Blind-index key: {found.index_key_id}")
        for label, per_key in found.columns.items():
            spread = ", ".join(f"{kid}: {n:,}" for kid, n in sorted(per_key.items())) or "empty"
            self.stdout.write(f"  {label:<40} {spread}")
        if found.stale:
            self.stdout.write(
                f"{found.stale:,} values are not under the primary key: run `kith keys reencrypt`."
            )
        self.stdout.write(
            "Back the keyring up apart from the database: without it, encrypted values cannot be read."
        )
