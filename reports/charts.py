"""Trend charts as geometry for inline SVG: line charts and sparklines.

Pure: turns series of values per run into coordinates, ticks and a text
summary (views.Chart); the template `_charts.html` draws them. No plotting
dependency, no script: the SVG is static and prints as it shows.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from reports.views import Chart, Point, Series, Tick

Values = Sequence[float | None]


def fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value:.0%}" if value in (0, 1) or abs(value * 100 - round(value * 100)) < 0.05 else f"{value:.1%}"
    return f"{value:g}" if value != int(value) else str(int(value))


def nice_max(value: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10^k at or above `value` (at least 1)."""
    if value <= 1:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= value:
            return float(step * power)
    return float(10 * power)


def _xs(n: int, left: float, right: float) -> list[float]:
    if n == 1:
        return [(left + right) / 2]
    return [left + i * (right - left) / (n - 1) for i in range(n)]


def _path(coords: Sequence[tuple[float, float] | None]) -> str:
    parts, pen_down = [], False
    for c in coords:
        if c is None:
            pen_down = False
            continue
        parts.append(f"{'L' if pen_down else 'M'}{c[0]:.1f} {c[1]:.1f}")
        pen_down = True
    return " ".join(parts)


def _summary(named: Sequence[tuple[str, Values]], percent: bool) -> str:
    lines = []
    for name, values in named:
        known = [v for v in values if v is not None]
        if known:
            lines.append(f"{name}: {fmt(known[0], percent)} → {fmt(known[-1], percent)}")
    return "; ".join(lines)


def line_chart(title: str, labels: Sequence[str], named: Sequence[tuple[str, Values]], *, percent: bool,
               width: int = 440, height: int = 210, tooltip_labels: Sequence[str] | None = None) -> Chart | None:
    """One chart over runs; `labels` name the runs (x axis), each series has one value (or None) per run.

    None when no series has any value.
    """
    named = [(name, values) for name, values in named if any(v is not None for v in values)]
    if not named or not labels:
        return None
    left, right, top, bottom = 46, width - 14, 12, height - 28
    top_value = 1.0 if percent else nice_max(max(v for _, vs in named for v in vs if v is not None))
    xs = _xs(len(labels), left, right)
    tips = tooltip_labels or labels

    def y_of(v: float) -> float:
        return bottom - (bottom - top) * (v / top_value)

    series = []
    for i, (name, values) in enumerate(named):
        coords = [(xs[k], y_of(v)) if v is not None else None for k, v in enumerate(values)]
        points = tuple(Point(round(c[0], 1), round(c[1], 1), f"{tips[k]} · {name}: {fmt(values[k] or 0, percent)}")
                       for k, c in enumerate(coords) if c is not None)
        series.append(Series(name, f"c{i % 4}", _path(coords), points))
    y_ticks = tuple(Tick(round(y_of(top_value * f), 1), fmt(top_value * f, percent), "end") for f in (0, .25, .5, .75, 1)
                    if percent or (top_value * f) == int(top_value * f))
    every = max(1, math.ceil(len(labels) / 6))
    last = len(labels) - 1
    x_ticks = tuple(Tick(round(xs[k], 1), labels[k], "end" if k == last and k else "middle") for k in range(len(labels))
                    if k % every == 0 and (len(labels) - 1 - k >= every or k == 0) or k == len(labels) - 1)
    return Chart(title, width, height, left, right, top, bottom, x_ticks, y_ticks, tuple(series),
                 _summary(named, percent))


def sparkline(title: str, labels: Sequence[str], values: Values, *, percent: bool = True,
              width: int = 120, height: int = 30) -> Chart | None:
    """A small line without axes; None unless at least two runs have a value."""
    if sum(v is not None for v in values) < 2:
        return None
    left, right, top, bottom = 3, width - 3, 3, height - 3
    top_value = 1.0 if percent else nice_max(max(v for v in values if v is not None))
    xs = _xs(len(values), left, right)
    coords = [(xs[k], bottom - (bottom - top) * v / top_value) if v is not None else None
              for k, v in enumerate(values)]
    points = tuple(Point(round(c[0], 1), round(c[1], 1), f"{labels[k]}: {fmt(values[k] or 0, percent)}")
                   for k, c in enumerate(coords) if c is not None)
    return Chart(title, width, height, left, right, top, bottom, (), (),
                 (Series(title, "c0", _path(coords), points),), _summary([(title, values)], percent))
