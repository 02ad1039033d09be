"""The Flask app factory: settings, database, Redis and the blueprints, wired in one place."""

from __future__ import annotations

import gc
from pathlib import Path

from flask import Flask, Response
from flask_migrate import Migrate
from werkzeug.exceptions import HTTPException

from config import Settings
from gateway.africastalking import AfricasTalkingGateway
from models import db
from models.base import configure_sqlite, engine_options
from workers.queues import connect

MIGRATIONS = str(Path(__file__).resolve().parent / "migrations")


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(
        SETTINGS=settings,
        SECRET_KEY=settings.secret_key or None,
        SQLALCHEMY_DATABASE_URI=settings.database_url,
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(settings.database_url),
        MAX_CONTENT_LENGTH=256 * 1024,
    )
    db.init_app(app)
    Migrate(app, db, directory=MIGRATIONS, render_as_batch=True)
    with app.app_context():
        configure_sqlite(db.engine)
    app.extensions["redis"] = connect(settings.redis_url)

    app.extensions["gateway"] = AfricasTalkingGateway(
        settings.at_username,
        settings.at_api_key,
        sender_id=settings.at_sender_id,
        api_url=settings.at_api_url,
        timeout=settings.at_timeout,
    )

    from services.sms_steps import SmsSteps
    from services.ussd_steps import UssdSteps

    app.extensions["ussd_steps"] = UssdSteps(settings)
    app.extensions["sms_steps"] = SmsSteps(settings)

    from webhooks import delivery, health, sms, ussd

    app.register_blueprint(ussd.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(delivery.bp)
    app.register_blueprint(health.bp)

    app.register_error_handler(HTTPException, _plain_error)

    import admin

    admin.init_app(app, trusted_proxies=settings.trusted_proxies)

    from cli import register

    register(app)
    return app


def create_web_app(settings: Settings | None = None) -> Flask:
    """The app as the web server runs it (the Procfile's factory): built, then its heap frozen.

    A full (generation-2) garbage collection walks every object the process holds, about
    130,000 once the app is built (Flask, SQLAlchemy's mappers, phone metadata, flows): 30-150 ms
    during which a worker answers nobody (bench/ussd.py, bench/traced_app.py). Those objects
    live as long as the process, so `gc.freeze()` takes them out of the collector's walks, and
    a full collection then visits only what requests left. Not in create_app: the tests build
    many apps, and a frozen one would never be freed.
    """
    app = create_app(settings)
    gc.collect()
    gc.freeze()
    return app


def _plain_error(error: HTTPException) -> Response:
    """Errors in plain text: the gateway and scripts read them, and they must say what is wrong."""
    return Response(
        f"{error.code} {error.name}: {error.description}\n", error.code, mimetype="text/plain"
    )
