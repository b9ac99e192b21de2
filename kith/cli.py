"""The ``kith`` command: fronts Django's management commands (``kith serve``, ``kith worker``, ``kith demo`` ...)."""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or (args[0] in {"-h", "--help", "help"} and len(args) == 1):
        print(
            "usage: kith COMMAND [options]\n\n"
            "  serve       run the web app (gunicorn) and a background worker\n"
            "  worker      process background jobs (run any number, on any machine)\n"
            "  migrate     create or upgrade the database\n"
            "  firststart  on an empty database: load demo data and print an admin login once\n"
            "  demo        generate demo customers (--customers N --seed S)\n"
            "  schedule    enqueue the daily jobs (anniversary digest) when they are due\n"
            "  backup      back up the database (--encrypt, --output PATH); --verify [PATH] proves it restores\n"
            "  restore     restore a backup (PATH --yes)\n"
            "  audit       verify the audit trail's hash chain (verify), export it as CSV (export)\n"
            "  keys        encryption at rest: status, rotate [--index], reencrypt\n"
            "  ...         any Django management command (createsuperuser, changepassword, shell ...)\n"
        )
        if not args:
            return
    from django.core.management import execute_from_command_line

    from kith.audit.context import set_default_source

    set_default_source("cli")  # changes made by commands are recorded with source "cli"
    execute_from_command_line(["kith", *args])


if __name__ == "__main__":  # pragma: no cover
    main()
