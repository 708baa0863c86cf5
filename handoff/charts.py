"""Charts for the review, as inline SVG: drawn here, no script, no network, vector in print.

Each function takes plain numbers and returns one `<svg>` element. Colours follow the
report's: good (at or above target, or decided in time), warn (within 10 % of it), bad
(below, or decided late), and a muted grey for plans and targets. A rate built on too few
leads is drawn hollow and starred.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from handoff.words import percent as percent_digits
from handoff.words import rounded

GOOD, WARN, BAD, ACCENT = "#1f7a4d", "#b7791f", "#b42318", "#2f5fb3"
MUTED, LINE = "#8a93a6", "#dde2ea"
FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'


@dataclass(frozen=True)
class Bar:
    label: str
    actual: float
    plan: float | None
    shown: str  # the actual as people read it ("84", "233,600")
    plan_shown: str = ""


@dataclass(frozen=True)
class Point:
    label: str  # "Mar"
    value: float | None
    thin: bool = False


def tone(actual: float | None, target: float | None) -> str:
    if actual is None or not target:
        return ACCENT
    ratio = actual / target
    return GOOD if ratio >= 1 else WARN if ratio >= 0.9 else BAD


def funnel(bars: Sequence[Bar], title: str) -> str:
    """Each stage's actual beside its plan, each row scaled to the larger of the two."""
    width, row, left, right = 720, 34, 130, 210
    height = 28 + row * len(bars) + 26
    span = width - left - right
    parts = [_text(0, 16, title, weight=600, size=13)]
    for i, bar in enumerate(bars):
        y = 28 + i * row
        scale = max(bar.actual, bar.plan or 0) or 1
        parts.append(_text(0, y + 16, bar.label, size=12))
        if bar.plan is not None:
            parts.append(f'<rect x="{left}" y="{y + 2}" width="{span * bar.plan / scale:.1f}" '
                         f'height="20" rx="3" fill="#eef1f6" stroke="{MUTED}" '
                         'stroke-dasharray="4 3"/>')
        colour = tone(bar.actual, bar.plan)
        parts.append(f'<rect class="bar" x="{left}" y="{y + 6}" '
                     f'width="{max(span * bar.actual / scale, 1):.1f}" height="12" rx="2" '
                     f'fill="{colour}"/>')
        share = (f" ({percent_digits(Decimal(str(bar.actual)) / Decimal(str(bar.plan)), 0)}%)"
                 if bar.plan else "")
        against = f" of {bar.plan_shown}" if bar.plan is not None else ""
        parts.append(_text(width - right + 8, y + 16, f"{bar.shown}{against}{share}", size=12,
                           colour=colour))
    legend_y = height - 8
    parts.append(f'<rect x="{left}" y="{legend_y - 10}" width="14" height="10" fill="#eef1f6" '
                 f'stroke="{MUTED}" stroke-dasharray="4 3"/>')
    parts.append(_text(left + 18, legend_y, "plan for the period", size=11, colour=MUTED))
    x = left + 150
    for colour, words in ((GOOD, "at or above plan"), (WARN, "within 10 %"), (BAD, "below")):
        parts.append(f'<rect x="{x}" y="{legend_y - 9}" width="14" height="9" fill="{colour}"/>')
        parts.append(_text(x + 18, legend_y, words, size=11, colour=MUTED))
        x += 40 + 6 * len(words)
    return _svg(width, height, title, parts)


def trend(points: Sequence[Point], target: float | None, title: str, percent: bool = True) -> str:
    """A value month by month, against its target; thin months hollow and starred."""
    width, height, left, right, top, bottom = 380, 170, 36, 14, 26, 22
    values = [p.value for p in points if p.value is not None]
    # A month of nothing but zeros still gets an axis whose ticks read apart (0, 1 %, 2 %).
    highest = max([*values, target or 0, 0.01 if percent else 1])
    ceiling = _nice(highest * 1.1)
    if percent and highest <= 1:
        ceiling = min(ceiling, 1.0)  # a share never tops 100 %
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(points) - 1, 1)

    def x(i: int) -> float:
        return left + i * step

    def y(value: float) -> float:
        return top + plot_h * (1 - value / ceiling)

    last = points[-1].value if points else None
    heading = title + (f": {_value(last, percent)}" if last is not None else "")
    if target is not None:
        heading += f" (target {_value(target, percent)})"
    parts = [_text(0, 14, heading, weight=600, size=12)]
    for fraction in (0, 0.5, 1):
        level = ceiling * fraction
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y(level):.1f}" '
                     f'y2="{y(level):.1f}" stroke="{LINE}"/>')
        tick = _value(level, percent, short=ceiling >= (0.1 if percent else 10))
        parts.append(_text(left - 4, y(level) + 4, tick, size=9, colour=MUTED, anchor="end"))
    if target is not None:
        parts.append(f'<line class="target" x1="{left}" x2="{width - right}" '
                     f'y1="{y(target):.1f}" y2="{y(target):.1f}" stroke="{MUTED}" '
                     'stroke-dasharray="5 4" stroke-width="1.5"/>')
    for segment in _segments(points):
        coords = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in segment)
        parts.append(f'<polyline class="line" points="{coords}" fill="none" stroke="{ACCENT}" '
                     'stroke-width="2"/>')
    for i, point in enumerate(points):
        if point.value is not None:
            colour = tone(point.value, target)
            fill = "#fff" if point.thin else colour
            parts.append(f'<circle cx="{x(i):.1f}" cy="{y(point.value):.1f}" r="3.2" '
                         f'fill="{fill}" stroke="{colour}" stroke-width="1.5">'
                         f"<title>{escape(point.label)}: {_value(point.value, percent)}"
                         f"{' (thin: few leads)' if point.thin else ''}</title></circle>")
            if point.thin:
                parts.append(_text(x(i) + 4, y(point.value) - 4, "*", size=11, colour=colour))
        if i % 2 == (len(points) - 1) % 2:
            parts.append(_text(x(i), height - 6, point.label, size=9, colour=MUTED,
                               anchor="middle"))
    if not values:
        parts.append(_text(width / 2, top + plot_h / 2, "no data", size=11, colour=MUTED,
                           anchor="middle"))
    return _svg(width, height, title, parts)


