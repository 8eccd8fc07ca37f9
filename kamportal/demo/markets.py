"""The markets the demo's clients sell in: countries, currencies and round prices, the
names and phone numbers of their people, and the store names in the seed's order."""

from __future__ import annotations

import random
from dataclasses import dataclass
from decimal import Decimal

import phonenumbers

from kamportal.demo.common import slug
from kamportal.models import Contact, Money, Plan


@dataclass(frozen=True)
class Market:
    country: str
    weight: int
    timezones: tuple[str, ...]
    currency: str
    usd_rate: Decimal  # demo rate, good enough for a believable price list
    price_step: Decimal  # prices are round numbers in the local currency
    arabic_share: float
    team: str
    names: str
    phone_patterns: tuple[str, ...]  # '#' is a random digit; checked with phonenumbers


# fmt: off
MARKETS: tuple[Market, ...] = (
    Market("EG", 28, ("Africa/Cairo",), "EGP", Decimal("49"), Decimal("50"), 0.7, "Cairo",
           "egyptian", ("+2010########", "+2011########", "+2012########", "+2015########")),
    Market("SA", 25, ("Asia/Riyadh",), "SAR", Decimal("3.75"), Decimal("5"), 0.65, "Riyadh",
           "gulf", ("+9665########",)),
    Market("AE", 18, ("Asia/Dubai",), "AED", Decimal("3.6725"), Decimal("5"), 0.45, "Dubai",
           "gulf", ("+97150#######", "+97152#######", "+97155#######", "+97156#######")),
    Market("KW", 8, ("Asia/Kuwait",), "KWD", Decimal("0.307"), Decimal("0.125"), 0.6, "Riyadh",
           "gulf", ("+9655#######", "+9656#######", "+9669#######")),
    Market("BH", 3, ("Asia/Bahrain",), "BHD", Decimal("0.376"), Decimal("0.125"), 0.6, "Riyadh",
           "gulf", ("+9733#######",)),
    Market("QA", 4, ("Asia/Qatar",), "QAR", Decimal("3.64"), Decimal("5"), 0.6, "Dubai",
           "gulf", ("+9743#######", "+9745#######", "+9746#######", "+9747#######")),
    Market("OM", 3, ("Asia/Muscat",), "OMR", Decimal("0.385"), Decimal("0.125"), 0.6, "Dubai",
           "gulf", ("+9689#######",)),
    Market("JO", 3, ("Asia/Amman",), "JOD", Decimal("0.709"), Decimal("0.125"), 0.6, "Dubai",
           "levant", ("+96277#######", "+96278#######", "+96279#######")),
    Market("GB", 4, ("Europe/London",), "USD", Decimal("1"), Decimal("10"), 0.15, "Dubai",
           "western", ("+447#########",)),
    Market("US", 4, ("America/New_York", "America/Chicago", "America/Los_Angeles"), "USD",
           Decimal("1"), Decimal("10"), 0.1, "Dubai", "western", ("+121255501##",)),
)

NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "egyptian": (
        ("Ahmed", "Mohamed", "Mahmoud", "Mostafa", "Omar", "Karim", "Youssef", "Hassan", "Tarek",
         "Sherif", "Amr", "Khaled", "Mona", "Nour", "Yasmin", "Salma", "Dina", "Heba", "Rania",
         "Mariam", "Aya", "Nada", "Farida", "Laila"),
        ("Hassan", "Ibrahim", "El Sayed", "Abdel Rahman", "Farouk", "Mansour", "Naguib", "Shawky",
         "Soliman", "Fahmy", "Zaki", "Ragab", "Gamal", "Hegazy", "Badawi", "Sabry", "Younis",
         "El Masry"),
    ),
    "gulf": (
        ("Abdullah", "Faisal", "Khalid", "Saud", "Turki", "Nasser", "Fahad", "Sultan", "Hamad",
         "Rashid", "Majed", "Waleed", "Noura", "Maha", "Reem", "Lama", "Hessa", "Latifa",
         "Shaikha", "Alanoud", "Sara", "Dana", "Munira", "Aisha"),
        ("Al Qahtani", "Al Otaibi", "Al Harbi", "Al Shammari", "Al Dossari", "Al Mutairi",
         "Al Ghamdi", "Al Zahrani", "Al Mansoori", "Al Nuaimi", "Al Ketbi", "Al Falasi",
         "Al Suwaidi", "Al Ajmi", "Al Enezi", "Al Rashidi", "Al Kuwari", "Al Marri", "Al Balushi",
         "Al Hinai"),
    ),
    "levant": (
        ("Omar", "Zaid", "Rami", "Fadi", "Tareq", "Yazan", "Lina", "Dana", "Rana", "Hala", "Maya",
         "Tala"),
        ("Haddad", "Khoury", "Nasser", "Masri", "Odeh", "Saleh", "Qasem", "Hijazi", "Salameh",
         "Shahin"),
    ),
    "western": (
        ("Emma", "Oliver", "James", "Sarah", "Daniel", "Laura", "Thomas", "Sophie", "Michael",
         "Hannah", "David", "Rachel", "Omar", "Layla"),
        ("Carter", "Bennett", "Hughes", "Walker", "Shaw", "Patel", "Turner", "Mitchell", "Reid",
         "Foster", "Khan", "Morgan", "Haddad"),
    ),
}

