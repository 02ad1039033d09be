"""The real app with probes for finding latency stalls, for bench/ussd.py --app-factory.

`bench.traced_app:create_web_app` is the Procfile's factory (app.create_web_app) with probes,
`bench.traced_app:create_app` the same without the frozen heap. Served, either logs to stderr
(the server's log in bench/results/), with the wall-clock time and the process id, so that the
lines match the client's slowest requests:

- every request: its start, wall and CPU (thread) time, and step number (the count of inputs
  in `text`; never the text itself, which holds health answers). The CPU time is what the
  request cost the worker whatever else ran on the machine;
- every garbage collection of generation 2, and any other longer than GC_SLOW_MS;
- every read of the current flows (services/flow_store.py's refresh) and how long it took.

Each line is "probe " and one JSON object; bench/ussd.py sums them up after the run.
"""

from __future__ import annotations

import gc
import io
import json
import os
import sys
import time
from urllib.parse import parse_qs

import app as real
from services import flow_store

GC_SLOW_MS = 5.0


def probe(kind: str, **fields) -> None:
    fields.update(kind=kind, pid=os.getpid())
    sys.stderr.write("probe " + json.dumps(fields) + "\n")


def create_web_app():
    """app.create_web_app, probed."""
    return _probed(real.create_web_app())


def create_app():
    """app.create_app (no frozen heap), probed."""
    return _probed(real.create_app())


def _probed(app):
    _watch_gc()
    _watch_flow_reads()
    app.wsgi_app = _timed(app.wsgi_app)
    return app


def _watch_gc() -> None:
    started: dict[str, float] = {}

    def callback(phase: str, info: dict) -> None:
        if phase == "start":
            started["at"], started["wall"] = time.perf_counter(), time.time()
            return
        ms = (time.perf_counter() - started["at"]) * 1000
        if info["generation"] == 2 or ms > GC_SLOW_MS:
            probe(
                "gc",
                at=started["wall"],
                ms=round(ms, 2),
                generation=info["generation"],
                collected=info["collected"],
                frozen=gc.get_freeze_count(),
            )

    gc.callbacks.append(callback)


def _watch_flow_reads() -> None:
    read = flow_store._read_active_flows

    def timed():
        at, wall = time.perf_counter(), time.time()
        try:
            return read()
        finally:
            probe("flows", at=wall, ms=round((time.perf_counter() - at) * 1000, 2))

    flow_store._read_active_flows = timed


def _timed(wsgi_app):
    def timed(environ, start_response):
        at, cpu, wall = time.perf_counter(), time.thread_time(), time.time()
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        try:
            return wsgi_app(environ, start_response)
        finally:
            cpu_ms = (time.thread_time() - cpu) * 1000
            ms = (time.perf_counter() - at) * 1000
            text = parse_qs(body.decode(errors="replace")).get("text", [""])[0]
            step = text.count("*") + 2 if text else 1
            probe("request", at=wall, ms=round(ms, 2), cpu_ms=round(cpu_ms, 2), step=step)

    return timed
