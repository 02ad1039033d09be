"""What the gateway tests share: somewhere for the stand-in to post its delivery reports."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest

from dev.standin import serve_in_thread


class Collector:
    """A tiny WSGI app that keeps every form POSTed to it (the app's delivery webhook)."""

    def __init__(self, status: str = "200 OK") -> None:
        self.posts: list[dict[str, str]] = []
        self.status = status
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        size = int(environ.get("CONTENT_LENGTH") or 0)
        form = parse_qs(environ["wsgi.input"].read(size).decode())
        with self._lock:
            self.posts.append({k: v[0] for k, v in form.items()})
        start_response(self.status, [("Content-Type", "text/plain")])
        return [b"ok"]


@pytest.fixture
def receiver() -> Iterator[tuple[str, Collector]]:
    collector = Collector()
    with serve_in_thread(collector) as server:
        yield server.url + "/sms/delivery", collector
