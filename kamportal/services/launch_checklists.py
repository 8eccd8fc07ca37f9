"""The launch checklists of the process, defined once as data (L1, L3, L4, L5).

Each client gets its own copy of every item (`ChecklistItem` rows) when its onboarding
starts; the keys below tie a copy to its definition, so keep them stable. The texts
follow the seed's LMS service, prerequisites & foundation, Google Shopping setup,
pre-launching activities and final launch (UAT) lists.
"""

from __future__ import annotations

from dataclasses import dataclass

from kamportal.i18n import N_


@dataclass(frozen=True)
class ItemDefinition:
    key: str
    text: str
    section: str = ""


@dataclass(frozen=True)
class ChecklistDefinition:
    key: str
    title: str
    rule: str
    intro: str
    items: tuple[ItemDefinition, ...]


def _items(section: str, *entries: tuple[str, str]) -> tuple[ItemDefinition, ...]:
    return tuple(ItemDefinition(key, text, section) for key, text in entries)


LMS = ChecklistDefinition(
    key="lms",
    title="LMS service",
    rule="L1",
    intro="Each step agreed with the client, with its evidence (emails, screenshots, "
    "ticket links) and the last update.",
    items=_items(
        "",
        ("domain-ssl", N_("Domain linking/registration and SSL activation")),
        ("template", N_("Choosing a template")),
        ("branding", N_("Branding creation, theme selection, colors and final layout")),
        ("logo-slogan", N_("Logo & slogan creation (1 logo, changeable once)")),
        (
            "banners-sliders",
            N_(
                "All store banners, sliders and UI requirements (at most 7 slides & banners, "
                "changeable once)"
            ),
        ),
        ("web-pages", N_("Store web pages (Terms of Service, Privacy Policy …)")),
        (
            "products",
            N_("Products from the Excel template (at most 200 during LMS, 600 per year)"),
        ),
        ("categories", N_("Categories, in both languages if needed (at most 50)")),
        (
            "payment-shipping-advice",
            N_("Payment & shipping methods advised for the store's target countries"),
        ),
        ("payment-shipping-integration", N_("Shipping and payment methods integrated")),
        ("mail-server", N_("Mail server linked")),
        ("general-settings", N_("General settings adjusted (users, customers access)")),
        ("currencies-languages", N_("Currencies & languages settings adjusted")),
        ("stock-orders", N_("Stock & orders workflow adjusted")),
        (
            "developer-accounts",
            N_("Developer accounts for Play Store & App Store created or provided"),
        ),
    ),
)

FOUNDATION = ChecklistDefinition(
    key="foundation",
    title="Prerequisites & foundation",
    rule="L3",
    intro="Marketing & analysis accounts the store needs before it sells.",
    items=_items(
        "Marketing & analysis",
        ("email-marketing", "Setup email marketing"),
        ("facebook-business", "Create Facebook Business account"),
        ("facebook-page", "Add Facebook page"),
        ("facebook-pixel", "Setup Facebook Pixel tracking"),
        ("google-analytics", "Create Google Analytics account"),
        ("gtm-account", "Create Google Tag Manager account"),
        ("gtm-container", "Create container in Google Tag Manager"),
        ("gtm-code", "Add container code to web pages"),
        ("gtm-tag-analytics", "Create GTM tag for Google Analytics"),
        ("gtm-tag-pixel", "Create GTM tag for Facebook Pixels"),
        ("gtm-publish", "Publish (activate) both GTM tags"),
        ("adwords-account", "Create Google AdWords account"),
        ("adwords-analytics", "Link AdWords account to Analytics"),
        ("linkedin", "Create LinkedIn account"),
        ("instagram", "Create Instagram account"),
        ("twitter", "Create Twitter account"),
        ("youtube", "Create YouTube account"),
        ("pinterest", "Create Pinterest account"),
        ("snapchat", "Create Snapchat account"),
    ),
)

