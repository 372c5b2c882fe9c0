"""The interest vocabulary: words in Danish, Swedish and English mapped to canonical codes.

Shared data, not a wire model: journey (clarification) and matching (registries,
reasons) must understand the same words, and events carry only the codes
(`types.InterestCode`), so the one vocabulary lives next to that type. A card
written in Danish must match an activity described in Swedish or English; the
words are only how people type them. Lookups ignore case and accents.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field


@dataclass(frozen=True)
class Interest:
    code: str
    labels: dict[str, str]
    """Display label per language (en, da, sv)."""
    words: tuple[str, ...]
    """Other words and phrases people use for it, in any of the three languages."""


def _i(code: str, en: str, da: str, sv: str, *words: str) -> Interest:
    return Interest(code, {"en": en, "da": da, "sv": sv}, words)


INTERESTS: tuple[Interest, ...] = (
    _i("walking", "walking", "gåture", "promenader",
       "walk", "walks", "hiking", "walking group", "gåtur", "gå", "gå tur", "gåfællesskab", "gågruppe", "vandre",
       "vandring", "vandreture", "promenad", "promenera", "gå promenad", "vandra", "stavgång", "stavgang",
       "nordic walking"),
    _i("swimming", "swimming", "svømning", "simning",
       "swim", "senior swimming", "aqua fitness", "svømme", "svømmehal", "seniorsvømning", "vandgymnastik",
       "simma", "simhall", "bad", "vattengympa"),
    _i("coffee_and_conversation", "coffee and conversation", "kaffe og snak", "fika och samtal",
       "coffee", "conversation", "chat", "coffee chat", "social café", "social cafe", "cafe", "café",
       "kaffe", "snak", "samtale", "kaffeklub", "kaffeklubben", "hygge", "socialt samvær", "kaffe og en snak",
       "fika", "samtal", "prata", "kaffe och samtal", "språkcafé", "träffpunkt"),
    _i("crafts", "crafts", "håndarbejde", "hantverk",
       "handicraft", "handicrafts", "knitting", "sewing", "crochet", "woodwork", "woodworking",
       "håndværk", "strikning", "strikke", "hækling", "sy", "træarbejde", "kreativt værksted",
       "handarbete", "stickning", "sticka", "virka", "slöjd", "pyssel", "snickeri"),
    _i("singing", "singing", "sang", "sång",
       "sing", "choir", "sing-along", "synge", "kor", "fællessang", "sangkor", "sjunga", "kör", "allsång"),
    _i("cards_and_games", "cards and games", "kort og spil", "kort och spel",
       "cards", "card games", "games", "board games", "bridge", "chess", "bingo", "whist",
       "kort", "kortspil", "spil", "brætspil", "skak", "kortspel", "spel", "sällskapsspel", "schack"),
    _i("reading", "reading", "læsning", "läsning",
       "books", "book club", "reading group", "literature", "læse", "bøger", "læsekreds", "litteratur",
       "læseklub", "läsa", "böcker", "bokcirkel", "bokklubb", "litteratur"),
    _i("gardening", "gardening", "havearbejde", "trädgård",
       "garden", "plants", "allotment", "have", "haven", "planter", "kolonihave", "havebrug",
       "trädgårdsarbete", "odling", "odla", "växter", "koloniträdgård"),
    _i("baking_and_cooking", "baking and cooking", "bagning og madlavning", "bakning och matlagning",
       "baking", "cooking", "bake", "cook", "food", "cooking club", "bagning", "bage", "madlavning", "lave mad",
       "mad", "fællesspisning", "madklub", "bakning", "baka", "matlagning", "laga mat", "mat", "matlag"),
    _i("museums", "museums", "museer", "museer",
       "museum", "exhibitions", "art exhibitions", "udstillinger", "udstilling", "museumsbesøg",
       "utställningar", "utställning", "museibesök"),
    _i("church_life", "church life", "kirkeliv", "kyrkliv",
       "church", "faith", "church coffee", "services", "kirke", "kirken", "kirkekaffe", "gudstjeneste",
       "menighed", "kyrka", "kyrkan", "kyrkkaffe", "gudstjänst", "andakt", "församling"),
    _i("local_history", "local history", "lokalhistorie", "lokalhistoria",
       "history", "heritage", "genealogy", "historie", "slægtsforskning", "lokalhistorisk forening",
       "historia", "hembygd", "hembygdsförening", "släktforskning"),
    _i("animals", "animals", "dyr", "djur",
       "pets", "dogs", "dog", "cats", "horses", "birds", "bird watching", "hund", "hunde", "kat", "katte",
       "heste", "fugle", "kæledyr", "fuglekiggeri", "hundar", "katt", "katter", "hästar", "fåglar",
       "husdjur", "fågelskådning"),
    _i("painting", "painting", "maleri", "målning",
       "paint", "drawing", "art", "watercolour", "watercolor", "male", "tegning", "tegne", "kunst",
       "akvarel", "måla", "teckning", "teckna", "konst", "akvarell"),
    _i("music", "music", "musik", "musik",
       "concerts", "playing music", "listening to music", "koncerter", "koncert", "spille musik",
       "konserter", "konsert", "spela musik", "lyssna på musik"),
    _i("dancing", "dancing", "dans", "dans",
       "dance", "line dance", "folk dance", "ballroom", "danse", "folkedans", "gammeldans", "linedance",
       "dansa", "folkdans", "gammaldans", "bugg"),
    _i("fishing", "fishing", "fiskeri", "fiske",
       "angling", "fish", "lystfiskeri", "fiske tur", "fisketur", "fiska", "sportfiske"),
    _i("help_with_technology", "help with technology", "hjælp med teknologi", "hjälp med teknik",
       "technology", "tech help", "computer", "computers", "smartphone", "tablet", "ipad", "it", "it help",
       "digital help", "it-hjælp", "teknologi", "mobil", "mobiltelefon", "digital hjælp", "it-café",
       "teknik", "dator", "datorer", "it-hjälp", "digital hjälp", "surfplatta"),
    _i("exercise", "exercise", "motion", "motion",
       "gymnastics", "gym", "fitness", "senior gymnastics", "yoga", "gymnastik", "træning", "seniortræning",
       "seniorgymnastik", "motionere", "träning", "gympa", "seniorgympa", "friskvård"),
    _i("cycling", "cycling", "cykling", "cykling",
       "bike", "bicycle", "bike rides", "cykel", "cykelture", "cykle", "cykla", "cykelturer"),
    _i("nature", "nature", "natur", "natur",
       "outdoors", "nature walks", "outdoor life", "naturen", "friluftsliv", "naturture", "naturen",
       "friluftsliv", "naturupplevelser"),
    _i("film", "film", "film", "film",
       "movies", "cinema", "films", "biograf", "biografen", "filmklub", "bio", "filmklubb"),
    _i("self_help_group", "self-help group", "selvhjælpsgruppe", "självhjälpsgrupp",
       "self help", "self-help", "support group", "peer support", "grief group", "selvhjælp", "samtalegruppe", "sorggruppe",
       "stödgrupp", "samtalsgrupp", "sorgegrupp"),
    _i("study_circle", "study circle", "studiekreds", "studiecirkel",
       "course", "courses", "evening class", "learning", "kursus", "foredrag", "aftenskole", "kurs",
       "föreläsning", "folkbildning"),
    _i("languages", "languages", "sprog", "språk",
       "language", "language café", "learning languages", "sprogcafé", "sprogundervisning",
       "språkkurs", "lära sig språk"),
    _i("outings", "outings", "udflugter", "utflykter",
       "trips", "excursions", "day trips", "udflugt", "ture", "busture", "utflykt", "resor", "bussresor"),
    _i("petanque", "pétanque", "petanque", "boule",
       "boules", "bowls", "krolf", "kroket", "boccia", "boule spel"),
)

_BY_CODE: dict[str, Interest] = {i.code: i for i in INTERESTS}


def _normal(word: str) -> str:
    text = unicodedata.normalize("NFC", word).casefold().strip()
    text = re.sub(r"[\s_]+", " ", text)
    return re.sub(r"\s*&\s*", " and ", text)


def _unaccented(key: str) -> str:
    """`gåtur` -> `gatur`, `café` -> `cafe`; æ and ø, which are letters and not accents, become ae and o."""
    key = key.replace("æ", "ae").replace("ø", "o")
    return "".join(c for c in unicodedata.normalize("NFKD", key) if not unicodedata.combining(c))


def _build_lexicon() -> dict[str, str]:
    lexicon: dict[str, str] = {}
    for interest in INTERESTS:
        names = (interest.code, interest.code.replace("_", " "), *interest.labels.values(), *interest.words)
        for name in names:
            key = _normal(name)
            owner = lexicon.setdefault(key, interest.code)
            if owner != interest.code:
                raise ValueError(f"taxonomy word {name!r} belongs to both {owner} and {interest.code}")
    return lexicon


_LEXICON = _build_lexicon()
# The same words without accents (a word that loses its accent into another interest's word keeps the first),
# and how each was written, to show as a close match.
_UNACCENTED: dict[str, str] = {}
_WRITTEN: dict[str, str] = {}
for _key, _code in _LEXICON.items():
    _UNACCENTED.setdefault(_unaccented(_key), _code)
    _WRITTEN.setdefault(_unaccented(_key), _key)
# "og" (da) and "och" (sv) join phrases just like "and".
_CONJUNCTIONS = re.compile(r"\b(og|och)\b")


class UnknownInterest(ValueError):
    def __init__(self, word: str) -> None:
        self.word = word
        self.close = close_matches(word)
        hint = f"; did you mean {', '.join(repr(w) for w in self.close)}?" if self.close else ""
        super().__init__(f"unknown interest {word!r}{hint} (words in Danish, Swedish or English, or codes: GET /interests)")


def _lookup(key: str) -> str | None:
    joined = _CONJUNCTIONS.sub("and", key)
    return (_LEXICON.get(key) or _LEXICON.get(joined)
            or _UNACCENTED.get(_unaccented(key)) or _UNACCENTED.get(_unaccented(joined)))


def interest_code(word: str) -> str:
    """The canonical code for a word in Danish, Swedish or English (or a code itself), any case, with or without accents."""
    code = _lookup(_normal(word))
    if code is None:
        raise UnknownInterest(word)
    return code


def close_matches(word: str, limit: int = 5) -> list[str]:
    """Known words spelt most like `word` (difflib's ratio, at least 0.6), best first."""
    key = _unaccented(_normal(word))
    return [_WRITTEN[k] for k in difflib.get_close_matches(key, _SPELLINGS, n=limit, cutoff=0.6)]


def interest_codes(words: list[str] | tuple[str, ...]) -> list[str]:
    """Codes for words, without duplicates, in first-seen order."""
    codes: list[str] = []
    for word in words:
        code = interest_code(word)
        if code not in codes:
            codes.append(code)
    return codes


def canonical(code: str) -> str:
    """Lenient: the canonical code for a code or word another service sent (`baking` -> `baking_and_cooking`);
    an unknown one is kept as it is and matches only itself."""
    try:
        return interest_code(code)
    except UnknownInterest:
        return code


def is_known(code: str) -> bool:
    return code in _BY_CODE


def label(code: str, language: str = "en") -> str:
    """A readable name of the interest; unknown codes read as themselves."""
    interest = _BY_CODE.get(code)
    if interest is None:
        return code.replace("_", " ")
    return interest.labels.get(language, interest.labels["en"])


CODES: tuple[str, ...] = tuple(i.code for i in INTERESTS)

# Every word of the vocabulary without accents: what close matches are compared with.
_SPELLINGS: list[str] = sorted(_UNACCENTED)


def _code_of(word: str) -> str:
    try:
        return interest_code(word)
    except UnknownInterest as exc:
        raise ValueError(str(exc)) from exc


def _first_seen(codes: list[str]) -> list[str]:
    return list(dict.fromkeys(codes))


InterestWords = Annotated[
    list[Annotated[str, AfterValidator(_code_of)]],
    Field(min_length=1, description="words in Danish, Swedish or English, or codes; any case, accents optional"),
    AfterValidator(_first_seen),
]
"""A request field of interests as people write them, validated to canonical codes without duplicates;
an unknown word answers 422 at its place (`interests.1`) listing close matches."""