def histogram(decisions: Sequence[tuple[float, bool]], limit: float, title: str) -> str:
    """Response times in business hours, one bar per hour up to twice the limit, then beyond.
    `decisions`: each one's hours and whether it was in time, the SLA's verdict, drawn in
    its colour: the hours do not say it (a decision made after the day's close, past its
    due instant, took no more business hours than one made at the close)."""
    width, height, left, top, bottom = 640, 190, 34, 26, 34
    edges = max(int(limit * 2), 2)
    counts = [[0, 0] for _ in range(edges + 1)]  # per bar: [in time, late]
    for value, in_time in decisions:  # bar i holds (i, i + 1] hours
        counts[min(max(math.ceil(value) - 1, 0), edges)][0 if in_time else 1] += 1
    tallest = max(sum(bar) for bar in counts) or 1
    plot_w, plot_h = width - left - 10, height - top - bottom
    slot = plot_w / len(counts)
    parts = [_text(0, 14, title, weight=600, size=13)]
    for i, (timely, late) in enumerate(counts):
        count = timely + late
        bar_h = plot_h * count / tallest
        x0 = left + i * slot
        said = f"{_bin(i, edges)} h: {count}" + (f" ({late} late)" if late else "")
        parts.append(f'<g class="bar"><title>{said}</title>'
                     + _stacked(x0 + 2, top + plot_h, slot - 4, plot_h / tallest,
                                [(timely, GOOD), (late, BAD)]) + "</g>")
        if count:
            parts.append(_text(x0 + slot / 2, top + plot_h - bar_h - 3, str(count), size=9,
                               colour=MUTED, anchor="middle"))
        parts.append(_text(x0 + slot / 2, height - 20, _bin(i, edges), size=9, colour=MUTED,
                           anchor="middle"))
    limit_x = left + min(limit, edges) * slot
    parts.append(f'<line x1="{limit_x:.1f}" x2="{limit_x:.1f}" y1="{top - 4}" '
                 f'y2="{top + plot_h}" stroke="{MUTED}" stroke-dasharray="5 4"/>')
    parts.append(_text(limit_x + 4, top + 6, f"due within {limit:g} business hours", size=10,
                       colour=MUTED))
    parts.append(_text(left, height - 4, "business hours from handoff to decision", size=10,
                       colour=MUTED))
    if not decisions:
        parts.append(_text(width / 2, top + plot_h / 2, "no handoff decided in the period",
                           size=11, colour=MUTED, anchor="middle"))
    return _svg(width, height, title, parts)


def _stacked(x: float, base: float, width: float, unit: float,
             parts: Sequence[tuple[int, str]]) -> str:
    """A bar of `parts` (count, colour) stacked up from `base`, `unit` high each; an empty
    bar is a muted line."""
    drawn = []
    for count, colour in parts:
        if count:
            base -= unit * count
            drawn.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{width:.1f}" '
                         f'height="{unit * count:.1f}" fill="{colour}"/>')
    return "".join(drawn) or (f'<rect x="{x:.1f}" y="{base - 0.5:.1f}" width="{width:.1f}" '
                              f'height="0.5" fill="{MUTED}"/>')


def _nice(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten at or above the value."""
    power = 10.0 ** math.floor(math.log10(value))
    return next(step * power for step in (1.0, 2.0, 2.5, 5.0, 10.0) if step * power >= value)


def _segments(points: Sequence[Point]) -> list[list[tuple[int, float]]]:
    """Runs of consecutive months with a value (a month without one breaks the line)."""
    runs: list[list[tuple[int, float]]] = [[]]
    for i, point in enumerate(points):
        if point.value is None:
            runs.append([])
        else:
            runs[-1].append((i, point.value))
    return [run for run in runs if run]


def _bin(i: int, edges: int) -> str:
    return f"{edges}+" if i == edges else f"{i}-{i + 1}"


def _value(value: float, percent: bool, short: bool = False) -> str:
    if percent:
        return f"{percent_digits(value, 0 if short else 1)}%"
    return rounded(value, 0 if short else 1)


def _text(x: float, y: float, text: str, size: int = 12, weight: int = 400,
          colour: str = "#1d2433", anchor: str = "start") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" font-weight="{weight}" '
            f'fill="{colour}" text-anchor="{anchor}">{escape(text)}</text>')


def _svg(width: int, height: int, title: str, parts: list[str]) -> str:
    return (f'<svg viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" role="img" aria-label="{escape(title)}" {FONT}>'
            f"<title>{escape(title)}</title>{''.join(parts)}</svg>")
