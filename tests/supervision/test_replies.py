"""Fitting a supervisor's answers into two SMS segments or one USSD screen (supervision/replies.py)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from flows.smstext import GSM7, UCS2, sms_cost, to_gsm7
from supervision.replies import (
    MissingList,
    cut_to_fit,
    fit,
    missing_text,
    sms_fits,
    ussd_fits,
)

SMS = sms_fits(lambda text: text)
USSD = ussd_fits(lambda text: text)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=400)


def test_everything_shows_when_it_fits():
    assert fit("Manquants:", ["A", "B"], SMS, "fr", tail="0 Retour") == "Manquants: A, B\n0 Retour"


def test_what_does_not_fit_is_counted_and_the_tail_kept():
    text = fit("Manquants:", [f"CSCOM-{n:03d}" for n in range(40)], USSD, "fr", tail="0 Retour")
    assert len(text) <= 160
    assert text.endswith(" autres\n0 Retour")
    shown = text.split(": ", 1)[1].split(" +")[0].split(", ")
    assert text.split(" +")[1].startswith(f"{40 - len(shown)} autres")


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.text(max_size=60), max_size=40), st.sampled_from(["fr", "bm"]))
def test_a_list_never_exceeds_two_segments(items, language):
    text = fit("Alertes:", items, SMS, language, "\n", "0 Retour")
    assert sms_cost(text).segments <= 2
    assert text.endswith("0 Retour")


@settings(max_examples=200, deadline=None, derandomize=True)
@given(TEXT)
def test_a_cut_note_is_the_longest_start_that_fits(note):
    def render(part: str) -> str:
        return f"Message de Dr Awa Traoré: {part}\nPour répondre: R et votre texte"

    kept, cut = cut_to_fit(note, render, SMS)
    assert sms_cost(render(kept)).segments <= 2
    if cut:
        assert kept.endswith("...")
        longer = note[: len(kept) - 3 + 1].rstrip() + "..."
        assert len(longer) <= len(kept) or sms_cost(render(longer)).segments > 2
    else:
        assert kept == note


def test_a_unicode_note_is_cut_to_two_unicode_segments():
    kept, cut = cut_to_fit("👍 " * 200, lambda part: part, SMS)
    assert cut and sms_cost(kept).encoding == UCS2 and sms_cost(kept).segments == 2


def test_missing_names_give_way_to_codes_when_not_all_fit():
    late = MissingList(
        "S49 Suivi QI", 30, [(f"CSCOM-{n:02d}", "CSCom au nom long") for n in range(30)]
    )
    text = missing_text([late], "fr", SMS)
    assert "nom long" not in text
    assert sms_cost(text).segments <= 2
    few = MissingList("S49 Suivi QI", 3, [("CSCOM-A", "Malibougou"), ("CSCOM-B", "Kati")])
    assert missing_text([few], "fr", SMS) == (
        "S49 Suivi QI: 2 CSCom sans réponse: CSCOM-A Malibougou, CSCOM-B Kati"
    )


def test_missing_in_bambara_is_measured_as_it_will_leave():
    fits = ussd_fits(to_gsm7)
    late = MissingList("S49 QI dɔgɔkun kɔlɔsili", 3, [])
    text = missing_text([late], "bm", fits, "0 Segin")
    assert text == "S49 QI dɔgɔkun kɔlɔsili: CSCom 3 bɛɛ ye jaabi ci.\n0 Segin"
    assert sms_cost(to_gsm7(text)).encoding == GSM7