INDUSTRIES: dict[str, tuple[str, ...]] = {
    "Fashion & apparel": ("Threads", "Boutique", "Wear", "Closet", "Couture"),
    "Beauty & cosmetics": ("Beauty", "Glow", "Cosmetics", "Skin Lab", "Care"),
    "Perfumes & oud": ("Oud", "Scents", "Perfumes", "Bakhoor", "Attar"),
    "Electronics": ("Tech", "Gadgets", "Electronics", "Mobile", "Digital"),
    "Home & furniture": ("Home", "Furniture", "Living", "Decor", "Interiors"),
    "Grocery & food": ("Market", "Pantry", "Foods", "Grocers", "Kitchen"),
    "Coffee & sweets": ("Coffee", "Dates", "Roastery", "Sweets", "Bakery"),
    "Jewellery & watches": ("Jewels", "Gold", "Watches", "Diamonds", "Silver"),
    "Books & stationery": ("Books", "Library", "Stationery", "Pages", "Paper"),
    "Toys & baby": ("Toys", "Kids", "Baby", "Playhouse", "Little Ones"),
    "Sports & fitness": ("Sports", "Fitness", "Active", "Outdoors", "Gym Gear"),
    "Health & pharmacy": ("Pharmacy", "Health", "Wellness", "Vitamins", "Care Plus"),
    "Automotive": ("Auto Parts", "Motors", "Garage", "Tyres", "Car Care"),
    "Pet supplies": ("Pets", "Paws", "Pet Shop", "Vet Supply", "Feathers"),
    "Flowers & gifts": ("Flowers", "Gifts", "Blooms", "Roses", "Gift Box"),
}

STORE_PREFIXES = (
    "Nile", "Sahara", "Red Sea", "Delta", "Zamalek", "Maadi", "Luxor", "Najd", "Hijaz",
    "Diriyah", "Jumeirah", "Marina", "Corniche", "Gulf", "Oasis", "Desert Rose", "Golden",
    "Silver Moon", "Al Noor", "Al Waha", "Baraka", "Layali", "Amwaj", "Sidra", "Yasmin", "Lotus",
    "Falcon", "Palm", "Lulu", "Qamar", "Nakheel", "Sama", "Reef", "Rawda", "Zaytoun", "Mirage",
    "Crescent", "Saffron", "Cedar", "Dana", "Hayat", "Bayan",
)
# fmt: on
PLAN_PRICE_USD = {  # yearly
    Plan.BUSINESS: Decimal(1188),
    Plan.PROFESSIONAL: Decimal(2388),
    Plan.ULTIMATE: Decimal(4788),
}
STORE_MANAGER_USD = Decimal(3600)

PRIMARY_ROLES = ("Owner", "Founder & CEO", "Managing director", "General manager")
OTHER_ROLES = (
    "Co-founder",
    "Marketing manager",
    "Operations manager",
    "E-commerce manager",
    "Finance manager",
)


def store_names(seed: int) -> list[tuple[str, str]]:
    """(industry, store name) pairs, unique, in the seed's order."""
    names = [
        (industry, f"{prefix} {noun}")
        for industry, nouns in INDUSTRIES.items()
        for prefix in STORE_PREFIXES
        for noun in nouns
    ]
    random.Random(f"{seed}:stores").shuffle(names)
    return names


def store_code(name: str, index: int) -> str:
    """The store code of the seed order's `index`-th store name."""
    return f"{slug(name)[:10].upper()}-{index + 1:03d}"


def _phone(rng: random.Random, market: Market) -> str:
    for _ in range(50):
        pattern = rng.choice(market.phone_patterns)
        number = "".join(str(rng.randrange(10)) if ch == "#" else ch for ch in pattern)
        if phonenumbers.is_valid_number(phonenumbers.parse(number)):
            return number
    raise RuntimeError(f"no valid demo phone number for {market.country}")


def yearly_price(rng: random.Random, plan: Plan, store_manager: bool, market: Market) -> Decimal:
    if plan is Plan.ENTERPRISE:
        usd = Decimal(rng.randrange(8000, 20001, 500))
    else:
        usd = PLAN_PRICE_USD[plan] * Decimal(rng.randint(95, 110)) / 100
    if store_manager:
        usd += STORE_MANAGER_USD
    return round_price(usd * market.usd_rate, market)


def round_price(amount: Decimal, market: Market) -> Decimal:
    """`amount` of the market's currency as a round price (a multiple of its price step)."""
    steps = (amount / market.price_step).quantize(Decimal(1))
    return Money(steps * market.price_step, market.currency).amount


def make_contacts(rng: random.Random, market: Market, domain: str) -> list[Contact]:
    pool = market.names
    if market.names == "western" and rng.random() < 0.25:
        pool = rng.choice(("egyptian", "gulf", "levant"))
    firsts, lasts = NAMES[pool]
    contacts: list[Contact] = []
    used: set[str] = set()
    roles = rng.sample(OTHER_ROLES, k=rng.choices((0, 1, 2), weights=(35, 45, 20))[0])
    for n, role in enumerate((rng.choice(PRIMARY_ROLES), *roles)):
        first, last = rng.choice(firsts), rng.choice(lasts)
        while f"{first} {last}" in used:
            first, last = rng.choice(firsts), rng.choice(lasts)
        used.add(f"{first} {last}")
        phone = _phone(rng, market)
        primary = n == 0
        contacts.append(
            Contact(
                name=f"{first} {last}",
                email=f"{slug(first)}.{slug(last)}@{domain}",
                phone=phone,
                whatsapp=phone if rng.random() < (0.85 if primary else 0.5) else None,
                role=role,
                is_primary=primary,
                is_decision_maker=primary or role == "Co-founder" or rng.random() < 0.2,
            )
        )
    return contacts
