"""The KYC questionnaire (O1), defined once as data: the seed's "Know Your Customer"
points and its product-fit questions. The client's form, the ACM's form and the client
page all read these; answers are stored by key, so keep the keys stable.
"""

from __future__ import annotations

from dataclasses import dataclass

# Kinds of answer: a line of text, a paragraph, or one of `choices`.
TEXT, LONG_TEXT, CHOICE = "text", "long_text", "choice"
YES_NO_NOT_SURE = ("Yes", "No", "Not sure")
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
        "Your business",
        (
            Question("location", "Where is the business located?", hint="City and country"),
            Question(
                "area_of_interest",
                "Which markets or area do you want to sell to?",
                hint="Countries, regions or cities",
            ),
            Question("industry", "What industry is the store in?", hint="e.g. fashion, food"),
            Question(
                "target_customers",
                "Who are your target customers?",
                LONG_TEXT,
            ),
        ),
    ),
    QuestionSection(
        "Working together",
        (
            Question(
                "communication",
                "How do you prefer we communicate from now on?",
                CHOICE,
                ("Email", "Zoom meetings", "Phone calls"),
            ),
            Question(
                "onboarding_material",
                "Which onboarding material suits you best?",
                CHOICE,
                ("Knowledge base articles", "Videos", "Email sequences", "A mix of these"),
            ),
        ),
    ),
    QuestionSection(
        "Experience",
        (
            Question(
                "ecommerce_familiarity",
                "How familiar are you with selling online?",
                CHOICE,
                ("New to it", "Some experience", "Experienced"),
            ),
            Question(
                "platform_familiarity",
                "How familiar are you with the ExpandCart platform?",
                CHOICE,
                ("New to it", "Some experience", "Experienced"),
            ),
            Question(
                "marketing",
                "Will the store's marketing be done in-house or outsourced?",
                CHOICE,
                ("In-house", "Outsourced", "Both", "Not decided yet"),
            ),
            Question(
                "special_requirements",
                "Any special requirements for the store set-up (industry, country regulations …)?",
                LONG_TEXT,
                optional=True,
            ),
        ),
    ),
    QuestionSection(
        "Your products",
        (
            Question("main_products", "What are your main products?", LONG_TEXT),
            Question(
                "solves_problem", "Does the product solve a problem?", CHOICE, YES_NO_NOT_SURE
            ),
            Question(
                "large_market",
                "Does the product have a large target market?",
                CHOICE,
                YES_NO_NOT_SURE,
            ),
            Question(
                "hard_to_find",
                "Is the product new or hard to find in traditional stores?",
                CHOICE,
                YES_NO_NOT_SURE,
            ),
            Question("unique", "Is the product unique and impressive?", CHOICE, YES_NO_NOT_SURE),
            Question(
                "trend",
                "Is the product in an uptrend or a downtrend?",
                CHOICE,
                ("Uptrend", "Stable", "Downtrend", "Not sure"),
            ),
            Question(
                "competitors",
                "Are there competitors doing well with this product?",
                CHOICE,
                YES_NO_NOT_SURE,
            ),
            Question(
                "track_record",
                "Does the product have a track record of selling well?",
                CHOICE,
                YES_NO_NOT_SURE,
            ),
            Question(
                "would_buy",
                "Would you or someone you know be interested in buying this product?",
                CHOICE,
                YES_NO_NOT_SURE,
            ),
        ),
    ),
)

QUESTIONS: dict[str, Question] = {q.key: q for s in KYC_SECTIONS for q in s.questions}
