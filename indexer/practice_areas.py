"""areas(text) -> the areas of children's social care practice a passage speaks of, by the words reports use.

A recommendation asks to improve one aspect of one area ("pathway plans for care leavers"); a later passage
on a look-alike area ("personal education plans", "the LADO's recording") is close in meaning to a sentence
embedding but is not about the same thing. Naming the areas on both sides lets following.py ask whether the
later passage speaks of what was recommended, and of what else.

The list is domain knowledge, first written from the inspection framework's own vocabulary (the ILACS
judgements and their evaluation criteria), then given narrower areas and synonyms where the dev pairs of
eval/follow_pairs.jsonl showed a look-alike or a missed synonym (never from the held-out pairs). A word that
names two areas (e.g. "missing") is split by the phrases around it, and a word with an everyday sense too
("adopted a new model", "an early adopter of") is matched only in its social-care sense.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

AREAS = {
    "pathway plans": r"pathway plan",
    "care leavers": r"care leaver|leaving care|young adults?|personal advis[eo]rs?|\bpas\b",
    "accommodation": r"accommodation|housing|bed and breakfast|\bb&b\b|homeless|supported lodgings",
    "supervision": r"supervis",
    "oversight": r"oversight",
    "audit": r"audit|quality assurance",
    "independent reviewing officers": r"independent reviewing|\biros?\b|reviewing officer",
    "child protection chairs": r"child protection chair|conference chair|\bcp chairs?\b",
    "assessment": r"assess",
    "planning": r"\bplans?\b|planning",
    "strategy and enquiries": r"strategy (?:meeting|discussion)s?|section 47|\bs47\b|child protection enquir",
    "front door": r"front door|\bmash\b|multi-agency safeguarding hub|referral|contacts",
    "early help": r"early help|family help|early intervention",
    "missing from home or care": r"missing from(?! education)|go(?:es|ing)? missing|return (?:home )?interviews?|missing episodes?|"
                                 r"are missing(?! (?:from )?education)",
    "exploitation": r"exploit|\bcse\b|\bcce\b|county lines|extra-familial|contextual safeguarding",
    "missing education": r"missing (?:from )?education|home[- ]educat|elective",
    "private fostering": r"private(?:ly)? foster",
    "allegations (LADO)": r"\blado\b|designated officer|allegations",
    "fostering": r"foster",
    "adoption": r"adoption|(?<!early )adopters?\b|adoptive|adopted (?:child|children|young)",
    "permanence": r"permanen|special guardian|stability|long-term match",
    "sufficiency and placements": r"sufficiency|placements?|homes? for children|commission|residential",
    "education": r"personal education plan|\bpeps?\b|virtual school|education|school|attainment|attendance|\bneet\b|"
                 r"employment|training",
    "health": r"health|camhs|well-being|wellbeing|dental|immunisation",
    "disabled children": r"disab|special educational needs|\bsend\b",
    "16- and 17-year-olds": r"16- and 17-year|16 and 17|16-17|homeless young",
    "unaccompanied children": r"unaccompanied|asylum",
    "workforce": r"caseload|workforce|recruit|retention|agency (?:staff|workers|social)|turnover|vacanc|staffing|"
                 r"changes? (?:of|in) (?:their )?(?:social )?workers?|consistent (?:social )?worker|same social worker",
    "partners": r"partner|police|multi-agency|agencies",
    "corporate parenting": r"corporate parent",
    "children's voice": r"voice|participation|children in care council|wishes and feelings|direct work|views",
    "life story and identity": r"life[- ]story|later[- ]life letter|identity|"
                               r"understand(?:ing)? (?:of )?their (?:histories|history|life|stories)",
    "court and pre-proceedings": r"public law outline|\bplo\b|pre-proceedings|court|proceedings",
    "domestic abuse": r"domestic abuse|domestic violence|\bmarac\b",
    "neglect": r"neglect",
    "advocacy": r"advoca|independent visitor",
    "records": r"record|case notes|chronolog",
    "performance data": r"performance|data|management information|\bkpis?\b|know (?:their|the) services|"
                        r"understanding of (?:their|the) services",
    "thresholds": r"threshold|right level of|appropriate level of|level of (?:need|intervention|support|risk)",
    "step-up, step-down and closure": r"step(?:ped|s)?[- ]down|closure|closed|step(?:ped|s)? up",
    "family time": r"family time|contact with (?:their )?(?:families|family|parents|brothers|siblings|birth)|sibling",
    "transition to adulthood": r"transition|adult services|adulthood",
    "children in need": r"children in need|child in need|\bcin\b",
    "child protection": r"child protection",
    "leadership": r"leader|strategic|political|corporate|chief executive|elected members",
    "timeliness": r"delay|drift|timel|timescale|prompt|swift",
    "qualified staff": r"unqualified|qualified|family support workers?|non-qualified",
    "learning and development": r"training|learning|development|practice model|signs of safety",
    "complaints": r"complain",
    "youth justice": r"youth (?:justice|offending)|offend",
    "children in care": r"children in care|looked after|looked-after",
    "improvement planning": r"improvement plan|self-evaluation|self-assessment|improvement journey|"
                            r"improvement programme",
    "visits": r"\bvisit",
    "conferences and core groups": r"conference|core group",
    # narrower areas inside the broad ones above: a recommendation naming one is not answered by the broad area
    "management oversight and supervision": r"supervis|management oversight|managers?'? oversight|management direction|"
                                            r"case direction|oversight (?:by|from) managers|frontline managers|"
                                            r"management challenge",
    "kinship care": r"friends and family|family and friends|kinship|connected (?:carers?|persons?|care)|"
                    r"special guardianship|unapproved|unassessed",
    "health histories": r"health histor|health (?:records?|passports?|summar)",
    "health assessments": r"health assessment",
    "unregulated and unregistered homes": r"unregulated|unregistered",
    "young carers": r"young carers?",
    "alternative education": r"alternative (?:education|provision)|part-time timetable",
    "employment and training": r"apprentice|employment|\bneet\b|\beet\b|\bjobs?\b|work experience",
    "unborn and very young children": r"unborn|pre-birth|babies|very young|infants?",
    "repeat plans and re-referrals": r"repeat|second or subsequent|re-referral",
    "contingency planning": r"contingency",
    "direct work": r"direct work|life story|wishes and feelings",
    "information sharing": r"information[- ]sharing|share information|shared information",
}
_PATTERNS = {name: re.compile(pattern) for name, pattern in AREAS.items()}  # over lower-cased text


@lru_cache(maxsize=65536)
def areas(text: str) -> frozenset[str]:
    """The practice areas `text` names (AREAS keys)."""
    lowered = text.lower()
    return frozenset(name for name, pattern in _PATTERNS.items() if pattern.search(lowered))


# The ILACS judgement each area is graded under (a recommendation rarely says which: its areas do).
JUDGEMENTS = {
    "care leavers": ("care leavers", "pathway plans", "accommodation", "transition to adulthood", "employment and training",
                     "health histories"),
    "children in care": ("children in care", "fostering", "adoption", "permanence", "sufficiency and placements",
                         "education", "life story and identity", "family time", "independent reviewing officers",
                         "unaccompanied children", "corporate parenting", "kinship care",
                         "unregulated and unregistered homes", "alternative education", "health assessments"),
    "help and protection": ("front door", "early help", "strategy and enquiries", "child protection", "children in need",
                            "missing from home or care", "exploitation", "private fostering", "allegations (LADO)",
                            "16- and 17-year-olds", "domestic abuse", "neglect", "thresholds", "child protection chairs",
                            "conferences and core groups", "missing education", "court and pre-proceedings",
                            "unborn and very young children", "young carers", "repeat plans and re-referrals",
                            "step-up, step-down and closure"),
    "leaders": ("leadership", "workforce", "audit", "performance data", "partners", "learning and development",
                "improvement planning", "management oversight and supervision", "supervision", "oversight",
                "complaints"),
}
assert all(area in AREAS for names in JUDGEMENTS.values() for area in names)


def judgement_counts(text: str) -> dict[str, int]:
    """For each ILACS judgement, how many of its areas `text` names (judgements with none left out)."""
    found = areas(text)
    counts = {judgement: len(found.intersection(names)) for judgement, names in JUDGEMENTS.items()}
    return {judgement: count for judgement, count in counts.items() if count}


def judgements(text: str) -> tuple[str, ...]:
    """The ILACS judgements whose areas `text` names, most areas first."""
    counts = judgement_counts(text)
    return tuple(sorted(counts, key=lambda judgement: -counts[judgement]))


def rarity(texts) -> dict[str, float]:
    """How rare each area is among these texts (a corpus's passages): log((n + 1) / (passages naming it + 1)). A
    recommendation's rare area ("health histories", "young carers") is what a later passage must share to be about
    the same thing; a common one ("planning", "leaders") says less. Areas no text names get the highest value."""
    counts: Counter[str] = Counter()
    total = 0
    for text in texts:
        counts.update(areas(text))
        total += 1
    return {name: float(math.log((total + 1) / (counts[name] + 1))) for name in AREAS}
