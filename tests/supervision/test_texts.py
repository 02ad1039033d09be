"""Specification for supervision.texts: supervisors' SMS, complete when they fit, cut with a
count and a reply hint when they do not, and never more than two GSM-7 segments."""

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from flows.lint import outgoing
from flows.smstext import GSM7, sms_cost
from supervision.texts import (
    DistrictWeek,
    WeekAlert,
    WeekSignal,
    digest_text,
    escalation_text,
    regional_text,
)

PRACTICE = {"fr": "Bonne pratique", "bm": "Kɛcogo ɲuman"}
KATI = DistrictWeek(
    "Kati",
    expected=tuple(f"KAT{i:02d}" for i in range(1, 21)),
    reported=tuple(f"KAT{i:02d}" for i in range(1, 19)),
    alerts=(
        WeekAlert("KAT05", "pas de réunion"),
        WeekAlert("KAT09", "appui CSRef demandé", urgent=True),
    ),
    signals=(WeekSignal("KAT01", PRACTICE, "supervision.signal.up"),),
)


def codes(count: int, prefix: str = "KAT") -> tuple[str, ...]:
    return tuple(f"{prefix}{i:03d}" for i in range(1, count + 1))


def within_budget(text: str) -> bool:
    cost = sms_cost(text)
    return cost.encoding == GSM7 and cost.segments <= 2


# -- the weekly digest -------------------------------------------------------------------------


def test_a_digest_that_fits_says_everything_urgent_alerts_first():
    assert digest_text("QI S49", KATI, "fr") == (
        "QI S49 Kati: 18/20 ont répondu. Manquants: KAT19 KAT20. "
        "Alertes: KAT09 appui CSRef demandé; KAT05 pas de réunion. "
        "Signaux: KAT01 Bonne pratique hausse durable"
    )


def test_the_bambara_digest_goes_out_in_gsm7_letters():
    assert digest_text("QI S49", KATI, "bm") == (
        "QI S49 Kati: 18/20 ye jaabi ci. Jaabi ma na: KAT19 KAT20. "
        "Lasòmini: KAT09 appui CSRef demandé; KAT05 pas de réunion. "
        "Taamaseere: KAT01 Kècogo nyuman a yèlènna"
    )


def test_a_quiet_week_is_just_the_count():
    week = DistrictWeek("Kati", expected=("A", "B"), reported=("B", "A"))
    assert digest_text("QI S49", week, "fr") == "QI S49 Kati: 2/2 ont répondu"


def test_a_report_from_a_cscom_no_longer_expected_does_not_count():
    week = DistrictWeek("Kati", expected=("A", "B"), reported=("A", "Z"))
    assert digest_text("QI S49", week, "fr") == "QI S49 Kati: 1/2 ont répondu. Manquants: B"


def test_a_long_missing_list_is_counted_and_the_hint_names_manquants():
    week = DistrictWeek("Kati", expected=codes(60), reported=(), alerts=KATI.alerts)
    text = digest_text("QI S49", week, "fr")
    assert within_budget(text)
    assert text.endswith(". MANQUANTS pour la liste")
    listed = re.findall(r"KAT\d{3}", text)
    hidden = int(re.search(r"\+(\d+) autres", text).group(1))
    assert listed == list(codes(60)[: len(listed)])  # in order, the first ones
    assert len(listed) + hidden == 60
    assert "Alertes: KAT09 appui CSRef demandé" in text  # every kind of news still shows


def test_when_only_alerts_or_signals_are_cut_the_hint_names_detail():
    alerts = tuple(
        WeekAlert(f"KAT{i:02d}", "pas de réunion QI cette semaine") for i in range(1, 30)
    )
    week = DistrictWeek("Kati", expected=("KAT01",), reported=(), alerts=alerts)
    text = digest_text("QI S49", week, "fr")
    assert within_budget(text)
    assert "Manquants: KAT01." in text
    assert re.search(r"; KAT\d\d pas de réunion QI cette semaine \+\d+ autres\. ", text)
    assert text.endswith(". DETAIL code pour un CSCom")


def test_every_section_keeps_its_first_item_before_the_missing_list_fills_the_rest():
    signals = tuple(
        WeekSignal(f"KAT{i:03d}", PRACTICE, "supervision.signal.down") for i in range(40)
    )
    week = DistrictWeek("Kati", codes(80), (), KATI.alerts, signals)
    text = digest_text("QI S49", week, "fr")
    assert within_budget(text)
    assert "Signaux: KAT000 Bonne pratique baisse durable +39 autres" in text


def test_a_section_with_no_room_for_even_one_item_is_counted():
    # Extension characters ({ [ €) take two septets each: the first signal no longer fits.
    week = DistrictWeek(
        "{" * 30,
        expected=("{" * 20,),
        reported=(),
        alerts=(WeekAlert("A", "€" * 60),),
        signals=(WeekSignal("B", {"fr": "€" * 30}, "supervision.signal.up"),),
    )
    text = digest_text("[" * 30, week, "fr")
    assert within_budget(text)
    assert text.endswith(". Signaux: +1 autres. DETAIL code pour un CSCom")


