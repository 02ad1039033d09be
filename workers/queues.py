"""The Redis connection and RQ queues, made from settings and passed to whoever needs them."""

from __future__ import annotations

from redis import Redis
from rq import Queue

QUEUE_NAMES = ("default",)


def connect(redis_url: str) -> Redis:
    """Short timeouts: a Redis outage must cost a webhook milliseconds, not the gateway's 10 s."""
    return Redis.from_url(redis_url, socket_connect_timeout=0.5, socket_timeout=2.0)


def queue(connection: Redis, name: str = "default") -> Queue:
    return Queue(name, connection=connection)
