"""Server-drawn SVG charts for the staff pages: geometry computed here, drawn by the template (no script, no style
attribute: presentation attributes and app.css classes only). Every chart has its data table beside it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 40  # room for the axes' labels


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int


@dataclass(frozen=True, slots=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    bars: list[Bar]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    baseline: float
    left: int
    right_edge: int
    total: int
    peak: int


def _nice_top(peak: int) -> int:
    """The axis' top: the first of 1, 2, 5 x 10^n at or above the peak (at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= peak:
                return max(step * factor, 1)
        step *= 10


def daily_bars(days: Sequence[date], values: Sequence[int]) -> BarChart:
    """One bar per day, scaled to a rounded top; a day label every few days so that they never overlap."""
    top = _nice_top(max(values, default=0))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(days), 1)
    gap = min(slot * 0.2, 4)
    bars = [
        Bar(
            x=round(LEFT + i * slot + gap / 2, 2),
            y=round(TOP + plot_h - value / top * plot_h, 2),
            width=round(max(slot - gap, 1), 2),
            height=round(value / top * plot_h, 2),
            label=day.isoformat(),
            value=value,
        )
        for i, (day, value) in enumerate(zip(days, values, strict=True))
    ]
    every = max(1, round(len(days) / 8))
    x_ticks = [Tick(round(LEFT + i * slot + slot / 2, 2), day.strftime("%m-%d")) for i, day in enumerate(days)][::every]
    step = top // 5 if top >= 5 else 1
    y_ticks = [Tick(round(TOP + plot_h - k / top * plot_h, 2), str(k)) for k in range(0, top + 1, step)]
    return BarChart(
        width=WIDTH,
        height=HEIGHT,
        bars=bars,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        baseline=TOP + plot_h,
        left=LEFT,
        right_edge=WIDTH - RIGHT,
        total=sum(values),
        peak=max(values, default=0),
    )
