"""A small per-minute chart as SVG geometry (pure): alerts as bars on the left scale, lines as a
polyline on the right scale. The template draws it; only numbers and clock labels come from here."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 180
LEFT, RIGHT, TOP, BOTTOM = 40, 50, 10, 24  # margins for the axes' labels


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    w: float
    h: float
    title: str


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    bars: list[Bar] = field(default_factory=list)
    line_points: str = ""
    line_dots: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    alerts_max: int = 0
    lines_max: int = 0
    plot_left: int = LEFT
    plot_right: int = WIDTH - RIGHT
    plot_top: int = TOP
    plot_bottom: int = HEIGHT - BOTTOM


def _nice(n: float) -> int:
    """A round axis maximum at or above n (1, 2, 5 times a power of ten)."""
    if n <= 1:
        return 1
    scale = 1
    while True:
        for step in (1, 2, 5):
            if step * scale >= n:
                return step * scale
        scale *= 10


def per_minute_chart(alerts: dict[int, float], lines: dict[int, float], *, last_minute: int, minutes: int) -> Chart:
    """Bars of `alerts` and a line of `lines` (epoch minute -> count) for the `minutes` minutes up to
    and including `last_minute`."""
    first = last_minute - minutes + 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / minutes
    a_max = _nice(max((alerts.get(first + i, 0) for i in range(minutes)), default=0))
    l_max = _nice(max((lines.get(first + i, 0) for i in range(minutes)), default=0))
    bars, points, dots, ticks = [], [], [], []
    for i in range(minutes):
        minute = first + i
        label = time.strftime("%H:%M", time.gmtime(minute * 60))
        a, n = alerts.get(minute, 0), lines.get(minute, 0)
        x = LEFT + i * step
        h = plot_h * a / a_max
        bars.append(Bar(round(x + step * 0.15, 1), round(TOP + plot_h - h, 1), round(step * 0.7, 1), round(h, 1),
                        f"{label} UTC: {int(a)} alerts, {int(n)} lines"))
        cx, cy = round(x + step / 2, 1), round(TOP + plot_h - plot_h * n / l_max, 1)
        points.append(f"{cx},{cy}")
        dots.append(Bar(cx, cy, 0, 0, f"{label} UTC: {int(n)} lines"))
        if i % 5 == 0 or i == minutes - 1:
            ticks.append(Tick(round(x + step / 2, 1), label))
    return Chart(bars=bars, line_points=" ".join(points), line_dots=dots, ticks=ticks, alerts_max=a_max,
                 lines_max=l_max)
