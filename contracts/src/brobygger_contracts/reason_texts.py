"""Match reasons in words: a reason travels as a code with parameters (`events.matching.MatchReason`)
and whoever shows it renders it in the reader's language (en, da, sv): matching's API by
Accept-Language, notify in the recipient's language. Shared data like the interest vocabulary,
which names the interests.
"""

from __future__ import annotations

from typing import Any, Iterable

from brobygger_contracts import interests

REASON_LANGUAGES = ("en", "da", "sv")

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "and": " and ", "both_enjoy": "both enjoy {x}", "activity_for": "an activity for {x}",
        "nothing_shared": "no interest in common yet", "km": "{km} km away", "same_area": "in the same area",
        "by_phone": "by phone or video: distance does not matter",
        "citizen_unplaced": "distance unknown: postal code {code} is not in the table",
        "candidate_unplaced": "distance unknown: the candidate's area is not in the table",
        "both_free": "both free on {x}", "meets_when_free": "meets on {x}, when the citizen is free",
        "both_speak": "both speak {x}", "step_free": "step-free access",
        "companion": "a companion is welcome at the first visits",
        "practice": "a low-threshold practice community to start in",
        "female": "a woman, as wished", "male": "a man, as wished", "other": "of the gender wished",
        "non_smoker": "a non-smoker, as wished", "no_pets": "no pets, as wished", "similar_age": "of a similar age ({x})",
        "free": "free of charge", "subsidised": "subsidised price: {dkk} kr", "costs": "costs {dkk} kr",
        "hearing_loop": "has a hearing loop", "interpreter": "an interpreter can be arranged",
        "volunteer_driver": "transport: a volunteer driver (the guide arranges it)",
        "flex_transport": "transport: flex transport (the guide books it)",
        "accompanied_bus_ride": "transport: an accompanied bus ride the first times (the guide arranges it)",
    },
    "da": {
        "and": " og ", "both_enjoy": "begge holder af {x}", "activity_for": "en aktivitet med {x}",
        "nothing_shared": "ingen fælles interesser endnu", "km": "{km} km væk", "same_area": "i samme område",
        "by_phone": "over telefon eller video: afstanden betyder ikke noget",
        "citizen_unplaced": "afstand ukendt: postnummer {code} findes ikke i tabellen",
        "candidate_unplaced": "afstand ukendt: kandidatens område findes ikke i tabellen",
        "both_free": "begge er ledige {x}", "meets_when_free": "mødes {x}, når borgeren er ledig",
        "both_speak": "begge taler {x}", "step_free": "niveaufri adgang",
        "companion": "en ledsager er velkommen de første gange",
        "practice": "et øvefællesskab med lav tærskel at starte i",
        "female": "en kvinde, som ønsket", "male": "en mand, som ønsket", "other": "af det ønskede køn",
        "non_smoker": "ikke-ryger, som ønsket", "no_pets": "ingen kæledyr, som ønsket", "similar_age": "på samme alder ({x})",
        "free": "gratis", "subsidised": "nedsat pris: {dkk} kr.", "costs": "koster {dkk} kr.",
        "hearing_loop": "har teleslynge", "interpreter": "der kan skaffes tolk",
        "volunteer_driver": "transport: en frivillig chauffør (guiden aftaler det)",
        "flex_transport": "transport: flextur (guiden bestiller den)",
        "accompanied_bus_ride": "transport: følgeskab på bussen de første gange (guiden aftaler det)",
    },
    "sv": {
        "and": " och ", "both_enjoy": "båda tycker om {x}", "activity_for": "en aktivitet med {x}",
        "nothing_shared": "inga gemensamma intressen ännu", "km": "{km} km bort", "same_area": "i samma område",
        "by_phone": "via telefon eller video: avståndet spelar ingen roll",
        "citizen_unplaced": "avstånd okänt: postnummer {code} finns inte i tabellen",
        "candidate_unplaced": "avstånd okänt: kandidatens område finns inte i tabellen",
        "both_free": "båda är lediga {x}", "meets_when_free": "träffas {x}, när personen är ledig",
        "both_speak": "båda talar {x}", "step_free": "tillgängligt utan trappsteg",
        "companion": "en ledsagare är välkommen de första gångerna",
        "practice": "en lågtröskelgemenskap att börja i",
        "female": "en kvinna, som önskat", "male": "en man, som önskat", "other": "av önskat kön",
        "non_smoker": "icke-rökare, som önskat", "no_pets": "inga husdjur, som önskat", "similar_age": "i samma ålder ({x})",
        "free": "kostnadsfritt", "subsidised": "subventionerat pris: {dkk} kr", "costs": "kostar {dkk} kr",
        "hearing_loop": "har hörslinga", "interpreter": "tolk kan ordnas",
        "volunteer_driver": "resa: en frivillig chaufför (guiden ordnar det)",
        "flex_transport": "resa: färdtjänst/flexlinje (guiden bokar den)",
        "accompanied_bus_ride": "resa: sällskap på bussen de första gångerna (guiden ordnar det)",
    },
}

