"""The client page's store figures (F4): the numbers of services/store_trends, and the two
charts drawn from them (orders, GMV), each day labelled in words."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from kamportal.blueprints.charts import LineChart, line_chart
from kamportal.blueprints.clients import bp
from kamportal.models import Client
from kamportal.services.store_trends import StoreTrends, store_trends


@dataclass(frozen=True)
class StoreFiguresPanel:
    trends: StoreTrends
    orders_chart: LineChart
    gmv_chart: LineChart


def _when(trends: StoreTrends, index: int) -> str:
    return trends.days[index].day.strftime("%a %d %b")


@bp.app_template_global()
def client_store_figures(client: Client) -> StoreFiguresPanel:
    """The panel's numbers and charts: the last 90 whole days of the store's calendar."""
    trends = store_trends(client)
    days = trends.days
    first, last = days[0].day.strftime("%d %b"), days[-1].day.strftime("%d %b")
    span = f"{first} to {last}"
    missing = len(days) - trends.days_with_figures
    gaps = ""
    if missing:
        gaps = f"; {missing} day{'s' if missing != 1 else ''} without figures left blank"
    orders = [d.orders for d in days]
    top_orders = max((o for o in orders if o is not None), default=0)
    gmv = [d.gmv for d in days]
    top_gmv = max((g for g in gmv if g is not None), default=Decimal(0))
    return StoreFiguresPanel(
        trends,
        line_chart(
            orders,
            [
                f"{_when(trends, i)}: "
                + ("no figures" if o is None else f"{o} order{'s' if o != 1 else ''}")
                for i, o in enumerate(orders)
            ],
            title=f"Orders a day, {span}",
            description=f"A line of the store's daily orders over {len(days)} days, "
            f"highest {top_orders}{gaps}.",
            top_label=str(top_orders),
            scale_top=top_orders,
            first_label=first,
            last_label=last,
        ),
        line_chart(
            gmv,
            [
                f"{_when(trends, i)}: " + ("no figures" if g is None else str(trends.money(g)))
                for i, g in enumerate(gmv)
            ],
            title=f"GMV a day ({trends.currency}), {span}",
            description=f"A line of the store's daily GMV over {len(days)} days, "
            f"highest {trends.money(top_gmv)}{gaps}.",
            top_label=f"{top_gmv:,.0f}",
            scale_top=top_gmv,
            first_label=first,
            last_label=last,
        ),
    )
