"""A run chart as inline SVG, drawn on the server from a services.facility_results chart.

Pure drawing: no Flask, no SQL, no script, no external asset and no style attribute (the
console's CSP): lines and marks carry classes the page's stylesheet colours (results.css), and
presentation attributes (stroke-dasharray, fill="none") that are not CSS. Nothing is said by
colour alone: signal points are diamonds and carry a text label, the median is named, the trial
point is ringed and labelled, and a text summary repeats the chart in words for screen readers
(the SVG's <title> and <desc>, and `chart_summary` for the page).

Texts are French and marked for translation with `_l` (a no-op marker the console's extraction
finds); pass `translate` (flask_babel.gettext) to show them in the reader's language.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction
from html import escape

from flows.schedule import short_period
from services.facility_results import ChartSignal, IndicatorChart


def _l(text: str) -> str:
    """Marks `text` for extraction (pybabel -k _l); translated when drawn."""
    return text


Translate = Callable[[str], str]

SIGNAL_NAMES = {
    "supervision.signal.up": _l("hausse durable"),
    "supervision.signal.down": _l("baisse durable"),
    "supervision.signal.trend_up": _l("hausse continue"),
    "supervision.signal.trend_down": _l("baisse continue"),
    "supervision.signal.few_crossings": _l("peu de croisements"),
    "supervision.signal.many_crossings": _l("trop de croisements"),
}
"""Each signal by its digest SMS name's key: the console says what the SMS said."""
TRIAL = _l("essai")
MEDIAN = _l("médiane %(value)s")
NO_POINT = _l("%(label)s : pas encore de point.")
SUMMARY_POINTS = _l("%(label)s : %(n)d points de %(first)s à %(last)s.")
SUMMARY_GAPS = _l("%(n)d période(s) sans point.")
SUMMARY_MEDIAN = _l("Médiane %(value)s, tirée des %(n)d premiers points.")
SUMMARY_LAST = _l("Dernier point %(period)s : %(value)s.")
SUMMARY_SIGNAL = _l("Signal : %(name)s, de %(first)s à %(last)s (%(n)d points).")
SUMMARY_NO_SIGNAL = _l("Aucun signal : la variation reste habituelle.")
SUMMARY_FEW = _l("Moins de 10 points hors de la médiane : les règles ne disent encore rien.")
SUMMARY_TRIAL = _l("Le point %(period)s vient d'un essai.")

WIDE = 640.0
"""The plot's width for many periods; fewer spread out, up to MAX_STEP apart."""
MIN_STEP, MAX_STEP = 6.0, 32.0
HEIGHT = 150.0
LEFT, RIGHT, BOTTOM, LINE = 46.0, 46.0, 34.0, 14.0
"""Margins: the value axis is labelled on both sides, so a phone that shows the newest periods
(the right end, see results.css) still reads the values."""
LABEL_ROOM = 30.0
"""Horizontal room an axis label (S49, 27/11) needs: fewer labels when points are close."""


def run_chart_svg(
    chart: IndicatorChart,
    highlight_period: str | None = None,
    translate: Translate = str,
) -> str:
    """The chart as an inline <svg> element (a string of markup, escaped where it must be).

    Above the plot, one line each: the median's legend, each signal's name over the points it
    rests on, and the trial's label. `highlight_period` (a full label, 2026-W49) rings that
    period's point and labels it "essai": the console's phone previews a trial check-in with it.
    """
    return _Drawing(chart, highlight_period, translate).svg()


