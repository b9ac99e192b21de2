"""What the audit trail records of the apps that existed before it (later apps register themselves).

Each exemption says why leaving the model out loses nothing an auditor needs.
"""

from __future__ import annotations

from django.apps import apps

from kith.audit import registry


def register_existing() -> None:
    # --- the audit app itself
    registry.exempt("audit.AuditEntry", "the audit trail itself (append-only, hash chained)")
    registry.exempt("audit.AccessLog", "the access log: append-only record of reads, not a business object")
    registry.exempt("audit.AccessDaily", "daily figures rolled up from the access log, rebuilt from it")
    registry.audit_model("audit.Alert")

    # --- Django and third-party plumbing
    registry.exempt("sessions.Session", "login sessions: logins and logouts are recorded as events")
    registry.exempt("contenttypes.ContentType", "Django's model catalogue, written by migrations")
    registry.exempt("auth.Permission", "Django's generated permission catalogue, written by migrations")
    registry.exempt("admin.LogEntry", "Django admin's own log; the changes it describes are audited")
    registry.exempt("django_tasks_database.DBTaskResult", "background-job queue; jobs' writes are audited")
    registry.audit_model("auth.Group", permission=True)
    registry.audit_model("authtoken.Token", sensitive=("key",))
    if apps.is_installed("django_otp.plugins.otp_totp"):
        registry.audit_model(
            "otp_totp.TOTPDevice",
            sensitive=("key",),
            exclude=(
                "last_t",
                "drift",
                "throttling_failure_timestamp",
                "throttling_failure_count",
                "last_used_at",
            ),
        )
    if apps.is_installed("django_otp.plugins.otp_static"):
        registry.audit_model(
            "otp_static.StaticDevice",
            exclude=("throttling_failure_timestamp", "throttling_failure_count", "last_used_at"),
        )
        registry.audit_model("otp_static.StaticToken", sensitive=("token",))

    # --- kith.core
    registry.audit_model("core.SiteSetting")
    registry.exempt("core.SearchWord", "search vocabulary derived from customer names, which are audited")
    registry.exempt("core.TimelineEntry", "an index of business records, which are audited themselves")
    registry.exempt("core.IdempotencyKey", "API responses kept a day to replay; the changes made are audited")

    # --- kith.security: users, teams, roles, shares ... now and later
    registry.audit_app("security", permission=True)
    registry.audit_model("security.User", exclude=("last_login",), sensitive=("password",))
    registry.exempt("security.Reach", "closure of the manager chain, derived from users' managers (audited)")
    registry.exempt("security.Generation", "cache-invalidation counter, no business meaning")
    # API tokens: creation and revocation; the key's hash is a secret, its last use is not a change
    registry.audit_model(
        "security.ApiToken", exclude=("last_used_at",), sensitive=("key_hash",), permission=True
    )
    # access requests for sensitive data: also listed on the customer's history
    registry.audit_model("security.AccessRequest", root="object_id", permission=True)

    # --- kith.parties
    registry.audit_app("parties")
    registry.audit_model(
        "parties.Customer",
        root="pk",
        exclude=("search_name", "search_pinyin", "search_initials"),
        sensitive=(),
    )
    for child in ("Phone", "Email", "Address", "SpecialDate", "Interaction"):
        registry.audit_model(f"parties.{child}", root="customer_id")
    registry.audit_model("parties.Relationship", root="from_customer_id")
    registry.exempt(
        "parties.CustomerNumberSequence", "number counter; every number handed out is on an audited customer"
    )
    registry.exempt(
        "parties.ImportChange", "an import's bookkeeping for its undo; the customers it changes are audited"
    )
    registry.exempt(
        "parties.DuplicateCandidate",
        "likely duplicates worked out from audited customers; dismissing one and merging are audited events",
    )

    # --- kith.jobs
    registry.exempt(
        "jobs.Job",
        "progress of background work; what a job reads or writes is logged (exports in the access log, "
        "changes in the audit trail)",
    )
