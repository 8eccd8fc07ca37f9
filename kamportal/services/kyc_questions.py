"""The KYC questionnaire (O1), defined once as data: the seed's "Know Your Customer"
points and its product-fit questions. The client's form, the ACM's form and the client
page all read these; answers are stored by key, so keep the keys stable. The texts are
English (a chosen answer is stored as its English choice) and marked for translation: the
client's page shows them in the client's language.
"""

from __future__ import annotations

from dataclasses import dataclass

from kamportal.i18n import N_

# Kinds of answer: a line of text, a paragraph, or one of `choices`.
TEXT, LONG_TEXT, CHOICE = "text", "long_text", "choice"
YES_NO_NOT_SURE = (N_("Yes"), N_("No"), N_("Not sure"))
MAX_ANSWER_LENGTH = 2000


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    kind: str = TEXT
    choices: tuple[str, ...] = ()
    hint: str = ""
    optional: bool = False


@dataclass(frozen=True)
class QuestionSection:
    title: str
    questions: tuple[Question, ...]


KYC_SECTIONS: tuple[QuestionSection, ...] = (
    QuestionSection(
        N_("Your business"),
        (
            Question("location", N_("Where is the business located?"), hint=N_("City and country")),
            Question(
                "area_of_interest",
                N_("Which markets or area do you want to sell to?"),
                hint=N_("Countries, regions or cities"),
            ),
            Question(
                "industry", N_("What industry is the store in?"), hint=N_("e.g. fashion, food")
            ),
            Question(
                "target_customers",
                N_("Who are your target customers?"),
                LONG_TEXT,
            ),
        ),
    ),
    QuestionSection(
        N_("Working together"),
        (
            Question(
                "communication",
                N_("How do you prefer we communicate from now on?"),
                CHOICE,
                (N_("Email"), N_("Zoom meetings"), N_("Phone calls")),
            ),
            Question(
                "onboarding_material",
                N_("Which onboarding material suits you best?"),
                CHOICE,
                (
                    N_("Knowledge base articles"),
                    N_("Videos"),
                    N_("Email sequences"),
                    N_("A mix of these"),
                ),
            ),
        ),
    ),
    QuestionSection(
        N_("Experience"),
        (
            Question(
                "ecommerce_familiarity",
                N_("How familiar are you with selling online?"),
                CHOICE,
                (N_("New to it"), N_("Some experience"), N_("Experienced")),
            ),
            Question(
                "platform_familiarity",
                N_("How familiar are you with the ExpandCart platform?"),
                CHOICE,
                (N_("New to it"), N_("Some experience"), N_("Experienced")),
            ),
            Question(
                "marketing",
                N_("Will the store's marketing be done in-house or outsourced?"),
                CHOICE,
                (N_("In-house"), N_("Outsourced"), N_("Both"), N_("Not decided yet")),
            ),
            Question(
                "special_requirements",
                N_(
                    "Any special requirements for the store set-up "
                    "(industry, country regulations …)?"
                ),
                LONG_TEXT,
                optional=True,
            ),
        ),
    ),
    QuestionSection(
        N_("Your products"),
        (
            Question("main_products", N_("What are your main products?"), LONG_TEXT),
            Question(
                "solves_problem", N_("Does the product solve a problem?"), CHOICE, YES_NO_NOT_SURE
            ),
            Question(
                "large_market",
                N_("Does the product have a large target market?"),
                CHOICE,
                YES_NO_NOT_SURE,
            ),
            Question(
                "hard_to_find",
                N_("Is the product new or hard to find in traditional stores?"),
                CHOICE,
                YES_NO_NOT_SURE,
            ),
            Question(
                "unique", N_("Is the product unique and impressive?"), CHOICE, YES_NO_NOT_SURE
            ),
            Question(
                "trend",
                N_("Is the product in an uptrend or a downtrend?"),
                CHOICE,
                (N_("Uptrend"), N_("Stable"), N_("Downtrend"), N_("Not sure")),
            ),
            Question(
                "competitors",
                N_("Are there competitors doing well with this product?"),
                CHOICE,
                YES_NO_NOT_SURE,
            ),
            Question(
                "track_record",
                N_("Does the product have a track record of selling well?"),
                CHOICE,
                YES_NO_NOT_SURE,
            ),
            Question(
                "would_buy",
                N_("Would you or someone you know be interested in buying this product?"),
                CHOICE,
                YES_NO_NOT_SURE,
            ),
        ),
    ),
)

QUESTIONS: dict[str, Question] = {q.key: q for s in KYC_SECTIONS for q in s.questions}