class _Drawing:
    def __init__(self, chart: IndicatorChart, highlight: str | None, translate: Translate) -> None:
        self.chart, self.translate = chart, translate
        self.slots = chart.slots
        self.where = {slot.period: index for index, slot in enumerate(self.slots)}
        self.highlight = highlight if self._has_point(highlight) else None
        count = max(len(self.slots), 1)
        self.step = min(MAX_STEP, max(MIN_STEP, WIDE / count))
        self.rows = 1 + len(chart.signals) + (1 if self.highlight else 0)
        self.top = LINE * self.rows + 8
        self.width = LEFT + self.step * count + RIGHT
        self.height = self.top + HEIGHT + BOTTOM
        self.scale = _Scale(chart, self.top)
        self.radius = min(3.5, self.step / 2.6)
        self.parts: list[str] = []

    def svg(self) -> str:
        chart = self.chart
        ident = f"chart-{_ident(chart.flow_key)}-{_ident(chart.key)}"
        title = f"{chart.label} ({chart.flow_title})"
        summary = chart_summary(chart, self.highlight, self.translate)
        self.parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="runchart" role="img" '
            f'width="{self.width:.0f}" height="{self.height:.0f}" '
            f'viewBox="0 0 {self.width:.0f} {self.height:.0f}" '
            f'aria-labelledby="{ident}-title {ident}-desc">',
            f'<title id="{ident}-title">{escape(title)}</title>',
            f'<desc id="{ident}-desc">{escape(summary)}</desc>',
        ]
        self._axes()
        self._median()
        self._line()
        for row, signal in enumerate(chart.signals, start=1):
            self._signal(row, signal)
        self._points()
        if self.highlight:
            self._trial(self.rows - 1)
        self.parts.append("</svg>")
        return "".join(self.parts)

    def x(self, index: int) -> float:
        return LEFT + self.step * (index + 0.5)

    def y(self, index: int) -> float:
        return self.scale.y(self.slots[index].point.value)

    def _has_point(self, period: str | None) -> bool:
        return period in self.where and self.slots[self.where[period]].point is not None

    def _axes(self) -> None:
        """The value grid, labelled left and right, and the periods along the bottom."""
        right = self.width - RIGHT
        for value, text in self.scale.ticks():
            y = self.scale.y(value)
            self.parts += [
                f'<line class="grid" x1="{LEFT:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}"/>',
                f'<text class="tick" x="{LEFT - 6:.1f}" y="{y + 4:.1f}" text-anchor="end">'
                f"{escape(text)}</text>",
                f'<text class="tick" x="{right + 6:.1f}" y="{y + 4:.1f}">{escape(text)}</text>',
            ]
        every = max(1, math.ceil(LABEL_ROOM / self.step))
        last = len(self.slots) - 1
        for index, slot in enumerate(self.slots):
            if (last - index) % every == 0:  # the newest period always has its label
                self.parts.append(
                    f'<text class="tick" x="{self.x(index):.1f}" y="{self.top + HEIGHT + 18:.1f}" '
                    f'text-anchor="middle">{escape(slot.short)}</text>'
                )

    def _median(self) -> None:
        """Solid over the baseline points it is taken from, dashed where it is extended; its
        legend on the first line, at the right end (what a phone shows first)."""
        chart = self.chart
        if chart.median is None or not self.slots:
            return
        y, half, last = self.scale.y(chart.median), self.step / 2, len(self.slots) - 1
        end = self.where.get(chart.baseline[-1], 0) if chart.baseline else 0
        self.parts.append(
            f'<line class="median" x1="{self.x(0) - half:.1f}" y1="{y:.1f}" '
            f'x2="{self.x(end) + half:.1f}" y2="{y:.1f}"/>'
        )
        if end < last:
            self.parts.append(
                f'<line class="median" x1="{self.x(end) + half:.1f}" y1="{y:.1f}" '
                f'x2="{self.x(last) + half:.1f}" y2="{y:.1f}" stroke-dasharray="6 4"/>'
            )
        label = self.translate(MEDIAN) % {"value": _value(chart, chart.median)}
        right = self.width - RIGHT
        self.parts += [
            f'<line class="median median-key" x1="{right - 22:.1f}" y1="{LINE - 4:.1f}" x2="{right:.1f}" '
            f'y2="{LINE - 4:.1f}"/>',
            f'<text class="median-label" x="{right - 28:.1f}" y="{LINE:.1f}" '
            f'text-anchor="end">{escape(label)}</text>',
        ]

    def _line(self) -> None:
        """The points joined in time order, broken where a period has no point."""
        path, pen_down = [], False
        for index, slot in enumerate(self.slots):
            if slot.point is None:
                pen_down = False
                continue
            path.append(f"{'L' if pen_down else 'M'}{self.x(index):.1f} {self.y(index):.1f}")
            pen_down = True
        if path:
            self.parts.append(f'<path class="line" fill="none" d="{" ".join(path)}"/>')

    def _signal(self, row: int, signal: ChartSignal) -> None:
        """A diamond on each point the rule counted; the signal's name on its own line, over
        the span of those points."""
        indices = [self.where[p] for p in signal.periods if self._has_point(p)]
        if not indices:
            return
        size = max(self.radius + 3, 5.0)
        for index in indices:
            cx, cy = self.x(index), self.y(index)
            self.parts.append(
                f'<path class="signal" d="M{cx:.1f} {cy - size:.1f} L{cx + size:.1f} {cy:.1f} '
                f'L{cx:.1f} {cy + size:.1f} L{cx - size:.1f} {cy:.1f} Z" fill="none"/>'
            )
        y = LINE * (row + 1)
        x0, x1 = self.x(min(indices)), self.x(max(indices))
        name = self.translate(SIGNAL_NAMES.get(signal.short, signal.rule))
        anchor, at = self._anchor(x1)
        self.parts += [
            f'<line class="signal-span" x1="{x0:.1f}" y1="{y + 3:.1f}" x2="{x1:.1f}" '
            f'y2="{y + 3:.1f}"/>',
            f'<text class="signal-label" x="{at:.1f}" y="{y:.1f}" text-anchor="{anchor}">'
            f"◆ {escape(name)}</text>",
        ]

    def _points(self) -> None:
        for index, slot in enumerate(self.slots):
            if slot.point is not None:
                self.parts.append(
                    f'<circle class="point" cx="{self.x(index):.1f}" cy="{self.y(index):.1f}" '
                    f'r="{self.radius:.1f}"/>'
                )

    def _trial(self, row: int) -> None:
        """A ring round the trial's point, its label on the last line above the plot and a
        dotted leader from the one to the other."""
        index = self.where[self.highlight]
        cx, cy = self.x(index), self.y(index)
        y = LINE * (row + 1)
        anchor, at = self._anchor(cx)
        self.parts += [
            f'<line class="trial-leader" x1="{cx:.1f}" y1="{y + 3:.1f}" x2="{cx:.1f}" '
            f'y2="{cy - 9:.1f}" stroke-dasharray="2 2"/>',
            f'<circle class="trial" cx="{cx:.1f}" cy="{cy:.1f}" r="9" fill="none"/>',
            f'<text class="trial-label" x="{at:.1f}" y="{y:.1f}" text-anchor="{anchor}">'
            f"◯ {escape(self.translate(TRIAL))}</text>",
        ]

    def _anchor(self, at: float) -> tuple[str, float]:
        """Where a label over the point at `at` goes: centred, unless it would leave the plot."""
        if at < LEFT + 50:
            return "start", at - 6
        if at > self.width - RIGHT - 50:
            return "end", at + 6
        return "middle", at


