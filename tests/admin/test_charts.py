"""The run chart's SVG (admin/charts.py): well-formed, small, and saying everything in shapes and
words as well as colours: points, the line broken at gaps, the median (solid where it is taken,
dashed where extended), signals as diamonds with their name, a trial ringed and labelled.

Pure: charts are built by hand, no database."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest

from admin.charts import chart_summary, run_chart_svg
from services.facility_results import ChartSignal, IndicatorChart, Slot
from supervision.indicators import Point

SVG = "{http://www.w3.org/2000/svg}"


def week(n: int) -> str:
    return f"2026-W{n:02d}"


def chart(
    numerators: list[int | None],
    signals: tuple[ChartSignal, ...] = (),
    percent: bool = True,
    first_week: int = 30,
) -> IndicatorChart:
    """Weeks from `first_week`, one numerator of 20 each (None: no point that week)."""
    slots = tuple(
        Slot(
            week(first_week + i),
            None
            if n is None
            else Point("CSCOM-X", week(first_week + i), n, 20 if percent else None),
        )
        for i, n in enumerate(numerators)
    )
    present = [s.point for s in slots if s.point is not None]
    return IndicatorChart(
        flow_key="weekly_qi",
        flow_title="Suivi QI de la semaine",
        key="good_practice",
        label="Bonne pratique",
        percent=percent,
        rules="anhoej",
        slots=slots,
        median=Fraction(40) if percent else Fraction(8),
        baseline=tuple(p.period for p in present[:12]),
        useful=len(present),
        longest_run=0,
        crossings=0,
        signals=signals,
    )


ROSE = [7, 9] * 6 + [16] * 8
RUN = ChartSignal(
    "long_run", "up", tuple(week(30 + i) for i in range(11, 20)), "supervision.signal.up"
)


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def of_class(root: ET.Element, name: str) -> list[ET.Element]:
    return [e for e in root.iter() if e.get("class") == name]


def test_the_svg_is_well_formed_and_labelled_for_screen_readers():
    root = parsed(run_chart_svg(chart(ROSE, (RUN,))))
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text == "Bonne pratique (Suivi QI de la semaine)"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert "Signal : hausse durable, de S41 à S49 (9 points)." in desc.text


def test_each_point_is_a_circle_and_the_line_breaks_at_a_gap():
    gapped = [7, 9, None, 9, 7, None, None, 16]
    root = parsed(run_chart_svg(chart(gapped)))
    assert len(of_class(root, "point")) == 5
    (line,) = of_class(root, "line")
    assert line.get("d").count("M") == 3  # three stretches: 2 points, 2 points, 1 point
    labels = [t.text for t in of_class(root, "tick")]
    assert "S37" in labels  # the newest period is always named, even without a point
    assert "1 période(s) sans point" not in chart_summary(chart(gapped))
    assert "3 période(s) sans point." in chart_summary(chart(gapped))


def test_the_median_is_solid_over_its_baseline_and_dashed_beyond():
    root = parsed(run_chart_svg(chart(ROSE)))
    solid, extended = of_class(root, "median")
    assert solid.get("stroke-dasharray") is None
    assert extended.get("stroke-dasharray") == "6 4"
    assert solid.get("y1") == extended.get("y1")
    assert float(solid.get("x2")) == pytest.approx(float(extended.get("x1")))
    (label,) = of_class(root, "median-label")
    assert label.text == "médiane 40\u202f%"


def test_a_signal_is_a_diamond_on_each_of_its_points_and_a_named_label():
    root = parsed(run_chart_svg(chart(ROSE, (RUN,))))
    assert len(of_class(root, "signal")) == 9
    (label,) = of_class(root, "signal-label")
    assert label.text == "◆ hausse durable"


def test_a_trial_point_is_ringed_and_labelled_essai():
    svg = run_chart_svg(chart(ROSE), highlight_period=week(49))
    root = parsed(svg)
    (ring,) = of_class(root, "trial")
    last_point = of_class(root, "point")[-1]
    assert (ring.get("cx"), ring.get("cy")) == (last_point.get("cx"), last_point.get("cy"))
    (label,) = of_class(root, "trial-label")
    assert label.text == "◯ essai"
    assert "Le point S49 vient d'un essai." in root.find(f"{SVG}desc").text


def test_a_trial_period_without_a_point_marks_nothing():
    assert 'class="trial"' not in run_chart_svg(chart([7, None]), highlight_period=week(31))


def test_texts_go_through_the_given_translation():
    svg = run_chart_svg(chart(ROSE, (RUN,)), week(49), translate=lambda text: f"[{text}]")
    assert "◯ [essai]" in svg and "◆ [hausse durable]" in svg and "[médiane 40\u202f%]" in svg
    assert "[Signal : hausse durable" not in svg  # the name inside a sentence is translated too
    assert "[Signal : [hausse durable], de S41 à S49 (9 points).]" in svg


def test_a_count_has_round_figures_on_its_axis():
    root = parsed(run_chart_svg(chart([3, 12, 7], percent=False)))
    left = [t.text for t in of_class(root, "tick") if t.get("text-anchor") == "end"]
    assert left == ["0", "10", "20"]
    assert "Dernier point S32 : 7." in chart_summary(chart([3, 12, 7], percent=False))


def test_a_share_reads_in_percent_with_a_french_decimal():
    odd = chart([7, 9, 13])
    summary = chart_summary(odd)
    assert "Dernier point S32 : 65\u202f% (13/20)." in summary
    half = IndicatorChart(**{**odd.__dict__, "median": Fraction(65, 2)})
    assert "Médiane 32,5\u202f%, tirée des 3 premiers points." in chart_summary(half)


def test_a_chart_without_points_says_so():
    empty = chart([])
    assert chart_summary(empty) == "Bonne pratique : pas encore de point."
    root = parsed(run_chart_svg(IndicatorChart(**{**empty.__dict__, "median": None})))
    assert of_class(root, "point") == []


def test_few_points_say_the_rules_do_not_speak_yet():
    assert "les règles ne disent encore rien" in chart_summary(chart([7, 9, 8]))


def test_a_long_history_stays_about_as_wide_as_a_screen_and_names_some_periods():
    long = chart([7, 9] * 52, first_week=1)
    long = IndicatorChart(
        **{
            **long.__dict__,
            "slots": tuple(
                Slot(f"{2025 + i // 52}-W{i % 52 + 1:02d}", slot.point)
                for i, slot in enumerate(long.slots)
            ),
        }
    )
    svg = run_chart_svg(long)
    root = parsed(svg)
    assert float(root.get("width")) < 760
    assert 10 < len([t for t in of_class(root, "tick") if t.text.startswith("S")]) < 30
    assert len(svg.encode()) < 40_000


def test_no_style_attribute_nor_script():
    svg = run_chart_svg(chart(ROSE, (RUN,)), week(49))
    assert not re.search(r"\sstyle=|<script|<style|\son[a-z]+=", svg)


def test_text_from_a_flow_is_escaped():
    hostile = IndicatorChart(**{**chart(ROSE).__dict__, "label": "<b>&"})
    svg = run_chart_svg(hostile)
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg
    parsed(svg)
