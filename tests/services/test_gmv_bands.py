"""P2: GMV bands from the settings, and a store's GMV in the bands' reference currency."""

from decimal import Decimal

import pytest

from kamportal import create_app
from kamportal.config import ConfigError, TestConfig
from kamportal.services import gmv_bands


def test_the_default_bands_read_in_the_reference_currency_P2(app):
    assert [band.label for band in gmv_bands.bands()] == [
        "$0.00 to $1,000.00",
        "$1,000.00 to $10,000.00",
        "$10,000.00 to $50,000.00",
        "$50,000.00 and more",
    ]


@pytest.mark.parametrize(
    ("amount", "number"),
    [
        (Decimal("0"), 1),
        (Decimal("999.999"), 1),
        (Decimal("1000"), 2),
        (Decimal("49999.99"), 3),
        (Decimal("50000"), 4),
        (Decimal("1e11"), 4),
    ],
)
def test_a_bound_belongs_to_the_band_above_it_P2(app, amount, number):
    assert gmv_bands.band_of(amount).number == number


def test_no_gmv_known_is_no_band_P2(app):
    assert gmv_bands.band_of(None) is None
    assert gmv_bands.band(0) is None and gmv_bands.band(5) is None


@pytest.mark.config(GMV_RATES="EGP=50", GMV_BAND_CURRENCY="USD")
def test_store_currencies_convert_at_the_settings_rates_P2(app):
    assert gmv_bands.to_reference(Decimal("5000"), "EGP") == Decimal("100.000")
    assert gmv_bands.to_reference(Decimal("5000"), "USD") == Decimal("5000")
    assert gmv_bands.to_reference(Decimal("5000"), "SAR") is None


@pytest.mark.config(GMV_BANDS="500,5000", GMV_BAND_CURRENCY="EGP")
def test_bands_follow_the_settings_P2(app):
    assert [(b.low, b.high) for b in gmv_bands.bands()] == [
        (Decimal(0), Decimal(500)),
        (Decimal(500), Decimal(5000)),
        (Decimal(5000), None),
    ]
    assert gmv_bands.bands()[0].currency == "EGP"


@pytest.mark.parametrize(
    ("setting", "value"),
    [
        ("GMV_BANDS", "10000,1000"),
        ("GMV_BANDS", "1000,1000"),
        ("GMV_BANDS", "-5,10"),
        ("GMV_BANDS", "lots"),
        ("GMV_BANDS", ""),
        ("GMV_BANDS", "1e400,NaN"),
        ("GMV_RATES", "EGP"),
        ("GMV_RATES", "egp=49"),
        ("GMV_RATES", "EGP=0"),
        ("GMV_RATES", "EGP=many"),
    ],
)
def test_wrong_band_settings_stop_the_app_with_their_name(setting, value):
    wrong = type("Wrong", (TestConfig,), {setting: value})
    with pytest.raises(ConfigError, match=setting):
        create_app(wrong)
