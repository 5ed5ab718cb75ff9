"""Coordination between workers through Redis: who is creating which cluster right now, and
one lock per host and tier so two workers cannot both take the last free slot."""
from __future__ import annotations

import threading
from contextlib import contextmanager

import redis
from django.conf import settings

_clients: dict[str, redis.Redis] = {}
_clients_lock = threading.Lock()
def _marker_ttl() -> int:
    return settings.SANDBOX_MARKER_TTL


def client() -> redis.Redis:
    """One connection pool per Redis URL (tests may point settings at another Redis)."""
    url = settings.REDIS_URL
    with _clients_lock:
        if url not in _clients:
            _clients[url] = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        return _clients[url]


def _prefix() -> str:
    return settings.CHANNEL_LAYERS["default"]["CONFIG"].get("prefix", "k8slab")


@contextmanager
def capacity_lock(tier: str):
    lock = client().lock(f"{_prefix()}:capacity:{settings.LAB_HOST}:{tier}", timeout=30,
                         blocking_timeout=30)
    if not lock.acquire():
        raise TimeoutError("waited 30s for the capacity lock")
    try:
        yield
    finally:
        try:
            lock.release()
        except redis.exceptions.LockError:
            pass


def _marker_key(sandbox_id) -> str:
    return f"{_prefix()}:creating:{sandbox_id}"


def is_creating(sandbox_id) -> bool:
    """True while a live worker is creating this sandbox's cluster (or will retry soon)."""
    return bool(client().exists(_marker_key(sandbox_id)))


def hold_creating(sandbox_id, seconds: int) -> None:
    client().set(_marker_key(sandbox_id), settings.LAB_HOST, ex=max(1, int(seconds)))


@contextmanager
def creating(sandbox_id):
    """Marks the sandbox as being created for as long as this worker is alive and inside the
    block. A heartbeat renews the short-lived key, so a worker killed with SIGKILL leaves a key
    that vanishes within SANDBOX_MARKER_TTL seconds, and the reconciler then knows nobody is on it."""
    key = _marker_key(sandbox_id)
    ttl = _marker_ttl()
    client().set(key, settings.LAB_HOST, ex=ttl)
    stop = threading.Event()

    def beat():
        while not stop.wait(max(1, ttl // 4)):
            try:
                client().set(key, settings.LAB_HOST, ex=ttl)
            except redis.RedisError:
                pass

    thread = threading.Thread(target=beat, daemon=True, name=f"creating-{sandbox_id}")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=2)
        client().delete(key)
