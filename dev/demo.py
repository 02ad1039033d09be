"""`python -m dev.demo`: migrate, seed a demo district and run web, worker, clock and the
gateway stand-in with honcho, on embedded defaults when no servers are configured."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from dev.embedded import redis_answers, start_embedded_redis

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    env = dict(os.environ)
    env.setdefault("PORT", "5000")
    env["WEB_PORT"] = env[
        "PORT"
    ]  # honcho gives each process its own PORT; the stand-in needs web's
    env.setdefault("STANDIN_PORT", "8765")
    env.setdefault("AT_API_URL", f"http://127.0.0.1:{env['STANDIN_PORT']}/version1")
    env.setdefault("AT_API_KEY", "demo-key")
    url = env.get("REDIS_URL") or "redis://localhost:6379/0"
    if redis_answers(url):
        print(f"demo: using Redis at {url}")
    else:
        url, _server = start_embedded_redis()
        print(f"demo: no Redis answered; started an embedded one at {url}")
    env["REDIS_URL"] = url
    flask = [sys.executable, "-m", "flask", "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], cwd=ROOT, env=env, check=True)
    subprocess.run([*flask, "seed-demo"], cwd=ROOT, env=env, check=True)
    print(
        f"demo: the USSD webhook is http://127.0.0.1:{env['PORT']}/ussd; in another terminal try\n"
        f"  .venv/bin/flask --app app simulate --phone +22370000011 --url http://127.0.0.1:{env['PORT']}"
    )
    honcho = [sys.executable, "-m", "honcho", "-f", "Procfile.dev", "start"]
    return subprocess.call(honcho, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
