"""What `bench.served` gives gunicorn: the portal exactly as `wsgi:app` builds it (the same
settings, from the environment), and beside it, mounted at /bare/ in this module only, a
bare Flask route reading one client by its primary key: the floor a page is compared to.

gunicorn -w 2 bench.served_app:app    (DATABASE_URL, SECRET_KEY... as in production)
"""

from __future__ import annotations

import random

from flask import Flask
from sqlalchemy import create_engine, func, select, text
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from kamportal.config import config_from_env
from kamportal.models import Client
from wsgi import app as portal

settings = config_from_env()
engine = create_engine(settings.SQLALCHEMY_DATABASE_URI, **settings.SQLALCHEMY_ENGINE_OPTIONS)
bare = Flask("bare")
_highest_id: list[int] = []


@bare.route("/")
def one_indexed_query() -> str:
    if not _highest_id:
        with engine.connect() as conn:
            _highest_id.append(conn.scalar(select(func.max(Client.id))) or 1)
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, store_name, status FROM clients WHERE id = :id"),
            {"id": random.randint(1, _highest_id[0])},
        ).first()
    return f"<p>{row.store_name if row else '-'}</p>"


app = DispatcherMiddleware(portal, {"/bare": bare})