def test_names_and_long_texts_are_clipped_so_one_cannot_crowd_out_the_rest():
    week = DistrictWeek(
        "District sanitaire de la commune VI de Bamako",
        expected=("A",),
        reported=(),
        alerts=(WeekAlert("A", "x" * 200),),
    )
    text = digest_text("QI S49", week, "fr")
    assert text.startswith("QI S49 District sanitaire de la: 0/1 ont répondu")
    assert f"Alertes: A {'x' * 38}" in text and "x" * 39 not in text


def test_characters_outside_gsm7_never_switch_the_digest_to_ucs2():
    week = DistrictWeek("Ségou", ("A",), (), (WeekAlert("A", "rupture de fûts 🚨"),))
    text = digest_text("QI S49", week, "fr")
    assert text.endswith("Alertes: A rupture de futs ?")
    assert sms_cost(text).encoding == GSM7


def test_an_indicator_label_missing_in_a_language_falls_back_to_french():
    week = DistrictWeek(
        "Kati",
        ("A",),
        ("A",),
        signals=(WeekSignal("A", {"fr": "CPN4"}, "supervision.signal.trend_up"),),
    )
    assert digest_text("QI S49", week, "bm").endswith("Taamaseere: A CPN4 a bè yèlèn")


def test_the_outbox_sends_a_composed_text_unchanged_so_it_costs_what_was_budgeted():
    week = DistrictWeek("Kati", codes(60), (), KATI.alerts, KATI.signals)
    for language in ("fr", "bm"):
        text = digest_text("QI S49", week, language)
        assert outgoing(text, language, transliterate=("fr", "bm")) == text


# -- the escalation ----------------------------------------------------------------------------


def test_an_escalation_lists_every_missing_code_when_they_fit():
    assert escalation_text("QI S49", ["KAT03", "KAT01"], "fr") == (
        "QI S49: 2 CSCom sans réponse: KAT01 KAT03"
    )
    assert escalation_text("QI S49", ["KAT03", "KAT01"], "bm") == (
        "QI S49: CSCom 2 ma jaabi ci: KAT01 KAT03"
    )


def test_an_escalation_that_does_not_fit_two_segments_ends_with_the_count_of_the_rest():
    text = escalation_text("QI S49", codes(100), "fr")
    assert within_budget(text)
    assert text.startswith("QI S49: 100 CSCom sans réponse: KAT001 KAT002 ")
    listed = re.findall(r"KAT\d{3}", text)
    assert text.endswith(f" +{100 - len(listed)} autres")
    assert len(text) + len(" KAT100") > 2 * 153  # as many as fit: one more code would not


# -- the regional roll-up ----------------------------------------------------------------------


def test_a_regional_viewer_gets_each_district_least_reported_first_with_totals():
    weeks = [
        KATI,
        DistrictWeek("Bla", ("B1", "B2"), ("B1",)),
        DistrictWeek("Kolondiéba", ("K1",), ("K1",)),
    ]
    assert regional_text("QI S49", "Sikasso", weeks, "fr") == (
        "QI S49 Sikasso: 20/23 ont répondu. Alertes: 2. Signaux: 1. "
        "Bla 1/2, Kati 18/20, Kolondiéba 1/1"
    )


def test_a_regional_roll_up_of_many_districts_is_cut_with_a_hint():
    weeks = [DistrictWeek(f"District {i:02d}", codes(20), codes(i % 20)) for i in range(75)]
    text = regional_text("QI S49", "Mali", weeks, "fr")
    assert within_budget(text)
    assert text.startswith("QI S49 Mali: ")
    assert "ont répondu. District 00 0/20, District 20 0/20, " in text  # least reported first
    assert re.search(r" \+\d+ autres\. MANQUANTS pour la liste$", text)


# -- the budget, for any input -----------------------------------------------------------------

names = st.text(max_size=60)
code_lists = st.lists(st.text(min_size=1, max_size=20), max_size=80)
alerts = st.lists(
    st.builds(WeekAlert, st.text(max_size=20), st.text(max_size=120), st.booleans()), max_size=30
)
signals = st.lists(
    st.builds(
        WeekSignal,
        st.text(max_size=20),
        st.fixed_dictionaries({"fr": st.text(max_size=30), "bm": st.text(max_size=30)}),
        st.sampled_from(
            [
                f"supervision.signal.{n}"
                for n in ("up", "down", "trend_up", "trend_down", "few_crossings", "many_crossings")
            ]
        ),
    ),
    max_size=30,
)
weeks = st.builds(
    DistrictWeek,
    names,
    code_lists.map(tuple),
    code_lists.map(tuple),
    alerts.map(tuple),
    signals.map(tuple),
)


@settings(max_examples=150, deadline=None)
@given(subject=names, week=weeks)
def test_any_digest_is_at_most_two_gsm7_segments_in_french_and_bambara(subject, week):
    for language in ("fr", "bm"):
        assert within_budget(digest_text(subject, week, language))


@settings(max_examples=100, deadline=None)
@given(subject=names, missing=code_lists)
def test_any_escalation_is_at_most_two_gsm7_segments_in_french_and_bambara(subject, missing):
    for language in ("fr", "bm"):
        assert within_budget(escalation_text(subject, missing, language))


@settings(max_examples=50, deadline=None)
@given(subject=names, region=names, districts=st.lists(weeks, max_size=12))
def test_any_regional_roll_up_is_at_most_two_gsm7_segments(subject, region, districts):
    for language in ("fr", "bm"):
        assert within_budget(regional_text(subject, region, districts, language))
