"""The store-figures API (F4): the e-commerce platform pushes each store's daily orders and
GMV with its integration's bearer token; its OpenAPI description is public.

All or nothing per call: a row with anything wrong refuses the call, naming each row's
fields, and nothing is written; otherwise every row is written in one transaction, a day
sent again replacing what was there (sending the same call twice is harmless). No
session, no cookie, no CSRF token: the token alone decides."""

from __future__ import annotations

import hashlib
import json
import math
import time
from typing import Any

from flask import Response, current_app, jsonify, request
from flask_limiter import RequestLimit
from flask_limiter.util import get_remote_address
from werkzeug.exceptions import RequestEntityTooLarge

from kamportal.blueprints.api import bp
from kamportal.blueprints.api.openapi import description
from kamportal.blueprints.web import by_token, public
from kamportal.extensions import db, limiter
from kamportal.models import Integration
from kamportal.services import integrations, store_figures

MAX_ROWS = 5_000
# 5,000 rows of a few short fields each, with room for spacing.
MAX_BODY_BYTES = 2 * 1024 * 1024
REALM = 'Bearer realm="store figures"'


def _rate_limit() -> str:
    return current_app.config["STORE_FIGURES_RATE_LIMIT"]


def _caller() -> str:
    """Each token counts on its own (hashed: the limiter's storage never holds one); calls
    without a token count by address."""
    header = request.headers.get("Authorization", "")
    if header:
        return "token:" + hashlib.sha256(header.encode()).hexdigest()
    return "address:" + get_remote_address()


def _too_many(limit: RequestLimit) -> Response:
    response = _problem(429, "Too many calls with this token: wait and send again.")
    response.headers["Retry-After"] = str(max(1, math.ceil(limit.reset_at - time.time())))
    return response


def _problem(status: int, message: str, **headers: str) -> Response:
    response = jsonify({"message": message})
    response.status_code = status
    response.headers.update(headers)
    return response


def _bearer() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _refused_token(token: str | None) -> Response:
    challenge = REALM + (', error="invalid_token"' if token else "")
    return _problem(
        401,
        "Send your integration's token: Authorization: Bearer <token>."
        if not token
        else "This token is not valid (unknown or revoked).",
        **{"WWW-Authenticate": challenge},
    )


def _row_problems(errors: list[dict[str, Any]]) -> Response:
    response = jsonify({"errors": errors})
    response.status_code = 422
    return response


def _read_body() -> Any:
    """The JSON body; ValueError when it is not JSON (NaN and Infinity included)."""
    request.max_content_length = MAX_BODY_BYTES
    raw = request.get_data(cache=False)

    def refuse(constant: str) -> Any:
        raise ValueError(f"{constant} is not a number")

    try:
        return json.loads(raw, parse_constant=refuse)
    except RecursionError:
        raise ValueError("nested too deep") from None


@bp.route("/v1/store-days", methods=["POST"])
@limiter.limit(_rate_limit, key_func=_caller, on_breach=_too_many)
@by_token
def store_days():
    """F4: the days of the integration's own stores, checked then written."""
    token = _bearer()
    integration = integrations.authenticate(token)
    if integration is None:
        return _refused_token(token)
    db.session.commit()  # when it was last used, whatever the call's fate
    try:
        body = _read_body()
    except RequestEntityTooLarge:
        return _problem(413, f"At most {MAX_BODY_BYTES // 1024 // 1024} MB a call.")
    except ValueError:
        return _problem(400, 'The body is not JSON: send {"days": [ ... ]}.')
    rows = body.get("days") if isinstance(body, dict) else None
    if not isinstance(rows, list) or not rows:
        return _row_problems(
            [
                {
                    "row": None,
                    "field": "days",
                    "message": 'Send {"days": [ ... ]}, one row a store and day.',
                }
            ]
        )
    if len(rows) > MAX_ROWS:
        return _row_problems(
            [
                {
                    "row": None,
                    "field": "days",
                    "message": f"At most {MAX_ROWS:,} rows a call: send the rest in another.",
                }
            ]
        )
    return _write(integration, rows)


def _write(integration: Integration, rows: list[Any]) -> Response:
    checked = store_figures.check_rows(rows, integration=integration)
    errors = [
        {"row": row.number, "field": field, "message": message}
        for row in checked
        for field, message in row.errors.items()
    ]
    if errors:
        db.session.rollback()
        return _row_problems(errors)
    written = store_figures.upsert(
        [row.figures for row in checked if row.figures is not None],
        source="api",
        integration=integration,
    )
    db.session.commit()
    return jsonify(
        {"added": written.added, "changed": written.changed, "unchanged": written.unchanged}
    )


@bp.route("/v1/openapi.json")
@public
def openapi():
    """The API's OpenAPI 3.1 description, for the platform's developers."""
    return jsonify(description())
