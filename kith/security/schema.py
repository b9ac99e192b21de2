"""The OpenAPI description of Kith's API tokens (drf-spectacular finds the extension once imported)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiTokenScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "kith.security.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": (
                "A personal or service API token (kith_...), made on /accounts/tokens/, narrowed to its "
                "scopes (<area>:read, <area>:write) and valid until it expires or is revoked."
            ),
        }
