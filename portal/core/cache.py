"""A Redis cache the site can lose.

Redis holds only what can be made again (whole pages, fragments, look-ups,
rendition records); no request needs it. When Redis refuses connections, times
out or hangs, every call answers as the cache would for a missing key (a read
gives the default, a write stores nothing) and the site serves from the
database. After a failure this process leaves Redis alone for BACKOFF seconds,
so a hung server costs one short socket timeout per process and backoff, not one
per call, and a log line says so once per outage.

Rate-limit counters are not kept here (portal.core.ratelimit counts in the
database), so an outage or eviction never lifts a limit."""

import logging
import threading
import time

from django.core.cache.backends.redis import RedisCache
from redis.backoff import NoBackoff
from redis.exceptions import RedisError
from redis.retry import Retry

logger = logging.getLogger(__name__)

# Seconds a call may wait on Redis: a page makes a few dozen cache calls, and a
# hung server must not hold the request past what a resident would wait.
SOCKET_TIMEOUT = 0.25
# Seconds to leave Redis alone after a failure before trying again.
BACKOFF = 10.0


class _Outages:
    """When each Redis server last failed, shared by every thread of the process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._down_until = {}

    def down(self, server):
        return time.monotonic() < self._down_until.get(server, 0.0)

    def failed(self, server, error):
        with self._lock:
            if not self.down(server):
                logger.warning(
                    "cache.unavailable",
                    extra={"server": server.rsplit("@", 1)[-1], "error": repr(error)},
                )
            self._down_until[server] = time.monotonic() + BACKOFF

    def clear(self):
        with self._lock:
            self._down_until.clear()


outages = _Outages()


def _tolerant(default):
    """Call the cache method unless its server is in backoff; on a Redis or
    socket error, start a backoff and answer `default` (called with the
    method's arguments when it is callable)."""

    def decorate(method):
        def call(self, *args, **kwargs):
            if not outages.down(self.server):
                try:
                    return method(self, *args, **kwargs)
                except (RedisError, OSError) as error:
                    outages.failed(self.server, error)
            return default(*args, **kwargs) if callable(default) else default

        call.__name__ = method.__name__
        call.__doc__ = method.__doc__
        return call

    return decorate


def _missing(*_args, **_kwargs):
    raise ValueError("Key not found: the cache is unavailable.")


def _default(key, default=None, version=None):
    return default


class TolerantRedisCache(RedisCache):
    """Django's Redis cache, answering as for a missing key while Redis is
    unreachable (settings: BACKEND "portal.core.cache.TolerantRedisCache")."""

    def __init__(self, server, params):
        options = {
            "socket_connect_timeout": SOCKET_TIMEOUT,
            "socket_timeout": SOCKET_TIMEOUT,
            # redis-py retries failed commands three times by default: each retry
            # would wait out another timeout.
            "retry": Retry(NoBackoff(), 0),
            **params.get("OPTIONS", {}),
        }
        super().__init__(server, {**params, "OPTIONS": options})
        self.server = server

    add = _tolerant(False)(RedisCache.add)
    get = _tolerant(_default)(RedisCache.get)
    set = _tolerant(None)(RedisCache.set)
    touch = _tolerant(False)(RedisCache.touch)
    delete = _tolerant(False)(RedisCache.delete)
    get_many = _tolerant(lambda *args, **kwargs: {})(RedisCache.get_many)
    has_key = _tolerant(False)(RedisCache.has_key)
    # Django's incr raises ValueError for a key it cannot find: so it does here.
    incr = _tolerant(_missing)(RedisCache.incr)
    set_many = _tolerant(lambda data, *args, **kwargs: list(data))(RedisCache.set_many)
    delete_many = _tolerant(None)(RedisCache.delete_many)
    clear = _tolerant(None)(RedisCache.clear)
