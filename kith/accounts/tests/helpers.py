"""Shared helpers of the accounts tests."""

from __future__ import annotations

from typing import Any

from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "a-long-Passw0rd!"


def totp_code(device: TOTPDevice) -> str:
    """The code an authenticator app shows for ``device`` now (RFC 6238, computed apart from the views)."""
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits)
    return f"{value:0{device.digits}d}"


def login(client: Any, username: str, password: str = PASSWORD, **extra: Any) -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password}, **extra)
