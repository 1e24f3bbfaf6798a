"""Acronyms of children's social care and their long forms: to expand questions both ways, and to tell the user."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# Acronym -> long forms, from the vocabulary of Ofsted ILACS reports and council plans: the sector's common
# acronyms and those the 266 ILACS reports define most often (eval/TUNING.md). The first long form is the one
# shown to the user. Acronyms are matched in upper case (with an optional plural "s").
ACRONYMS: dict[str, tuple[str, ...]] = {
    "ADCS": ("Association of Directors of Children's Services",),
    "ADM": ("agency decision maker",),
    "ASYE": ("assessed and supported year in employment",),
    "CAF": ("common assessment framework",),
    "CAMHS": ("child and adolescent mental health services",),
    "CAO": ("child arrangements order",),
    "CCE": ("child criminal exploitation",),
    "CCG": ("clinical commissioning group",),
    "CDOP": ("child death overview panel",),
    "CIC": ("children in care",),
    "CICC": ("children in care council",),
    "CIN": ("child in need", "children in need"),
    "CLA": ("children looked after",),
    "CME": ("children missing education", "children missing from education"),
    "CP": ("child protection",),
    "CPD": ("continuing professional development",),
    "CPP": ("child protection plan",),
    "CSC": ("children's social care",),
    "CSE": ("child sexual exploitation",),
    "CSPR": ("child safeguarding practice review",),
    "CWD": ("children with disabilities",),
    "CYP": ("children and young people",),
    "DA": ("domestic abuse",),
    "DCS": ("director of children's services",),
    "DFE": ("Department for Education",),
    "DOLS": ("deprivation of liberty",),
    "DSL": ("designated safeguarding lead",),
    "EBSA": ("emotionally based school avoidance",),
    "EDS": ("emergency duty service",),
    "EDT": ("emergency duty team",),
    "EET": ("education, employment or training",),
    "EHA": ("early help assessment",),
    "EHC": ("education, health and care",),
    "EHCP": ("education, health and care plan",),
    "EHE": ("elective home education",),
    "EWO": ("education welfare officer",),
    "FDAC": ("family drug and alcohol court",),
    "FGC": ("family group conference",),
    "FGM": ("female genital mutilation",),
    "HMO": ("house in multiple occupation", "houses in multiple occupation"),
    "ICB": ("integrated care board",),
    "ICPC": ("initial child protection conference",),
    "IDVA": ("independent domestic violence adviser",),
    "IFA": ("independent fostering agency",),
    "IHA": ("initial health assessment",),
    "ILACS": ("inspection of local authority children's services",),
    "IRO": ("independent reviewing officer",),
    "JTAI": ("joint targeted area inspection",),
    "KPI": ("key performance indicator",),
    "LA": ("local authority",),
    "LAC": ("looked after children",),
    "LADO": ("local authority designated officer",),
    "LSCB": ("local safeguarding children board",),
    "LSCP": ("local safeguarding children partnership",),
    "MACE": ("multi-agency child exploitation",),
    "MAPPA": ("multi-agency public protection arrangements",),
    "MARAC": ("multi-agency risk assessment conference",),
    "MASH": ("multi-agency safeguarding hub",),
    "NEET": ("not in education, employment or training",),
    "NQSW": ("newly qualified social worker",),
    "NRM": ("national referral mechanism",),
    "OOH": ("out of hours",),
    "PA": ("personal adviser",),
    "PEP": ("personal education plan",),
    "PLO": ("public law outline",),
    "QA": ("quality assurance",),
    "RAA": ("regional adoption agency",),
    "RAG": ("red, amber, green",),
    "RCPC": ("review child protection conference",),
    "RHA": ("review health assessment",),
    "RHI": ("return home interview",),
    "SCR": ("serious case review",),
    "SDQ": ("strengths and difficulties questionnaire",),
    "SEN": ("special educational needs",),
    "SEND": ("special educational needs and disabilities",),
    "SGO": ("special guardianship order",),
    "SIF": ("single inspection framework",),
    "SWIS": ("social workers in schools",),
    "TAC": ("team around the child",),
    "TAF": ("team around the family",),
    "UASC": ("unaccompanied asylum-seeking children",),
    "VS": ("virtual school",),
    "VSH": ("virtual school head",),
    "YJS": ("youth justice service",),
    "YOS": ("youth offending service",),
    "YOT": ("youth offending team",),
}

# Acronyms that are ordinary words in lower or title case: matched only when written in capitals.
WORDLIKE = {"CAF", "CIC", "PA", "PEP", "LA", "QA", "RAG", "SEN", "SEND", "MASH", "CIN", "CP", "CLA", "LAC", "DA", "TAC",
            "VS", "SIF", "NRM"}
# Small words a long form may contain that the acronym skips ("children in need" -> CIN keeps "in").
LINKING = {"and", "of", "for", "the", "in", "on", "to", "from", "with", "or", "&"}


@dataclass(frozen=True)
class Expansion:
    """One acronym in a question and the long form it was expanded to (or a long form and its acronym)."""

    term: str  # as written in the question
    expansion: str  # what was added to the search


class Glossary:
    """Finds acronyms (and long forms) in questions and says what to add to the search."""

    def __init__(self, entries: dict[str, tuple[str, ...]] | None = None, learned: frozenset[str] = frozenset(),
                 reversible: dict[str, str] | None = None):
        self.entries = dict(ACRONYMS if entries is None else entries)
        self.learned = learned  # acronyms learned from documents: matched only as written, in capitals
        # long forms that bring in their acronym: those of the given entries, not ones learned from documents
        self._long = dict(reversible) if reversible is not None else {
            _fold(form): acronym for acronym, forms in self.entries.items() for form in forms}
        self._acronym_pattern = re.compile(
            r"\b(" + "|".join(sorted(map(re.escape, self.entries), key=len, reverse=True)) + r")(?:'?s)?\b",
            re.IGNORECASE) if self.entries else None
        self._long_pattern = re.compile(
            r"\b(" + "|".join(sorted((re.escape(form) for form in self._long), key=len, reverse=True))
            + r")s?\b") if self._long else None

    def merged(self, learned: dict[str, tuple[str, ...]]) -> "Glossary":
        """A glossary that also knows acronyms the documents define (long forms of known ones appended).

        Learned entries only expand an acronym written in capitals; their long forms do not bring in the
        acronym, since a document's own abbreviation ("pathway plans (PP)") is no help to a question.
        """
        entries = {key: tuple(value) for key, value in self.entries.items()}
        new_acronyms = set()
        for acronym, forms in learned.items():
            known = {_fold(form) for form in entries.get(acronym, ())}
            new = tuple(dict((_fold(form), form) for form in forms if _fold(form) not in known).values())
            if new:
                if acronym not in entries:
                    new_acronyms.add(acronym)
                entries[acronym] = entries.get(acronym, ()) + new
        return Glossary(entries, self.learned | frozenset(new_acronyms), self._long)

    def expand(self, query: str) -> list[Expansion]:
        """Acronyms in `query` with their long forms, and long forms with their acronyms; each once."""
        found: list[Expansion] = []
        seen: set[str] = set()
        if self._acronym_pattern:
            for match in self._acronym_pattern.finditer(query):
                written = match.group(1)
                acronym = written.upper()
                if acronym not in self.entries or acronym in seen:
                    continue
                if not written.isupper() and (acronym in WORDLIKE or len(acronym) <= 3 or acronym in self.learned):
                    continue  # "pa", "cin", "mash": only in capitals
                seen.add(acronym)
                shown: set[str] = set()
                for form in self.entries[acronym]:
                    key = _fold(form).rstrip("s")  # "personal education plan(s)" once
                    if key not in shown:
                        shown.add(key)
                        found.append(Expansion(match.group(0), form))
        if self._long_pattern:
            for match in self._long_pattern.finditer(_fold(query)):
                acronym = self._long[match.group(1)]
                if acronym not in seen:
                    seen.add(acronym)
                    found.append(Expansion(match.group(0), acronym))
        return found


def _fold(text: str) -> str:
    text = re.sub(r"(?<=\w)-\s+", "-", text.lower().replace("’", "'"))  # "Multi- Agency" as a PDF breaks it
    return re.sub(r"\s+", " ", text).strip()


DEFINITION = re.compile(r"\(\s*([A-Z][A-Za-z]{1,7}?)(s?)\s*\)")


def mine_definitions(texts: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Acronyms the documents define themselves, 'independent reviewing officers (IROs)' style.

    The long form is the shortest run of words before the brackets whose initials spell the acronym
    (small linking words may be skipped), after Schwartz and Hearst (2003).
    """
    found: dict[str, list[str]] = {}
    for text in texts:
        for match in DEFINITION.finditer(text):
            acronym = match.group(1)
            if sum(1 for ch in acronym if ch.isupper()) < 2:
                continue
            words = re.findall(r"[A-Za-z][\w'’-]*|&", text[max(0, match.start() - 160):match.start()])
            form = _long_form(acronym.upper(), words)
            if form:
                forms = found.setdefault(acronym.upper(), [])
                if _fold(form) not in (_fold(known) for known in forms):
                    forms.append(form)
    return {acronym: tuple(forms) for acronym, forms in found.items()}


def _long_form(acronym: str, words: list[str]) -> str | None:
    """The words at the end of `words` whose initials spell `acronym`, or None."""
    letters = list(acronym)
    used = 0
    position = len(words)
    while letters and position > 0:
        position -= 1
        word = words[position]
        initials = [part[0].upper() for part in word.split("-") if part]
        if initials and len(initials) <= len(letters) and letters[-len(initials):] == initials:
            del letters[-len(initials):]
            used += 1
        elif word.lower() in LINKING and used:
            continue
        else:
            return None
        if len(words) - position > 2 * len(acronym) + 2:
            return None
    if letters or not used:
        return None
    return " ".join(words[position:]).rstrip("'’")  # "independent reviewing officers’ (IROs’)": no apostrophe