def chart_summary(
    chart: IndicatorChart, highlight_period: str | None = None, translate: Translate = str
) -> str:
    """The chart in words: its points, gaps, median, latest point and signals."""
    found = chart.points
    if not found:
        return translate(NO_POINT) % {"label": chart.label}
    last = found[-1]
    sentences = [
        translate(SUMMARY_POINTS)
        % {
            "label": chart.label,
            "n": len(found),
            "first": chart.slots[0].short,
            "last": short_period(last.period),
        }
    ]
    gaps = sum(slot.point is None for slot in chart.slots)
    if gaps:
        sentences.append(translate(SUMMARY_GAPS) % {"n": gaps})
    if chart.median is not None:
        sentences.append(
            translate(SUMMARY_MEDIAN)
            % {"value": _value(chart, chart.median), "n": len(chart.baseline)}
        )
    shown = _value(chart, last.value)
    if last.denominator is not None:
        shown += f" ({last.numerator}/{last.denominator})"
    sentences.append(
        translate(SUMMARY_LAST) % {"period": short_period(last.period), "value": shown}
    )
    for signal in chart.signals:
        sentences.append(
            translate(SUMMARY_SIGNAL)
            % {
                "name": translate(SIGNAL_NAMES.get(signal.short, signal.rule)),
                "first": short_period(signal.periods[0]),
                "last": short_period(signal.periods[-1]),
                "n": len(signal.periods),
            }
        )
    if not chart.signals:
        few = chart.rules == "anhoej" and chart.useful < 10
        sentences.append(translate(SUMMARY_FEW if few else SUMMARY_NO_SIGNAL))
    if highlight_period and any(p.period == highlight_period for p in found):
        sentences.append(translate(SUMMARY_TRIAL) % {"period": short_period(highlight_period)})
    return " ".join(sentences)


class _Scale:
    """Values to heights: 0-100 for a percent, 0 to a round figure above the largest count."""

    def __init__(self, chart: IndicatorChart, top: float) -> None:
        self.percent, self.top = chart.percent, top
        if chart.percent:
            self.high = Fraction(100)
        else:
            largest = max([p.value for p in chart.points] + [chart.median or 0, 1])
            self.high = Fraction(_round_up(largest))

    def y(self, value: Fraction | int) -> float:
        return self.top + HEIGHT * (1 - float(Fraction(value) / self.high))

    def ticks(self) -> list[tuple[Fraction, str]]:
        values = [Fraction(0), self.high / 2, self.high]
        return [(v, _number(v) + ("\u202f%" if self.percent else "")) for v in values]


def _round_up(value: Fraction) -> int:
    """The least of 1, 2, 5 x 10^k at or above `value`, so the axis reads in round figures."""
    power = 10 ** max(0, math.floor(math.log10(max(float(value), 1))))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= value)


def _value(chart: IndicatorChart, value: Fraction) -> str:
    return _number(value) + ("\u202f%" if chart.percent else "")


def _number(value: Fraction) -> str:
    """French figures: a whole number as it is, else one decimal after a comma (32,5)."""
    if value.denominator == 1:
        return str(value.numerator)
    rounded = round(float(value), 1)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.1f}".replace(".", ",")


def _ident(text: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in text)
