"""Domain errors raised by services; the web and API layers turn them into messages and status codes."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    """A business rule refused the operation. ``code`` is a stable machine-readable name."""

    code = "domain_error"
    status = 400

    def __init__(self, message: str | None = None, *, code: str | None = None) -> None:
        self.message = str(message or self.default_message())
        if code:
            self.code = code
        super().__init__(self.message)

    def default_message(self) -> str:
        return str(_("The operation was refused."))


class ConflictError(DomainError):
    """Someone else saved the record after it was loaded (optimistic locking)."""

    code = "conflict"
    status = 409

    def default_message(self) -> str:
        return str(
            _(
                "This record was changed by someone else after you opened it. Reload it and apply your change again."
            )
        )


class DeleteRefused(DomainError):
    code = "delete_refused"
    status = 409