LANGUAGE_NAMES = {
    "en": {"da": "Danish", "sv": "Swedish", "en": "English", "no": "Norwegian", "de": "German", "fi": "Finnish",
           "ar": "Arabic", "fa": "Persian", "so": "Somali", "tr": "Turkish", "pl": "Polish", "uk": "Ukrainian"},
    "da": {"da": "dansk", "sv": "svensk", "en": "engelsk", "no": "norsk", "de": "tysk", "fi": "finsk",
           "ar": "arabisk", "fa": "persisk", "so": "somali", "tr": "tyrkisk", "pl": "polsk", "uk": "ukrainsk"},
    "sv": {"da": "danska", "sv": "svenska", "en": "engelska", "no": "norska", "de": "tyska", "fi": "finska",
           "ar": "arabiska", "fa": "persiska", "so": "somaliska", "tr": "turkiska", "pl": "polska", "uk": "ukrainska"},
}

DAY_NAMES = {
    "en": {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
           "sat": "Saturday", "sun": "Sunday"},
    "da": {"mon": "mandag", "tue": "tirsdag", "wed": "onsdag", "thu": "torsdag", "fri": "fredag", "sat": "lørdag", "sun": "søndag"},
    "sv": {"mon": "måndag", "tue": "tisdag", "wed": "onsdag", "thu": "torsdag", "fri": "fredag", "sat": "lördag", "sun": "söndag"},
}
PARTS = {
    "en": {"morning": "mornings", "afternoon": "afternoons", "evening": "evenings"},
    "da": {"morning": "formiddag", "afternoon": "eftermiddag", "evening": "aften"},
    "sv": {"morning": "förmiddag", "afternoon": "eftermiddag", "evening": "kväll"},
}



def language_of(accept_language: str | None, default: str) -> str:
    """The first of en, da or sv an Accept-Language header names (`sv-SE,sv;q=0.9,en;q=0.5`), else `default`."""
    ranked = []
    for position, item in enumerate((accept_language or "").split(",")):
        tag, _, weight = item.strip().partition(";q=")
        try:
            quality = float(weight) if weight else 1.0
        except ValueError:
            continue
        ranked.append((-quality, position, tag.split("-")[0].strip().lower()))
    return next((tag for _, _, tag in sorted(ranked) if tag in REASON_LANGUAGES), default)


def language_list(codes: Iterable[str], language: str = "en") -> str:
    names = LANGUAGE_NAMES[language]
    return ", ".join(names.get(code, code) for code in sorted(codes))


def when(slot: str, language: str) -> str:
    """`tue morning` in words: `Tuesday mornings`, `tirsdag formiddag`."""
    day, part = slot.split()
    return f"{DAY_NAMES[language][day]} {PARTS[language][part]}"


def render(code: str, params: dict[str, Any], language: str = "en") -> str:
    """One reason in the reader's language; an unknown language reads English."""
    say = PHRASES.get(language) or PHRASES["en"]
    language = language if language in PHRASES else "en"
    if code in ("both_enjoy", "activity_for"):
        return say[code].format(x=say["and"].join(interests.label(c, language) for c in params["interests"]))
    if code in ("both_free", "meets_when_free"):
        return say[code].format(x=", ".join(when(slot, language) for slot in params["slots"]))
    if code == "both_speak":
        return say[code].format(x=language_list(params["languages"], language))
    if code == "gender_as_wished":
        return say.get(params["gender"], say["other"])
    if code == "transport":
        return say[params["need"]]
    return say[code].format(km=params.get("km"), code=params.get("postal_code"), x=params.get("age_band"),
                            dkk=params.get("dkk"))


def render_all(reasons: Iterable[Any], language: str = "en") -> list[str]:
    """Reasons as stored or carried (`{"code": ..., "params": ...}` or a MatchReason), rendered; text
    written before reasons were codes is shown as it is."""
    shown = []
    for reason in reasons:
        if isinstance(reason, str):
            shown.append(reason)
        elif isinstance(reason, dict):
            shown.append(render(reason["code"], reason.get("params", {}), language))
        else:
            shown.append(render(reason.code, reason.params, language))
    return shown
