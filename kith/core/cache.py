"""The Redis cache Kith uses when ``REDIS_URL`` is set.

Django's own ``RedisCache.clear()`` empties the whole Redis database (FLUSHDB): every other program's
keys, and every other Kith process's counters that share it. Here ``clear()`` removes only the keys under
this cache's ``KEY_PREFIX``, in batches, so a shared Redis (or two test workers on one) keeps the rest.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.cache.backends.redis import RedisCache

_GLOB_SPECIALS = re.compile(r"([*?\[\]\\])")


class PrefixedRedisCache(RedisCache):
    batch_size = 1000

    def clear(self) -> bool:  # type: ignore[override]  # Django's returns the same bool
        client: Any = self._cache.get_client(None, write=True)  # type: ignore[attr-defined]
        pattern = _GLOB_SPECIALS.sub(r"\\\1", self.key_prefix) + ":*"
        removed = 0
        batch: list[bytes] = []
        for key in client.scan_iter(match=pattern, count=self.batch_size):
            batch.append(key)
            if len(batch) >= self.batch_size:
                removed += client.delete(*batch)
                batch = []
        if batch:
            removed += client.delete(*batch)
        return removed > 0