GOOGLE_SHOPPING = ChecklistDefinition(
    key="google_shopping",
    title="Google Shopping setup",
    rule="L3",
    intro="Merchant Centre, the product feed, e-commerce tracking and Google Ads.",
    items=(
        *_items(
            "Google Merchant Centre",
            ("gmc-account", "Create Google Merchant Centre (GMC) account"),
            ("gmc-domain", "Verify and claim the domain in GMC"),
            ("gmc-shipping", "Configure shipping settings in GMC"),
            ("product-feed", "Create a product feed"),
        ),
        *_items(
            "Data feed management",
            ("feed-upload", "Upload product feed"),
            ("feed-diagnostics", "Review the Diagnostics tab"),
            ("feed-errors", "Fix errors"),
        ),
        *_items(
            "Google Analytics",
            ("ecommerce-tracking", "Switch on e-commerce tracking in Google Analytics"),
            ("tracking-code", "Add an e-commerce tracking code to the website"),
            ("tag-assistant", "Verify setup with Google Tag Assistant"),
        ),
        *_items(
            "Google Ads",
            ("ads-account", "Create a Google Ads account"),
            ("ads-analytics", "Link Google Ads to Google Analytics"),
            ("ads-conversions", "Import transactions as a conversion goal in Google Ads"),
            ("gmc-ads", "Link GMC to Google Ads"),
        ),
    ),
)

PRE_LAUNCH = ChecklistDefinition(
    key="pre_launch",
    title="Pre-launch checks",
    rule="L4",
    intro="After the LMS steps, before the launch.",
    items=(
        *_items(
            "Design",
            ("design-performance", "Store design, layout and performance checked"),
            ("marketing-experts", "Marketing experts consulted on the design & layout"),
        ),
        *_items(
            "Mobile view of the main pages",
            ("mobile-product", "Product page"),
            ("mobile-category", "Category page"),
            ("mobile-brand", "Brand page (if available)"),
            ("mobile-offers", "Special offers page (if available)"),
            ("mobile-cart", "Cart page"),
            ("mobile-checkout", "Checkout page"),
        ),
        *_items(
            "Sales",
            ("multiple-options", "Client advised to accept multiple payment & shipping options"),
            ("quick-checkout", "Quick Checkout Page app checked and its settings adjusted"),
            ("abandoned-cart", "Client advised to install the Abandoned Cart app"),
            (
                "test-order",
                "Test order placed through every payment and shipping method, all working",
            ),
            (
                "product-content",
                "Better product descriptions & pictures (specifications, several pictures, "
                "360° or video, the product's story)",
            ),
            ("orders-reports", "Client knows how to handle orders and produce sales reports"),
        ),
    ),
)

# L5: the store goes live only when every item here is ticked, this one included.
TEST_PAYMENTS_DISABLED = "test-payments-disabled"

UAT = ChecklistDefinition(
    key="uat",
    title="Final launch checklist (UAT)",
    rule="L5",
    intro="The store is marked launched only when every item is ticked, test payments "
    "disabled included, or a team leader overrides with a reason.",
    items=_items(
        "",
        (
            "navigation",
            "Navigation works as it should in the theme, on computer and mobile",
        ),
        (
            "pages-speed",
            "All store pages, categories and products load correctly, at the expected speed",
        ),
        ("logo-cart", "The logo (top right or left) looks right along with the cart icon"),
        ("add-to-cart", "Add to cart works when adding and removing products"),
        ("checkout", "The checkout works: a product can be bought from start to finish"),
        (TEST_PAYMENTS_DISABLED, "Test payments disabled, just before launch"),
        ("policies", "Privacy policy, terms and conditions, return policies in place"),
        ("about-us", "About Us page has the information that builds trust"),
        ("contact-us", "Contact Us page works and messages are received"),
        (
            "shipping-tax",
            "Shipping and tax calculations are correct, at a cost reasonable against competitors",
        ),
        ("product-pages", "Product pages and descriptions look professional"),
        ("plugins", "Installed plugins and apps work and do not slow the store"),
    ),
)

# L5: what must be complete before a store goes live (or a leader overrides), in the
# launch's order: the LMS steps (L1), the pre-launch checks with the test order (L4), the
# UAT (L5). The marketing foundation and Google Shopping (L3) do not hold the launch.
LAUNCH_GATE: tuple[ChecklistDefinition, ...] = (LMS, PRE_LAUNCH, UAT)

CHECKLISTS: dict[str, ChecklistDefinition] = {
    c.key: c for c in (LMS, FOUNDATION, GOOGLE_SHOPPING, PRE_LAUNCH, UAT)
}


def definition_of(checklist: str, item_key: str) -> ItemDefinition | None:
    definition = CHECKLISTS.get(checklist)
    if definition is None:
        return None
    return next((i for i in definition.items if i.key == item_key), None)
