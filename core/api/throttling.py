"""Per-player request rate limit: a fixed one-minute window counted in Redis.

One pipelined INCR + EXPIRE per request on a long-lived client. (DRF's cache-based
throttles keep a pickled list per caller and build a Redis client per call, which
cost more than the rest of a request's Python.)
"""

import time

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry
from rest_framework.throttling import BaseThrottle

_client: redis.Redis | None = None


def redis_client() -> redis.Redis:
    global _client
    if _client is None:
        _client = connect(settings.REDIS_URL)
    return _client


def connect(url: str) -> redis.Redis:
    """A client that fails fast. Rate limits fail open when Redis is away, which helps only if
    failing is quick: redis-py's default retries ten times with backoff (about 4 s a call)."""
    return redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))


def parse_rate(rate: str) -> tuple[int, int]:
    """ "300/min" -> (300, 60). Periods: s, min, h, d (first letter is enough)."""
    count, period = rate.split("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period.strip()[0].lower()]
    return int(count), seconds


class PlayerRateThrottle(BaseThrottle):
    """Requests per authenticated player (not per IP): one busy client cannot starve others."""

    def allow_request(self, request, view):
        if not request.user.is_authenticated:
            return True
        limit, period = parse_rate(settings.API_PLAYER_RATE)
        now = time.time()
        window = int(now // period)
        key = f"{settings.CACHES['default'].get('KEY_PREFIX', '')}:throttle:player:{request.user.pk}:{window}"
        try:
            pipe = redis_client().pipeline(transaction=False)
            pipe.incr(key)
            pipe.expire(key, period + 1)
            count = pipe.execute()[0]
        except redis.RedisError:
            return True  # fail open: the rate limit protects capacity, not money
        self._wait = (window + 1) * period - now
        return count <= limit

    def wait(self):
        return max(1, int(self._wait + 0.999))
