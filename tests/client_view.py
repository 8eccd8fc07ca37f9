"""What a client reads of a page or a message, for the tests that check it names nothing
internal (PRODUCT.md: no rule ID, internal id or code reaches a client).

A page's markup, its hidden fields and the addresses in it (links carry signed tokens, and
a random token may hold "C7" or "R3" by chance) are not read: only the words shown."""

from __future__ import annotations

import html
import re

_HIDDEN = re.compile(r"<(script|style|head)\b.*?</\1>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_ADDRESS = re.compile(r"https?://\S+|/[\w./-]*\?\S*")


def readable(text: str) -> str:
    """The words a client reads in `text` (a page or a message body)."""
    text = _TAG.sub(" ", _HIDDEN.sub(" ", text))
    return _ADDRESS.sub(" ", html.unescape(text))
