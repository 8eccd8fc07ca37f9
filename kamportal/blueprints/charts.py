"""Charts drawn on the server as inline SVG (templates/_chart.html): no script, nothing the
page's Content-Security-Policy forbids, and every point carries its figure as text.

`line_chart` lays out one value a day (None: no figures that day) on a fixed canvas: the
line breaks where a day is missing rather than dropping to zero, and each day gets a mark
with its label (a dot for a figure, a tick on the axis for a missing day)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 600
HEIGHT = 140
LEFT = 56  # room for the scale's labels
TOP = 10
BOTTOM = 22  # room for the first and last days
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM


@dataclass(frozen=True)
class Mark:
    x: float
    y: float
    label: str
    missing: bool


@dataclass(frozen=True)
class LineChart:
    title: str
    description: str
    top_label: str
    first_label: str
    last_label: str
    marks: list[Mark]
    lines: list[str]  # each a polyline's points, "x,y x,y ..."

    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    baseline: int = TOP + PLOT_HEIGHT


def line_chart(
    values: Sequence[int | Decimal | None],
    labels: Sequence[str],
    *,
    title: str,
    description: str,
    top_label: str,
    scale_top: int | Decimal,
    first_label: str,
    last_label: str,
) -> LineChart:
    """The layout of one value a day; `labels` say each day's figure in words, `scale_top`
    is the figure at the top of the plot (its label `top_label`)."""
    count = len(values)
    step = (WIDTH - LEFT - 8) / max(count - 1, 1)
    top = Decimal(scale_top) or Decimal(1)
    baseline = TOP + PLOT_HEIGHT
    marks: list[Mark] = []
    lines: list[str] = []
    run: list[str] = []
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        x = round(LEFT + index * step, 1)
        if value is None:
            marks.append(Mark(x, baseline, label, missing=True))
            if run:
                lines.append(" ".join(run))
            run = []
            continue
        y = round(baseline - float(Decimal(value) / top) * PLOT_HEIGHT, 1)
        marks.append(Mark(x, y, label, missing=False))
        run.append(f"{x},{y}")
    if run:
        lines.append(" ".join(run))
    return LineChart(
        title=title,
        description=description,
        top_label=top_label,
        first_label=first_label,
        last_label=last_label,
        marks=marks,
        lines=[line for line in lines if " " in line],  # a lone day is its dot
    )
