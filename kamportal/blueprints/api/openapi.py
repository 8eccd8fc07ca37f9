"""The store-figures API described in OpenAPI 3.1, by hand: what the platform's developers
read. tests/blueprints/test_api.py keeps it true to the route (its fields, its answers)."""

from __future__ import annotations

from typing import Any

_MESSAGE = {
    "type": "object",
    "properties": {"message": {"type": "string"}},
    "required": ["message"],
}


def _answer(text: str, schema: dict[str, Any], **more: Any) -> dict[str, Any]:
    return {"description": text, "content": {"application/json": {"schema": schema}}, **more}


# One store's day, as the platform sends it.
STORE_DAY = {
    "type": "object",
    "required": ["store_code", "day", "orders", "gmv"],
    "properties": {
        "store_code": {
            "type": "string",
            "maxLength": 40,
            "description": "The store's code in the portal (one of this integration's stores).",
            "examples": ["CAIRO-001"],
        },
        "day": {
            "type": "string",
            "format": "date",
            "description": "The day on the store's own calendar (its time zone), within the "
            "last three years and not after the store's today.",
        },
        "orders": {"type": "integer", "minimum": 0, "maximum": 10_000_000},
        "gmv": {
            "type": ["string", "number"],
            "description": "The day's GMV in the store's currency, zero or more, at most the "
            'currency\'s decimals. A string ("3450.50") keeps it exact.',
            "examples": ["3450.50"],
        },
        "currency": {
            "type": "string",
            "description": "Optional: the store's currency (ISO 4217); any other is refused.",
            "examples": ["EGP"],
        },
    },
}

ROW_ERROR = {
    "type": "object",
    "required": ["row", "field", "message"],
    "properties": {
        "row": {
            "type": ["integer", "null"],
            "description": "The row's place in `days`, from 1; null for the call as a whole.",
        },
        "field": {
            "type": "string",
            "description": "The field that is wrong; `row` for a row that is not an object, "
            "`days` for the list itself.",
        },
        "message": {"type": "string"},
    },
}

UNAUTHORIZED = _answer(
    "No token, or a token that is unknown or revoked.",
    _MESSAGE,
    headers={"WWW-Authenticate": {"schema": {"type": "string"}}},
)


def description() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "KAM Portal store figures",
            "version": "1",
            "description": "Push each store's daily orders and GMV. Each integration has its "
            "own token, given once by a portal admin, and writes its own stores only.",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"integrationToken": {"type": "http", "scheme": "bearer"}},
            "schemas": {"StoreDay": STORE_DAY, "RowError": ROW_ERROR, "Message": _MESSAGE},
        },
        "paths": {
            "/store-days": {
                "post": {
                    "summary": "Send stores' daily figures",
                    "description": "All or nothing: if any row is wrong, nothing is written "
                    "and every wrong field is named. A store and day sent again replaces "
                    "what was there; the same figures change nothing, so a call can be "
                    "repeated safely. At most 5,000 rows and 2 MB a call.",
                    "security": [{"integrationToken": []}],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["days"],
                                    "properties": {
                                        "days": {
                                            "type": "array",
                                            "minItems": 1,
                                            "maxItems": 5_000,
                                            "items": {"$ref": "#/components/schemas/StoreDay"},
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": _answer(
                            "Written: how many days were added, changed, or sent again unchanged.",
                            {
                                "type": "object",
                                "properties": {
                                    name: {"type": "integer"}
                                    for name in ("added", "changed", "unchanged")
                                },
                            },
                        ),
                        "400": _answer("The body is not JSON.", _MESSAGE),
                        "401": UNAUTHORIZED,
                        "413": _answer("The body is larger than 2 MB.", _MESSAGE),
                        "422": _answer(
                            "Nothing written: what is wrong, row by row and field by field.",
                            {
                                "type": "object",
                                "properties": {
                                    "errors": {
                                        "type": "array",
                                        "items": {"$ref": "#/components/schemas/RowError"},
                                    }
                                },
                            },
                        ),
                        "429": _answer(
                            "Too many calls with this token; Retry-After says when to send again.",
                            _MESSAGE,
                            headers={"Retry-After": {"schema": {"type": "integer"}}},
                        ),
                    },
                }
            },
            "/openapi.json": {
                "get": {
                    "summary": "This description",
                    "security": [],
                    "responses": {"200": {"description": "OpenAPI 3.1"}},
                }
            },
        },
    }
