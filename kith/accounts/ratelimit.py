"""Fixed-window request counters in Django's cache (Redis when ``REDIS_URL`` is set, so every app server
counts together). ``KITH_RATE_LIMITS`` overrides the rates, e.g.
``login=10/60,search=120/60,api=1200/60,webform=10/600`` (requests per seconds), or ``off``."""

from __future__ import annotations

import functools
import time

from django.conf import settings
from django.core.cache import cache

LOGIN, SEARCH, API, WEB_FORM = "login", "search", "api", "webform"
# web-to-lead forms: submissions per client address and form (kith.sales.services.web_forms)
DEFAULT_RATES = {LOGIN: (10, 60), SEARCH: (120, 60), API: (1200, 60), WEB_FORM: (10, 600)}


def parse_rates(text: str) -> dict[str, tuple[int, int]]:
    """``login=10/60,api=1200/60`` → {scope: (requests, seconds)}; ``off`` → no limits."""
    text = text.strip()
    if text.lower() in {"off", "0", "none"}:
        return {}
    rates = dict(DEFAULT_RATES)
    for item in filter(None, (part.strip() for part in text.split(","))):
        scope, _sep, rate = item.partition("=")
        count, _slash, seconds = rate.partition("/")
        if scope.strip() not in DEFAULT_RATES or not count.strip().isdigit() or not seconds.strip().isdigit():
            raise ValueError(f"KITH_RATE_LIMITS: cannot read {item!r} (expected scope=requests/seconds)")
        rates[scope.strip()] = (int(count), max(1, int(seconds)))
    return rates


@functools.cache
def rates() -> dict[str, tuple[int, int]]:
    configured = getattr(settings, "KITH_RATE_LIMITS", "")
    if isinstance(configured, dict):
        return dict(configured)
    return parse_rates(configured) if configured else dict(DEFAULT_RATES)


def clock() -> float:
    """The time the windows are cut from (a seam for tests, which must not straddle a window edge)."""
    return time.time()


def hit(scope: str, identity: str) -> int:
    """Count one request; the seconds to wait when it is over the rate, else 0."""
    rate = rates().get(scope)
    if rate is None:
        return 0
    limit, window = rate
    now = clock()
    slot = int(now // window)
    key = f"kith:rl:{scope}:{identity}:{slot}"
    try:
        count = cache.incr(key)
    except ValueError:  # first request of the window
        count = 1 if cache.add(key, 1, window + 1) else cache.incr(key)
    if count <= limit:
        return 0
    return max(1, int((slot + 1) * window - now) + 1)
