"""The client page's health (P2): the latest score with its reasons, and the last 90 days
as a chart, each day's score as text."""

from __future__ import annotations

from dataclasses import dataclass

from kamportal.blueprints.charts import LineChart, line_chart
from kamportal.blueprints.clients import bp
from kamportal.models import Client, HealthBand
from kamportal.services.health import TOP, ClientHealthView, client_health


@dataclass(frozen=True)
class HealthPanel:
    health: ClientHealthView
    band: HealthBand | None
    chart: LineChart | None


@bp.app_template_global()
def client_health_panel(client: Client) -> HealthPanel:
    """The panel's score, band and chart; no chart before two days of history."""
    health = client_health(client)
    if health.latest is None:
        return HealthPanel(health, None, None)
    history = health.history
    chart = None
    if len(history) > 1:
        first, last = history[0].day.strftime("%d %b"), history[-1].day.strftime("%d %b")
        scores = [row.score for row in history]
        chart = line_chart(
            scores,
            [f"{row.day:%a %d %b}: {row.score} ({row.band.label})" for row in history],
            title=f"Health score a day, {first} to {last}",
            description=f"A line of the client's daily health score over {len(history)} "
            f"days, from {scores[0]} to {scores[-1]}, lowest {min(scores)}, highest "
            f"{max(scores)}.",
            top_label=str(TOP),
            scale_top=TOP,
            first_label=first,
            last_label=last,
        )
    return HealthPanel(health, health.latest.band, chart)
