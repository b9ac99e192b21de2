"""``kith audit verify`` (walk the hash chain, report tampering) and ``kith audit export`` (CSV for auditors)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from kith.audit import chain, registry
from kith.audit.exports import opened_entries, write_csv
from kith.audit.selectors import AuditFilters, entries_for_export


class Command(BaseCommand):
    help = "The audit trail: verify the hash chain, export entries as CSV, list what is audited."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True)
        verify = sub.add_parser(
            "verify", help="Walk the chain; exit 1 if any entry was changed, inserted or removed."
        )
        verify.add_argument("--chunk-size", type=int, default=5000)
        verify.add_argument(
            "--expect-head",
            default="",
            help="SEQ:HASH printed by an earlier run; fails if that entry is gone or differs (catches a cut tail).",
        )
        export = sub.add_parser(
            "export",
            help="Write entries as CSV (to stdout or --output), encrypted values opened with the keyring.",
        )
        export.add_argument("--output", "-o", default="-")
        for name in ("actor", "action", "object-type", "object-id", "source", "date-from", "date-to"):
            export.add_argument(f"--{name}", default="")
        sub.add_parser("models", help="List every model: audited, or exempt with the reason.")
        sub.add_parser(
            "rollup", help="Roll the access log up per user per day for every finished day not done yet."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        {"verify": self.verify, "export": self.export, "models": self.models, "rollup": self.rollup}[
            options["subcommand"]
        ](options)

    def verify(self, options: dict[str, Any]) -> None:
        problems = 0
        checked = 0
        head_seq, head_hash = 0, chain.GENESIS
        expect_seq, expect_hash = _anchor(options["expect_head"])
        anchor_seen = expect_seq == 0
        last = 0
        for seq, digest, problem in chain.walk(chunk_size=options["chunk_size"]):
            if problem is not None:
                problems += 1
                self.stdout.write(f"entry {problem.seq}: {problem.kind}: {problem.message}")
            if seq != last:
                checked += 1
                last = seq
            if seq == expect_seq:
                anchor_seen = True
                if digest != expect_hash:
                    problems += 1
                    self.stdout.write(f"entry {seq}: anchor: hash differs from the one recorded earlier")
            head_seq, head_hash = seq, digest
        if not anchor_seen:
            problems += 1
            self.stdout.write(f"entry {expect_seq}: anchor: missing (the end of the trail was cut off)")
        self.stdout.write(f"{checked} entries checked; head {head_seq}:{head_hash}")
        if problems:
            raise CommandError(f"the audit trail was tampered with: {problems} problem(s)", returncode=1)
        self.stdout.write("audit trail intact")

    def export(self, options: dict[str, Any]) -> None:
        filters = AuditFilters.from_params(
            {
                "actor": options["actor"],
                "action": options["action"],
                "object_type": options["object_type"],
                "object_id": options["object_id"],
                "source": options["source"],
                "date_from": options["date_from"],
                "date_to": options["date_to"],
            }
        )
        if filters.errors:
            raise CommandError("; ".join(f"{k}: {' '.join(v)}" for k, v in filters.errors.items()))
        # the operator holds the keyring and is the data controller: values are opened, not masked
        rows = opened_entries(entries_for_export(filters))
        if options["output"] == "-":
            write_csv(self.stdout, rows)
        else:
            with open(options["output"], "w", newline="", encoding="utf-8") as handle:
                write_csv(handle, rows)

    def rollup(self, options: dict[str, Any]) -> None:
        from kith.audit.rollup import rollup_until

        days = rollup_until()
        self.stdout.write(f"rolled up {len(days)} day(s)" + (f": {days[0]} … {days[-1]}" if days else ""))

    def models(self, options: dict[str, Any]) -> None:
        from django.apps import apps

        for model in sorted(apps.get_models(), key=lambda m: m._meta.label):
            if model._meta.proxy:
                continue
            self.stdout.write(f"{model._meta.label}: {registry.registrations_of(model)}")


def _anchor(text: str) -> tuple[int, str]:
    if not text:
        return 0, ""
    seq, _sep, digest = text.partition(":")
    try:
        return int(seq), digest.strip()
    except ValueError:
        raise CommandError("--expect-head takes SEQ:HASH") from None
