"""The service's own short texts, in French (the default) and Bambara.

Kept apart from flows so that every channel says the same thing the same way, and short so that
each fits one GSM-7 SMS segment and leaves room on a 160-character USSD screen.
"""

from __future__ import annotations

DEFAULT_LANGUAGE = "fr"

MESSAGES: dict[str, dict[str, str]] = {
    "invalid.choice": {
        "fr": "Choix invalide: tapez 1 à {limit}.",
        "bm": "Jaabi tɛ: 1 fo {limit} sɛbɛn.",
    },
    "invalid.number": {"fr": "Tapez un nombre.", "bm": "Jatebi sɛbɛn."},
    "invalid.too_small": {"fr": "Le minimum est {limit}.", "bm": "A dɔgɔya ka tɛmɛ {limit} kan."},
    "invalid.too_big": {"fr": "Le maximum est {limit}.", "bm": "A ka ca ka tɛmɛ {limit} kan."},
    "invalid.required": {"fr": "Une réponse est requise.", "bm": "Jaabi ka kan ka di."},
    "invalid.too_long": {
        "fr": "Trop long: {limit} signes au plus.",
        "bm": "A ka jan: sɛbɛnden {limit} dɔrɔn.",
    },
    "invalid.confirm": {
        "fr": "Tapez 1 pour envoyer ou 0 pour corriger.",
        "bm": "1 sɛbɛn k'a ci, 0 k'a latilen.",
    },
    "confirm": {
        "fr": "Envoyer vos réponses ?\n1 Envoyer\n0 Corriger",
        "bm": "Aw ka jaabiw ci wa?\n1 A ci\n0 A latilen",
    },
    "menu": {"fr": "Choisissez le suivi:", "bm": "Sɛgɛsɛgɛli sugandi:"},
    "resume": {
        "fr": "Vous avez un suivi en cours ({title}).\n1 Continuer\n2 Recommencer",
        "bm": "I ka sɛgɛsɛgɛli tɛmɛnen tɛ ({title}).\n1 A taa a fɛ\n2 A daminɛ kokura",
    },
    "invalid.resume": {"fr": "Tapez 1 ou 2.", "bm": "1 walima 2 sɛbɛn."},
    "nothing_open": {
        "fr": "Aucun suivi ouvert pour vous en ce moment. Merci.",
        "bm": "Sɛgɛsɛgɛli si tɛ i ye sisan. I ni ce.",
    },
    "already_done": {
        "fr": "{title}: déjà envoyé par {name} pour cette période. Merci.",
        "bm": "{title}: {name} y'a ci ka ban. I ni ce.",
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
        "bm": "Jaabi ka jan. Kode wele tugun.",
    },
    "compact.invalid": {
        "fr": "Réponse {n} ({prompt}): {reason} Rien n'est enregistré.",
        "bm": "Jaabi {n} ({prompt}): {reason} Foyi ma sɛbɛn.",
    },
    "compact.missing": {
        "fr": "Il manque la réponse {n} ({prompt}). Rien n'est enregistré.",
        "bm": "Jaabi {n} tɛ yen ({prompt}). Foyi ma sɛbɛn.",
    },
    "compact.extra": {
        "fr": "Trop de réponses: {n} attendues. Rien n'est enregistré.",
        "bm": "Jaabiw ka ca: {n} dɔrɔn. Foyi ma sɛbɛn.",
    },
    "compact.several": {
        "fr": "Plusieurs suivis sont ouverts: envoyez QI seul pour choisir.",
        "bm": "Sɛgɛsɛgɛli caman bɛ yen: QI dɔrɔn ci ka kelen sugandi.",
    },
    "sms.stopped": {
        "fr": "Vous ne recevrez plus de SMS du suivi QI. Envoyez START pour revenir.",
        "bm": "I tɛna SMS sɔrɔ tugun. START ci ka segin.",
    },
    "sms.started": {
        "fr": "Vous recevez de nouveau les SMS du suivi QI. Envoyez QI pour répondre.",
        "bm": "I bɛna SMS sɔrɔ tugun. QI ci ka jaabi di.",
    },
    "sms.help": {
        "fr": "QI: répondre au suivi. QI et toutes les réponses: en 1 SMS. 00: retour. STOP: plus de SMS. FR/BM: langue.",
        "bm": "QI: jaabi di. QI ni jaabiw bɛɛ: SMS 1 kɔnɔ. 00: segin. STOP: a dabila. FR/BM: kan.",
    },
    "sms.language": {
        "fr": "Langue choisie: FR. Envoyez QI pour répondre.",
        "bm": "Kan: bamanankan. QI ci ka jaabi di.",
    },
    "sms.hint": {
        "fr": "Envoyez QI pour répondre au suivi, AIDE pour l'aide.",
        "bm": "QI ci ka jaabi di, AIDE ka dɛmɛ sɔrɔ.",
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
}


def say(key: str, language: str, **params: object) -> str:
    """The message in `language` (French when it has none), with its {placeholders} filled."""
    texts = MESSAGES[key]
    return texts.get(language, texts[DEFAULT_LANGUAGE]).format(**params)
