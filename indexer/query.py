"""interpret(question) -> Interpretation: the authorities, time and acronyms a question names, and its filters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .authorities import WORDLIKE, absent_names, fold, load_register, names_for
from .errors import IndexerError
from .glossary import Expansion, Glossary

YEAR = re.compile(r"\b(19[89]\d|20\d\d)\b")
MONTHS = {"january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
          "dec", "spring", "summer", "autumn", "winter", "end", "early", "late", "mid"}
# A word for a document or an inspection, and the words that say which of an authority's reports is meant;
# they may stand a few words apart, in either order ("the most recent Manchester inspection").
DOCUMENT_WORDS = r"(?:inspections?|inspected|reports?|visits?|judgements?|ofsted|ilacs|grades?)"
LATEST_WORDS = r"(?:latest|most recent|newest|current|recent|last|this year's)"
EARLIER_WORDS = r"(?:previous|prior|earlier|first|older|before last|last but one|penultimate)"
NEAR = r"(?:\W+[\w'’]+){0,4}?\W+"  # up to four words between
LATEST = re.compile(rf"\b{LATEST_WORDS}{NEAR}{DOCUMENT_WORDS}\b|\b{DOCUMENT_WORDS}{NEAR}{LATEST_WORDS}\b", re.I)
EARLIER = re.compile(rf"\b{EARLIER_WORDS}{NEAR}{DOCUMENT_WORDS}\b|\b{DOCUMENT_WORDS}{NEAR}before that\b", re.I)
# The question asks what Ofsted said must improve, not what it found.
RECOMMENDATIONS = re.compile(
    r"\b(?:needs? to (?:be )?improv\w*|recommend\w*|areas? (?:for|of) (?:improvement|development|priority action)"
    r"|improvement (?:areas?|points?|priorities)|priority actions?|what (?:should|must) [\w\s']{0,30}?improve"
    r"|told (?:them|us|it) to improve|asked (?:them|us|it) to improve)\b", re.I)
MAX_NAME_WORDS = 6  # the longest authority name or alias, in words


@dataclass(frozen=True)
class Filters:
    """Which passages a search may return; empty means no restriction."""

    authorities: tuple[str, ...] = ()
    doc_types: tuple[str, ...] = ()
    since: str | None = None  # "2019" or "2019-05-01": on or after
    until: str | None = None  # "2020" or "2020-12-31": on or before
    doc_ids: tuple[str, ...] = ()  # only these documents (e.g. those of authorities with a given grade)
    exclude_doc_ids: tuple[str, ...] = ()  # never these documents
    kinds: tuple[str, ...] = ()  # only passages of these kinds (finding, recommendation, …: sections.PASSAGE_KINDS)

    def is_empty(self) -> bool:
        return not (self.authorities or self.doc_types or self.since or self.until or self.doc_ids
                    or self.exclude_doc_ids or self.kinds)


@dataclass(frozen=True)
class Interpretation:
    """What the searcher understood from a question: shown to the user beside the results."""

    query: str
    expansions: tuple[Expansion, ...] = ()  # acronyms expanded (and long forms abbreviated)
    authorities: tuple[str, ...] = ()  # authorities named in the question, as the index spells them
    years: tuple[str, ...] = ()  # years named in the question ("in 2019", "Tameside 2023")
    after: str | None = None  # a year the question asks about developments since ("improved since 2019")
    latest: bool = False  # the question asks about the latest / most recent document
    filters: Filters = field(default_factory=Filters)  # the filters the search ran with
    earlier: bool = False  # the question asks about an earlier (previous, first) report
    recommendations: bool = False  # the question asks what needs to improve, not what was found
    topic: str = ""  # the question without the authorities and times it is filtered or boosted by
    absent: tuple[str, ...] = ()  # authorities the question names that no indexed document belongs to

    @property
    def search_text(self) -> str:
        """What is embedded and given to BM25: the question's topic with its expansions.

        An authority the search is filtered by, and the time it is boosted by, are left out: every
        passage left is that authority's, so its name would only favour passages that happen to repeat it.
        """
        topic = self.topic or self.query
        extra = "; ".join(expansion.expansion for expansion in self.expansions)
        return f"{topic} ({extra})" if extra else topic


class Interpreter:
    """Reads questions against what an index holds: its authorities (with the register's aliases) and glossary."""

    def __init__(self, authority_names: set[str], glossary: Glossary | None = None):
        self.glossary = glossary or Glossary()
        self._names = names_for(authority_names)  # folded alias -> authorities as the index spells them
        self._absent = absent_names(authority_names)  # folded alias -> a register authority the index lacks
        self._acronyms = {fold(alias) for authority in load_register() for alias in authority.aliases
                          if re.sub(r"[^A-Za-z]", "", alias).isupper()}  # "BCP", "RBKC", "H&F": only as written

    def interpret(self, query: str, filters: Filters = Filters(), expand_acronyms: bool = True,
                  filter_authorities: bool = True) -> Interpretation:
        """Acronyms to expand, the authorities, years and report the question names; the filters to search with.

        An authority named in the question filters the search unless the caller's filters already name
        authorities (what the user chose always wins) or `filter_authorities` is off.
        """
        query = query.strip()
        expansions = tuple(self.glossary.expand(query)) if expand_acronyms else ()
        mentions = self.authority_mentions(query)
        mentions += self.group_mentions(query, mentions)
        authorities = tuple(dict.fromkeys(name for _, _, names in mentions for name in names))
        years, after = read_years(query)
        if authorities and filter_authorities and not filters.authorities:
            filters = replace(filters, authorities=authorities)
        # names the search is filtered by say nothing more about the topic: take them out of the text
        filtered = {name.lower() for name in filters.authorities}
        spans = [(start, end) for start, end, names in mentions if {n.lower() for n in names} <= filtered]
        spans += time_spans(query)
        return Interpretation(query, expansions, authorities, years, after, bool(LATEST.search(query)), filters,
                              earlier=bool(EARLIER.search(query)) and not LATEST.search(query),
                              recommendations=bool(RECOMMENDATIONS.search(query)), topic=without(query, spans),
                              absent=self.absent_authorities(query))

    def absent_authorities(self, query: str) -> tuple[str, ...]:
        """Authorities the question names that the index has no documents of ("Manchester" in an index
        without Manchester's reports): the search runs without them, and the user is told."""
        tokens = _tokens(query)
        found: list[str] = []
        for width in range(MAX_NAME_WORDS, 0, -1):
            for position in range(len(tokens) - width + 1):
                words = tokens[position:position + width]
                key = " ".join(word for *_, word in words if word)
                name = self._absent.get(key)
                if name and name not in found and self._accept(key, [written for _, _, written, _ in words]) \
                        and not self._names.get(key):
                    found.append(name)
        # a name inside a longer indexed one ("Northamptonshire" in "West Northamptonshire") is not absent
        named = " ".join(self.named_authorities(query)).lower()
        return tuple(name for name in found if name.lower() not in named)

    def named_authorities(self, query: str) -> tuple[str, ...]:
        """The authorities a question names, by any name or alias the register knows, in order of mention."""
        return tuple(dict.fromkeys(name for _, _, names in self.authority_mentions(query) for name in names))

    def authority_mentions(self, query: str) -> list[tuple[int, int, tuple[str, ...]]]:
        """(start, end, authorities) of each name or alias in the question, longest first at each place.

        Names that are ordinary words ("reading", "bury") count only capitalised; acronyms ("MK",
        "BCP") only as written. The span takes in a council's kind around the name ("Durham County
        Council", "London Borough of Hackney") and a possessive.
        """
        tokens = _tokens(query)
        found: list[tuple[int, int, tuple[str, ...]]] = []
        position = 0
        while position < len(tokens):
            for width in range(min(MAX_NAME_WORDS, len(tokens) - position), 0, -1):
                words = tokens[position:position + width]
                key = " ".join(word for *_, word in words if word)
                targets = self._names.get(key)
                if targets and self._accept(key, [written for _, _, written, _ in words]):
                    start, end = _council_words(query, words[0][0], words[-1][1])
                    found.append((start, end, targets))
                    position += width
                    break
            else:
                position += 1
        return found

    def group_mentions(self, query: str, mentions: list[tuple[int, int, tuple[str, ...]]] | None = None
                       ) -> list[tuple[int, int, tuple[str, ...]]]:
        """(start, end, authorities) of each group of authorities a question names: a region ("in the North
        West", "London boroughs") or an authority's statistical neighbours ("Oldham's statistical neighbours",
        "Kent and its statistical neighbours": the authority with its ten)."""
        mentions = self.authority_mentions(query) if mentions is None else mentions
        held = {name for names in self._names.values() for name in names}
        found = []
        for start, end, names in mentions:
            after, before = NEIGHBOURS_AFTER.match(query[end:]), NEIGHBOURS_BEFORE.search(query[:start])
            if not (after or before):
                continue
            group = [n.name for name in names for n in _neighbours(name)]
            found.append((before.start() if before else start, end + (after.end() if after else 0),
                          tuple(name for name in dict.fromkeys([*names, *group]) if name in held)))
        taken = [(start, end) for start, end, _ in mentions + found]
        for match in REGION_PHRASE.finditer(query):
            region = match.group("region")
            if not region[0].isupper() or any(s < match.end("region") and match.start("region") < e for s, e in taken):
                continue  # "the north east of the county"; "London" in "London Borough of Hackney"
            if fold(region) == "london" and not (match.group("before") or match.group("after")):
                continue  # "London" alone may be the City of London or a place: "in London", "London boroughs"
            names = tuple(a.name for a in load_register() if fold(a.region) == fold(_REGION_NAMES[fold(region)])
                          and a.name in held)
            if names:
                found.append((match.start(), match.end(), names))
        return found

    def _accept(self, key: str, written: list[str]) -> bool:
        if key in WORDLIKE and not written[0][:1].isupper():
            return False
        written = [re.sub(r"['’]s$", "", word) for word in written]
        if key in self._acronyms and not all(word.isupper() or word == "&" for word in written):
            return False
        return True


NEIGHBOURS_AFTER = re.compile(r"^(?:['’]s)?\s*(?:and\s+(?:its|their)\s+(?:ten\s+|10\s+)?)?(?:statistical|stat)\s+"
                              r"neighbou?rs\b", re.I)
NEIGHBOURS_BEFORE = re.compile(r"\b(?:statistical|stat)\s+neighbou?rs\s+(?:of|to|for)\s+(?:the\s+)?$", re.I)
_REGION_NAMES = {**{fold(region): region for region in sorted({a.region for a in load_register() if a.region})},
                 "yorkshire and humber": "Yorkshire and the Humber"}
REGION_PHRASE = re.compile(
    r"(?P<before>\b(?:in|across|from|within|throughout|for)\s+(?:the\s+)?)?"
    r"\b(?P<region>North East|North West|Yorkshire and (?:the )?Humber|East Midlands|West Midlands|East of England|"
    r"London|South East|South West)\b"
    r"(?P<after>\s+(?:region|authorities|councils|local authorities|LAs|boroughs)\b)?", re.I)


def _neighbours(name: str):
    from .authorities import neighbours_of

    try:
        return neighbours_of(name)
    except IndexerError:
        return ()


def _tokens(query: str) -> list[tuple[int, int, str, str]]:
    """(start, end, as written, folded without a possessive) for each word of a question, "&" included."""
    return [(match.start(), match.end(), match.group(), fold(match.group().replace("’s", "").replace("'s", "")))
            for match in re.finditer(r"[A-Za-z0-9][A-Za-z0-9'’.]*|&", query)]


COUNCIL_BEFORE = re.compile(r"(?:\b(?:in|at|for|of|from|across|within|by|about)\s+)?(?:the\s+)?"
                            r"(?:(?:london borough|royal borough|metropolitan borough|borough|city|county|council|"
                            r"corporation)\s+of\s+(?:the\s+)?)?$", re.I)
COUNCIL_AFTER = re.compile(r"^(?:['’]s)?(?:\s+(?:metropolitan\s+)?(?:borough|city|county|district|unitary)?\s*"
                           r"(?:council|authority|la)\b(?:['’]s)?)?", re.I)
_MONTH_WORDS = "|".join(sorted(MONTHS, key=len, reverse=True))
TIME_PHRASES = re.compile(
    rf"\b(?:(?:in|from|since|after|during|the|of|for|at)\s+)*(?:(?:{_MONTH_WORDS})\s+)?"
    rf"(?:19[89]\d|20\d\d)\b(?:['’]s)?(?:\s+(?:ofsted\s+|ilacs\s+)?{DOCUMENT_WORDS}\b)?"
    rf"|\b(?:(?:in|at|since|from|of|for)\s+)?(?:the\s+)?(?:{LATEST.pattern}|{EARLIER.pattern})", re.I)


def _council_words(query: str, start: int, end: int) -> tuple[int, int]:
    """A name's span widened to the council words around it: "London Borough of Hackney", "Kent's",
    "Durham County Council"."""
    before = COUNCIL_BEFORE.search(query[:start])
    after = COUNCIL_AFTER.match(query[end:])
    return (before.start() if before else start), end + (after.end() if after else 0)


def time_spans(query: str) -> list[tuple[int, int]]:
    """Where the question names a year or a report by time ("in 2022", "the most recent … inspection")."""
    return [match.span() for match in TIME_PHRASES.finditer(query)]


def without(query: str, spans: list[tuple[int, int]]) -> str:
    """The question with the spans taken out, its punctuation tidied; the question itself if nothing is left."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):  # "Leeds, Wakefield and Calderdale" goes as one
        if merged and re.fullmatch(r"[\s,]*(?:and|or|&|vs\.?|versus)?[\s,]*", query[merged[-1][1]:start], re.I):
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    keep, cursor = [], 0
    for start, end in merged:
        if start >= cursor:
            keep.append(query[cursor:start])
            cursor = end
        else:
            cursor = max(cursor, end)
    keep.append(query[cursor:])
    text = re.sub(r"\s+", " ", " ".join(keep))
    text = re.sub(r"\s+([,.;:?!])", r"\1", text)
    text = re.sub(r"^[\s,.;:\-–—]+|[\s,;:\-–—]+$", "", text)
    text = re.sub(r"([,;:])\s*([,;:?.!])", r"\2", text)
    return text if re.search(r"\w", text) else query


def read_years(query: str) -> tuple[tuple[str, ...], str | None]:
    """(years a question's documents are from, the year it asks about developments since).

    "in 2023" and "Tameside 2023" name a document's year; "since 2019", "since the 2019 inspection" and
    "after 2019" a year after which; "by June 2020" and "before 2020" are deadlines, not documents.
    """
    years, after = [], None
    for match in YEAR.finditer(query):
        before = re.findall(r"[\w']+", query[max(0, match.start() - 40):match.start()].lower())[-3:]
        before = [word for word in before if word not in MONTHS and not word.isdigit() and word != "the"]
        word = before[-1] if before else ""
        if word in ("since", "after", "from"):
            after = after or match.group(1)
        elif word not in ("by", "until", "before"):
            years.append(match.group(1))
    return tuple(dict.fromkeys(years)), after
