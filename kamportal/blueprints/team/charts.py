"""The leader's view's trends (issue 14) as charts: one line per figure over the 12 weeks
of services/team_view.trends, each week labelled in words."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from kamportal.blueprints.charts import LineChart, line_chart
from kamportal.services.team_view import Trends, Week


@dataclass(frozen=True)
class TrendChart:
    id: str
    chart: LineChart


# Each chart: its id, its title, and the week's figure (None: nothing to show that week).
FIGURES: tuple[tuple[str, str, str, Callable[[Week], int | Decimal | None]], ...] = (
    ("health-chart", "Average health score", "score", lambda w: w.average_health),
    ("red-chart", "Clients in red", "clients", lambda w: w.clients_in_red),
    ("contacts-chart", "Contacts made", "contacts", lambda w: w.contacts),
    ("escalations-chart", "Escalations opened", "escalations", lambda w: w.escalations),
    ("orders-chart", "Store orders", "orders", lambda w: w.orders),
)


def trend_charts(trends: Trends) -> list[TrendChart]:
    """One chart per figure, a mark per week with its figure as text."""
    weeks = trends.weeks
    first, last = weeks[0].first.strftime("%d %b"), weeks[-1].last.strftime("%d %b")
    charts = []
    for chart_id, title, unit, figure in FIGURES:
        values = [figure(week) for week in weeks]
        top = max((v for v in values if v is not None), default=0)
        labels = [
            f"Week of {week.first:%d %b}: " + ("no scores" if value is None else f"{value} {unit}")
            for week, value in zip(weeks, values, strict=True)
        ]
        charts.append(
            TrendChart(
                chart_id,
                line_chart(
                    values,
                    labels,
                    title=f"{title} a week, {first} to {last}",
                    description=f"A line of the team's {title.lower()} over {len(weeks)} weeks, "
                    f"highest {top}.",
                    top_label=str(top),
                    scale_top=top,
                    first_label=first,
                    last_label=last,
                ),
            )
        )
    return charts
