"""Where webhooks may be sent: http(s) URLs whose host resolves only to public addresses.

A receiver URL is a request Kith makes on an administrator's word, from inside the network: without this
check it could reach the database, the cloud's metadata service (169.254.169.254) or an admin page bound to
loopback (server-side request forgery). The URL is checked when it is saved and again at every delivery,
and the connection goes to the very address that was checked (a DNS answer that changes in between cannot
redirect it). ``KITH_WEBHOOK_ALLOW_PRIVATE=1`` lifts the check for receivers on the same machine or network.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

SCHEMES = ("http", "https")


class UnsafeAddress(ValidationError):
    """The URL may not be used (a field error on ``url`` when saving, a failed attempt when sending)."""


def allow_private() -> bool:
    return bool(getattr(settings, "KITH_WEBHOOK_ALLOW_PRIVATE", False))


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # deprecated, but still routed inside some networks


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries to (mapped, NAT64, 6to4, Teredo, IPv4-compatible)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback
    if any(ip in net for net in _NAT64) or (int(ip) >> 32 == 0 and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)  # 64:ff9b::a00:5 and ::10.0.0.5 are 10.0.0.5
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    return None


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _SITE_LOCAL:
            return False
        inner = _embedded_ipv4(ip)
        if inner is not None:
            return inner.is_global and not inner.is_multicast
    return ip.is_global and not ip.is_multicast


def split(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of a receiver URL, or ``UnsafeAddress`` saying what is wrong with it."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        raise UnsafeAddress(_("Enter a valid URL.")) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise UnsafeAddress(_("Use an http:// or https:// address."))
    if not parts.hostname:
        raise UnsafeAddress(_("The address has no host name."))
    if parts.username or parts.password:
        raise UnsafeAddress(
            _("Put no user name or password in the address: receivers check the signature instead.")
        )
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80)


def resolve(url: str) -> list[str]:
    """The addresses a delivery to ``url`` may connect to (every one the host resolves to, all checked)."""
    _scheme, host, port = split(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        raise UnsafeAddress(_("The host name %(host)s could not be resolved.") % {"host": host}) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    if not addresses:
        raise UnsafeAddress(_("The host name %(host)s could not be resolved.") % {"host": host})
    if not allow_private():
        for address in addresses:
            if not is_public(address):
                if host == address:
                    message = _(
                        "%(address)s is a private, loopback or link-local address. Kith sends webhooks "
                        "only to public addresses unless the administrator sets KITH_WEBHOOK_ALLOW_PRIVATE=1 "
                        "(for a receiver on this machine or network)."
                    )
                else:
                    message = _(
                        "%(host)s leads to %(address)s, a private, loopback or link-local address. Kith "
                        "sends webhooks only to public addresses unless the administrator sets "
                        "KITH_WEBHOOK_ALLOW_PRIVATE=1 (for a receiver on this machine or network)."
                    )
                raise UnsafeAddress(message % {"host": host, "address": address})
    return addresses


def check(url: str) -> str:
    """``url`` cleaned, or a ``ValidationError`` on ``url``."""
    url = url.strip()
    if len(url) > 500:
        raise ValidationError({"url": [_("At most 500 characters.")]})
    try:
        resolve(url)
    except UnsafeAddress as exc:
        raise ValidationError({"url": exc.messages}) from None
    return url
