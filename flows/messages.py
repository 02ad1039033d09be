"""The service's own short texts, in French (the default) and Bambara.

Kept apart from flows so that every channel says the same thing the same way, and short so that
each fits one GSM-7 SMS segment and leaves room on a 160-character USSD screen.
"""

from __future__ import annotations

DEFAULT_LANGUAGE = "fr"

MESSAGES: dict[str, dict[str, str]] = {
    "invalid.choice": {
        "fr": "Choix invalide: tapez 1 à {limit}.",
        "bm": "Jaabi in man ɲi: 1 fo {limit} sɛbɛn.",
    },
    "invalid.number": {"fr": "Tapez un nombre.", "bm": "Jateden sɛbɛn."},
    "invalid.too_small": {
        "fr": "Le minimum est {limit}.",
        "bm": "A man kan ka dɔgɔ ni {limit} ye.",
    },
    "invalid.too_big": {"fr": "Le maximum est {limit}.", "bm": "A ka ca kojugu: {limit} dɔrɔn."},
    "invalid.required": {"fr": "Une réponse est requise.", "bm": "Jaabi ka kan ka di."},
    "invalid.too_long": {
        "fr": "Trop long: {limit} signes au plus.",
        "bm": "A ka jan kojugu: sɛbɛnden {limit} dɔrɔn.",
    },
    "invalid.confirm": {
        "fr": "Tapez 1 pour envoyer ou 0 pour corriger.",
        "bm": "1 sɛbɛn k'a ci, 0 k'a latilen.",
    },
    "confirm": {
        "fr": "Vos réponses: {answers}\n1 Envoyer\n0 Corriger",
        "bm": "I ka jaabiw: {answers}\n1 A ci\n0 A latilen",
    },
    "confirm.more": {
        "fr": "Vos réponses: {answers}...\n1 Envoyer\n2 Voir la suite\n0 Corriger",
        "bm": "I ka jaabiw: {answers}...\n1 A ci\n2 A tɔ lajɛ\n0 A latilen",
    },
    "confirm.rest": {
        "fr": "Suite: {answers}\n1 Envoyer\n0 Corriger",
        "bm": "A tɔ: {answers}\n1 A ci\n0 A latilen",
    },
    "back_hint": {"fr": "00 Retour", "bm": "00 Segin"},
    "menu": {"fr": "Choisissez le suivi:", "bm": "Kɔlɔsili sugandi:"},
    "resume": {
        "fr": "Vous avez un suivi en cours ({title}).\n1 Continuer\n2 Recommencer",
        "bm": "I ka {title} ma ban fɔlɔ.\n1 Taa a fɛ\n2 A daminɛ kokura",
    },
    "invalid.resume": {"fr": "Tapez 1 ou 2.", "bm": "1 walima 2 sɛbɛn."},
    "nothing_open": {
        "fr": "Aucun suivi ouvert pour vous en ce moment. Merci.",
        "bm": "Kɔlɔsili si tɛ i ye sisan. I ni ce.",
    },
    "already_done": {
        "fr": "{title}: déjà envoyé par {name} pour cette période. Merci.",
        "bm": "{title}: {name} y'a ci ka ban. I ni ce.",
    },
    "already_done.self": {
        "fr": "{title}: vous avez déjà envoyé pour cette période. Merci.",
        "bm": "{title}: i y'a ci ka ban. I ni ce.",
    },
    "kept_after_colleague": {
        "fr": "{name} avait déjà envoyé ce suivi. Vos réponses sont aussi gardées. Merci.",
        "bm": "{name} tun y'a ci ka ban. I ka jaabiw fana marala. I ni ce.",
    },
    "colleague_answering": {
        "fr": "{name} répond depuis {since}.",
        "bm": "{name} bɛ jaabi di kabini {since}.",
    },
    "unknown_number": {
        "fr": "Ce numéro n'est pas enregistré. Contactez votre CSRef.",
        "bm": "I ka nimɔrɔ ma sɛbɛn. I ka CSRef wele.",
    },
    "session_lost": {
        "fr": "Session interrompue. Recomposez le code pour reprendre.",
        "bm": "Baara tigɛra. Kode wele tugun ka taa a fɛ.",
    },
    "input_too_long": {
        "fr": "Réponse trop longue. Recomposez le code.",
        "bm": "Jaabi ka jan kojugu. Kode wele tugun.",
    },
    "compact.invalid": {
        "fr": "Réponse {n} sur {total} ({prompt}): {reason} Rien n'est enregistré.",
        "bm": "Jaabi {n} ({total} cɛma) ({prompt}): {reason} Foyi ma sɛbɛn.",
    },
    "compact.missing": {
        "fr": "Il manque la réponse {n} sur {total} ({prompt}). Rien n'est enregistré.",
        "bm": "Jaabi {n} ({total} cɛma) tɛ yen ({prompt}). Foyi ma sɛbɛn.",
    },
    "compact.extra": {
        "fr": "Trop de réponses: {n} attendues. Rien n'est enregistré.",
        "bm": "Jaabiw ka ca kojugu: {n} dɔrɔn. Foyi ma sɛbɛn.",
    },
    "compact.several": {
        "fr": "Plusieurs suivis sont ouverts: envoyez QI seul pour choisir.",
        "bm": "Kɔlɔsili caman bɛ yen: QI dɔrɔn ci ka kelen sugandi.",
    },
    "sms.stopped": {
        "fr": "Vous ne recevrez plus de SMS du suivi QI. Envoyez START pour revenir.",
        "bm": "I tɛna SMS sɔrɔ tugun. DAMINƐ ci ka segin.",
    },
    "sms.started": {
        "fr": "Vous recevez de nouveau les SMS du suivi QI. Envoyez QI pour répondre.",
        "bm": "I bɛna SMS sɔrɔ tugun. QI ci ka jaabi di.",
    },
    "sms.help": {
        "fr": "QI: répondre au suivi. QI et toutes les réponses: en 1 SMS. 00: retour. STOP: plus de SMS. FR/BM: langue.",
        "bm": "QI: jaabi di. QI ni jaabiw bɛɛ: SMS 1 kɔnɔ. 00: segin. STOP: SMS dabila. FR/BM: kan.",
    },
    "sms.language": {
        "fr": "Langue choisie: FR. Envoyez QI pour répondre.",
        "bm": "Kan: bamanankan. QI ci ka jaabi di.",
    },
    "sms.hint": {
        "fr": "Envoyez QI pour répondre au suivi, AIDE pour l'aide.",
        "bm": "QI ci ka jaabi di, DƐMƐ ka dɛmɛ sɔrɔ.",
    },
    "schedule.invite": {
        "fr": "{flow} {period} ouvert: composez {code} ou envoyez QI.",
        "bm": "{flow} {period} dayɛlɛla: {code} wele walima QI ci.",
    },
    "schedule.remind": {
        "fr": "Rappel: {flow} {period} pas encore envoyé. Composez {code} ou envoyez QI.",
        "bm": "Hakilijigin: {flow} {period} ma ci fɔlɔ. {code} wele walima QI ci.",
    },
    "unavailable": {
        "fr": "Service indisponible. Réessayez dans quelques minutes.",
        "bm": "Baara tɛ taa sisan. Aw ye segin a kan sɔɔni.",
    },
    # Supervisors' SMS (supervision/texts.py composes them within two segments). {title} is
    # what the SMS is about ("QI S49", "QI S49 Kati"), {n} a count or "x/y".
    "supervision.escalation": {
        "fr": "{title}: {n} CSCom sans réponse:",
        "bm": "{title}: CSCom {n} ma jaabi ci:",
    },
    "supervision.reported": {"fr": "{title}: {n} ont répondu", "bm": "{title}: {n} ye jaabi ci"},
    "supervision.missing": {"fr": "Manquants:", "bm": "Jaabi ma na:"},
    "supervision.alerts": {"fr": "Alertes:", "bm": "Lasɔmini:"},
    "supervision.signals": {"fr": "Signaux:", "bm": "Taamaseere:"},
    "supervision.more": {"fr": "+{n} autres", "bm": "+{n} wɛrɛ"},
    "supervision.hint.missing": {
        "fr": "MANQUANTS pour la liste",
        "bm": "MANQUANTS ci ka u bɛɛ sɔrɔ",
    },
    "supervision.hint.detail": {
        "fr": "DETAIL code pour un CSCom",
        "bm": "DETAIL kode ci ka CSCom kunnafoni sɔrɔ",
    },
    "supervision.signal.up": {"fr": "hausse durable", "bm": "a yɛlɛnna"},
    "supervision.signal.down": {"fr": "baisse durable", "bm": "a jiginna"},
    "supervision.signal.trend_up": {"fr": "hausse continue", "bm": "a bɛ yɛlɛn"},
    "supervision.signal.trend_down": {"fr": "baisse continue", "bm": "a bɛ jigin"},
    "supervision.signal.few_crossings": {"fr": "peu de croisements", "bm": "cɛtigɛli ka dɔgɔ"},
    "supervision.signal.many_crossings": {
        "fr": "trop de croisements",
        "bm": "cɛtigɛli ka ca kojugu",
    },
    # What supervisors and regional viewers ask by SMS (services/supervisor_sms.py) and read on
    # their USSD menu (services/supervisor_menu.py); supervision/replies.py fits them in.
    "supervisor.help": {
        "fr": "MANQUANTS: CSCom sans réponse. DETAIL code: réponses d'un CSCom. R code texte: message au point focal QI. STOP: plus de SMS. FR/BM: langue.",
        "bm": "MANQUANTS: CSCom minnu ma jaabi ci. DETAIL kode: CSCom ka jaabiw. R kode kuma: cikan QI ɲɛmɔgɔ ma. STOP: SMS dabila. FR/BM: kan.",
    },
    "supervisor.usage.detail": {
        "fr": "Envoyez DETAIL et le code du CSCom, ex.: DETAIL CSCOM-MLB",
        "bm": "DETAIL ni CSCom kode ci, i n'a fɔ: DETAIL CSCOM-MLB",
    },
    "supervisor.usage.coach": {
        "fr": "Envoyez R, le code du CSCom puis le message, ex.: R CSCOM-MLB Bravo",
        "bm": "R ni CSCom kode ni cikan ci, i n'a fɔ: R CSCOM-MLB I ni ce",
    },
    "supervisor.unknown_code": {
        "fr": "Code {code} inconnu. Envoyez MANQUANTS ou AIDE.",
        "bm": "Kode {code} ma dɔn. MANQUANTS walima DƐMƐ ci.",
    },
    "supervisor.no_flow": {
        "fr": "Aucun suivi programmé en ce moment.",
        "bm": "Kɔlɔsili si tɛ sisan.",
    },
    "supervisor.all_reported": {
        "fr": "{title}: les {n} CSCom ont répondu.",
        "bm": "{title}: CSCom {n} bɛɛ ye jaabi ci.",
    },
    "supervisor.detail": {
        "fr": "{code} {period} par {name}:",
        "bm": "{code} {period}, {name} ye a ci:",
    },
    "supervisor.detail.none": {
        "fr": "{code}: pas encore de réponse.",
        "bm": "{code}: jaabi si ma na fɔlɔ.",
    },
    "supervisor.alerts.none": {
        "fr": "Aucune alerte ces 7 derniers jours.",
        "bm": "Lasɔmini si ma na tile 7 tɛmɛnenw na.",
    },
    "supervisor.menu": {
        "fr": "{title}\n1 CSCom manquants\n2 Alertes de la semaine\n3 Réponses d'un CSCom",
        "bm": "{title}\n1 CSCom minnu ma jaabi ci\n2 Dɔgɔkun lasɔminiw\n3 CSCom ka jaabiw",
    },
    "supervisor.ask_code": {"fr": "Code du CSCom ?", "bm": "CSCom kode sɛbɛn:"},
    "supervisor.back": {"fr": "0 Retour", "bm": "0 Segin"},
    # Coaching: `R <code> <text>` from a supervisor, `R <text>` back from the CSCom.
    "coaching.message": {
        "fr": "Message de {name}: {text}\nPour répondre: R et votre texte",
        "bm": "Cikan {name} fɛ: {text}\nK'a jaabi: R ni i ka kuma ci",
    },
    "coaching.reply": {
        "fr": "Réponse de {name} ({code}): {text}",
        "bm": "Jaabi {name} fɛ ({code}): {text}",
    },
    "coaching.sent": {"fr": "Message envoyé à {names}.", "bm": "Cikan cira {names} ma."},
    "coaching.held": {
        "fr": "Message pour {names}: il partira à {time}, après les heures calmes.",
        "bm": "Cikan bɛna ci {names} ma {time}, lafiɲɛ waati kɔfɛ.",
    },
    "coaching.cut": {"fr": "Texte coupé à 2 SMS.", "bm": "Kuma tigɛra SMS 2 la."},
    "coaching.nobody": {
        "fr": "{code}: aucun point focal QI actif. Message non envoyé.",
        "bm": "{code}: QI ɲɛmɔgɔ si tɛ yen. Cikan ma ci.",
    },
    "coaching.opted_out": {
        "fr": "{code}: le point focal QI a envoyé STOP. Message non envoyé.",
        "bm": "{code}: QI ɲɛmɔgɔ ye SMS dabila (STOP). Cikan ma ci.",
    },
}


def say(key: str, language: str, **params: object) -> str:
    """The message in `language` (French when it has none), with its {placeholders} filled."""
    texts = MESSAGES[key]
    return texts.get(language, texts[DEFAULT_LANGUAGE]).format(**params)
