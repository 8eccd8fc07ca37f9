"""GMV bands (P2): a store's GMV over its last 30 days, in one reference currency
(GMV_BAND_CURRENCY), placed in the bands that GMV_BANDS draws. GMV_RATES says how many
units of each store currency make one unit of the reference; a store in a currency
without a rate has no band. README: Health and segmentation."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask import current_app

from kamportal.config import gmv_band_bounds, gmv_rates
from kamportal.models.types import Money


@dataclass(frozen=True)
class GmvBand:
    """One band: GMV from `low` (included) up to `high` (excluded; None: no top)."""

    number: int
    low: Decimal
    high: Decimal | None
    currency: str

    @property
    def label(self) -> str:
        low = str(Money(self.low, self.currency))
        if self.high is None:
            return f"{low} and more"
        return f"{low} to {Money(self.high, self.currency)!s}"


def bands() -> list[GmvBand]:
    """The bands in the settings, lowest first, numbered from 1."""
    bounds = [Decimal(0), *gmv_band_bounds(current_app.config["GMV_BANDS"])]
    currency = current_app.config["GMV_BAND_CURRENCY"]
    return [
        GmvBand(number, low, bounds[number] if number < len(bounds) else None, currency)
        for number, low in enumerate(bounds, start=1)
    ]


def band(number: int | None) -> GmvBand | None:
    """The band numbered `number`, or None."""
    return next((b for b in bands() if b.number == number), None)


def band_of(reference_amount: Decimal | None) -> GmvBand | None:
    """The band a 30-day GMV in the reference currency falls in (None: no GMV known)."""
    if reference_amount is None:
        return None
    return next(b for b in reversed(bands()) if reference_amount >= b.low)


def to_reference(amount: Decimal, currency: str) -> Decimal | None:
    """`amount` of `currency` in the reference currency, or None without a rate."""
    if currency == current_app.config["GMV_BAND_CURRENCY"]:
        return amount
    rate = gmv_rates(current_app.config["GMV_RATES"]).get(currency)
    if rate is None:
        return None
    return (amount / rate).quantize(Decimal("0.001"))
