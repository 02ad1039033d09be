"""The web server's app (the Procfile's factory): what it built at start is out of the GC's walks."""

from __future__ import annotations

import gc
from dataclasses import replace

from app import create_web_app
from config import Settings
from tests.conftest import REDIS_URL


def test_what_the_web_app_built_is_left_out_of_full_collections(tmp_path):
    settings = replace(
        Settings.from_env({}),
        database_url=f"sqlite:///{tmp_path / 'web.sqlite3'}",
        redis_url=REDIS_URL,
    )
    try:
        app = create_web_app(settings)
        # A full collection walks only what is not frozen: the app's objects must not be there.
        walked = {id(o) for o in gc.get_objects()}
        assert id(app) not in walked
        assert id(app.url_map) not in walked
        assert gc.get_freeze_count() > len(walked)
    finally:
        gc.unfreeze()  # the other tests' apps and objects are collectable again
