"""The floor any Flask USSD handler sits on: parse the gateway's form, answer a hard-coded screen.

bench/ussd.py serves this beside the real app on the same server, so "app / bare" says how much
the real app costs above Flask + the WSGI server itself. No database, no state: the screen is
picked from the number of inputs in `text`. The texts are the real French screens of the weekly
QI check-in, so both apps send the same bytes (ussd.py warns if the real screens change length).
"""

from __future__ import annotations

from flask import Flask, Response, request

SCREENS = (
    "CON L'équipe QI s'est réunie cette semaine ?\n1 Oui\n2 Non",
    "CON Combien de membres étaient présents ?",
    "CON Idée de changement (PDSA): où en est-elle ?\n1 Pas commencée\n2 En test\n3 Adoptée\n"
    "4 Adaptée (modifiée)\n5 Abandonnée",
    "CON Indicateur: nombre de cas éligibles cette semaine ?",
    "CON Parmi eux, combien ont bénéficié de la bonne pratique ?",
    "CON Principal obstacle cette semaine ?\n1 Aucun\n2 Personnel absent/manquant\n"
    "3 Rupture intrants/médicaments\n4 Matériel\n5 Patients/communauté\n6 Autre",
    "CON Besoin d'appui du CSRef ?\n1 Oui\n2 Non",
    "CON Commentaire court (. pour passer):",
    "CON Envoyer vos réponses ?\n1 Envoyer\n0 Corriger",
    "END Merci, vos réponses sont enregistrées.",
)

app = Flask(__name__)


@app.post("/ussd")
def ussd() -> Response:
    text = request.form.get("text", "")
    step = text.count("*") + 1 if text else 0
    return Response(SCREENS[min(step, len(SCREENS) - 1)], mimetype="text/plain")
