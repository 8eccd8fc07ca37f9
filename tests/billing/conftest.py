"""Fixtures for the billing adapter's tests (R3): a fake WHMCS served on a local port."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.billing.fake_whmcs import FakeWhmcs


@pytest.fixture
def whmcs_server(app) -> Iterator[FakeWhmcs]:
    """A fake WHMCS served on 127.0.0.1, with the app pointed at it (BILLING_ADAPTER=whmcs).

    WHMCS_TIMEOUT stays the app's, so `@pytest.mark.config(WHMCS_TIMEOUT=...)` sets it."""
    fake = FakeWhmcs()
    fake.start()
    app.config.update(
        BILLING_ADAPTER="whmcs",
        WHMCS_URL=fake.url,
        WHMCS_IDENTIFIER=fake.identifier,
        WHMCS_SECRET=fake.secret,
    )
    app.extensions.pop("kam_billing", None)
    yield fake
    fake.stop()
