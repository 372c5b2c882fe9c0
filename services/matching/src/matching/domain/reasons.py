"""Why a candidate fits, in plain words a guide can read to the citizen: English, Danish or Swedish."""

from __future__ import annotations

from typing import Iterable

from matching.domain import taxonomy
from matching.domain.model import DAY_NAMES, Candidate, CitizenProfile, Kind, Slot

REASON_LANGUAGES = ("en", "da", "sv")

PHRASES: dict[str, dict[str, str]] = {
    "en": {
        "and": " and ", "both_enjoy": "both enjoy {x}", "activity_for": "an activity for {x}",
        "nothing_shared": "no interest in common yet", "km": "{km} km away", "same_area": "in the same area",
        "citizen_unplaced": "distance unknown: postal code {code} is not in the table",
        "candidate_unplaced": "distance unknown: the candidate's area is not in the table",
        "both_free": "both free on {x}", "meets_when_free": "meets on {x}, when the citizen is free",
        "both_speak": "both speak {x}", "step_free": "step-free access",
        "companion": "a companion is welcome at the first visits",
        "practice": "a low-threshold practice community to start in",
        "female": "a woman, as wished", "male": "a man, as wished", "other": "of the gender wished",
        "non_smoker": "a non-smoker, as wished", "no_pets": "no pets, as wished", "similar_age": "of a similar age ({x})",
    },
    "da": {
        "and": " og ", "both_enjoy": "begge holder af {x}", "activity_for": "en aktivitet med {x}",
        "nothing_shared": "ingen fælles interesser endnu", "km": "{km} km væk", "same_area": "i samme område",
        "citizen_unplaced": "afstand ukendt: postnummer {code} findes ikke i tabellen",
        "candidate_unplaced": "afstand ukendt: kandidatens område findes ikke i tabellen",
        "both_free": "begge er ledige {x}", "meets_when_free": "mødes {x}, når borgeren er ledig",
        "both_speak": "begge taler {x}", "step_free": "niveaufri adgang",
        "companion": "en ledsager er velkommen de første gange",
        "practice": "et øvefællesskab med lav tærskel at starte i",
        "female": "en kvinde, som ønsket", "male": "en mand, som ønsket", "other": "af det ønskede køn",
        "non_smoker": "ikke-ryger, som ønsket", "no_pets": "ingen kæledyr, som ønsket", "similar_age": "på samme alder ({x})",
    },
    "sv": {
        "and": " och ", "both_enjoy": "båda tycker om {x}", "activity_for": "en aktivitet med {x}",
        "nothing_shared": "inga gemensamma intressen ännu", "km": "{km} km bort", "same_area": "i samma område",
        "citizen_unplaced": "avstånd okänt: postnummer {code} finns inte i tabellen",
        "candidate_unplaced": "avstånd okänt: kandidatens område finns inte i tabellen",
        "both_free": "båda är lediga {x}", "meets_when_free": "träffas {x}, när personen är ledig",
        "both_speak": "båda talar {x}", "step_free": "tillgängligt utan trappsteg",
        "companion": "en ledsagare är välkommen de första gångerna",
        "practice": "en lågtröskelgemenskap att börja i",
        "female": "en kvinna, som önskat", "male": "en man, som önskat", "other": "av önskat kön",
        "non_smoker": "icke-rökare, som önskat", "no_pets": "inga husdjur, som önskat", "similar_age": "i samma ålder ({x})",
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

DAYS = {
    "da": {"mon": "mandag", "tue": "tirsdag", "wed": "onsdag", "thu": "torsdag", "fri": "fredag", "sat": "lørdag", "sun": "søndag"},
    "sv": {"mon": "måndag", "tue": "tisdag", "wed": "onsdag", "thu": "torsdag", "fri": "fredag", "sat": "lördag", "sun": "söndag"},
}
PARTS = {
    "da": {"morning": "formiddag", "afternoon": "eftermiddag", "evening": "aften"},
    "sv": {"morning": "förmiddag", "afternoon": "eftermiddag", "evening": "kväll"},
}


def language_list(codes: Iterable[str], language: str = "en") -> str:
    names = LANGUAGE_NAMES[language]
    return ", ".join(names.get(code, code) for code in sorted(codes))


def _when(slot: Slot, language: str) -> str:
    if language == "en":
        return f"{DAY_NAMES[slot.day]} {slot.part}s"
    return f"{DAYS[language][slot.day]} {PARTS[language][slot.part]}"


def _km(distance_km: float, language: str) -> str:
    """Whole kilometres: finer distances, from a few known places, would help find a home."""
    return f"{round(distance_km):d}"


def reasons(citizen: CitizenProfile, candidate: Candidate, distance_km: float | None, language: str = "en") -> list[str]:
    """Why the candidate fits, in plain words a guide can read to the citizen."""
    say = PHRASES[language]
    said: list[str] = []
    shared = sorted(citizen.interests & candidate.interests)
    if shared:
        names = say["and"].join(taxonomy.label(code, language) for code in shared)
        said.append(say["both_enjoy" if candidate.kind is Kind.volunteer_friend else "activity_for"].format(x=names))
    else:
        said.append(say["nothing_shared"])
    if distance_km is not None and round(distance_km) == 0:  # e.g. both placed at one postal code's centroid
        said.append(say["same_area"])
    elif distance_km is not None:
        said.append(say["km"].format(km=_km(distance_km, language)))
    elif citizen.location is None:
        said.append(say["citizen_unplaced"].format(code=citizen.postal_code))
    else:
        said.append(say["candidate_unplaced"])
    common = sorted(candidate.availability & citizen.availability)
    if common:
        times = ", ".join(_when(slot, language) for slot in common[:3])
        said.append(say["both_free" if candidate.kind is Kind.volunteer_friend else "meets_when_free"].format(x=times))
    common_languages = citizen.languages & candidate.languages
    if common_languages:
        said.append(say["both_speak"].format(x=language_list(common_languages, language)))
    said.extend(_preferences_met(citizen, candidate, say))
    if candidate.kind is Kind.activity:
        if citizen.needs_step_free and candidate.step_free:
            said.append(say["step_free"])
        if citizen.wants_accompaniment and candidate.accompaniment_welcome:
            said.append(say["companion"])
        if candidate.practice_community:
            said.append(say["practice"])
    return said


def _preferences_met(citizen: CitizenProfile, candidate: Candidate, say: dict[str, str]) -> list[str]:
    wished, traits = citizen.preferences, candidate.traits
    if traits is None:
        return []
    said = []
    if wished.gender is not None and traits.gender == wished.gender:
        said.append(say.get(wished.gender, say["other"]))
    if wished.non_smoker and traits.smokes is False:
        said.append(say["non_smoker"])
    if wished.no_pets and traits.has_pets is False:
        said.append(say["no_pets"])
    if wished.similar_age and citizen.age_band and traits.age_band == citizen.age_band:
        said.append(say["similar_age"].format(x=citizen.age_band))
    return said
