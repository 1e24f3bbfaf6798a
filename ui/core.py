"""What the pages share: the index and model loaded once, the sidebar filters, the URL, safe rendering and export.

Document text is untrusted: it reaches the screen only through `esc()` inside `st.html` (which never reads
Markdown or LaTeX, and whose HTML is sanitised besides), through `st.dataframe` cells, or through
`md()` where a Markdown element cannot be avoided.
"""

from __future__ import annotations

import html
import os
import shlex
import threading
import time
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import streamlit as st

from indexer.authorities import in_scope, load_register
from indexer.building import stale_reasons
from indexer.embedding import HashingEmbedder, load_embedder, sentence_embedder
from indexer.errors import IndexerError, SearchUnavailableError
from indexer.export import Section, escape_markdown, hits_csv, hits_markdown, merge_spans
from indexer.passages import DOC_TYPES, JUDGEMENT_AREAS, Hit, Passage, format_date
from indexer.search import Filters, Searcher
from indexer.settings import PROJECT_ROOT, Settings
from indexer.store import open_store

try:  # written alongside the app: until it lands, pages show the hits without an answer block
    from indexer.answers import compose_answer
except ImportError:
    compose_answer = None
try:  # ranking options (and highlighting) of the searcher, also landing alongside the app
    from indexer.search import RankingOptions
except ImportError:
    RankingOptions = None

GRADES = ("outstanding", "good", "requires improvement", "inadequate")
ANY = "Any"
FILTER_KEYS = ("authority", "region", "atype", "near", "type", "from", "to", "area", "grade")
NO_AUTHORITY = "\x00no-authority"  # an authority filter nobody matches
NO_DOCUMENT = "\x00no-document"  # a doc_id filter no document matches: a grade nobody was given finds nothing
READER_PAGE = "ui/documents.py"

CSS = """<style>
[data-testid="stMainBlockContainer"] {padding-top: 3.5rem;}
h1 {font-size: 2.1rem !important;}
.hit .cite {font-weight: 600; margin: 0 0 .2rem 0;}
.grades {margin: 0 0 .5rem 0; padding-left: 1.1rem; font-size: .9rem;}
.grades li {margin: 0;}
.meta, .ctx .loc, .doc-reader .loc {color: #4a4a4a; font-size: .88rem; margin: 0 0 .35rem 0;}
.passage {white-space: pre-wrap; line-height: 1.55; max-width: 78ch; margin: 0 0 .4rem 0;}
.passage mark, .answer mark, .meta mark {background: #fde68a; color: #111; font-weight: 600;
  text-decoration: underline; text-decoration-thickness: 2px; text-underline-offset: 3px; padding: 0 1px;}
.answer {max-width: 80ch;}
.answer ol {margin: .2rem 0 0 1.2rem; padding: 0;}
.answer li {margin: 0 0 .5rem 0; line-height: 1.55;}
.answer .src {color: #4a4a4a; font-size: .88rem;}
.ctx {border-left: 3px solid #d0d0d0; padding: .1rem 0 .1rem .7rem; margin: 0 0 .6rem 0;}
.ctx.current {border-left: 6px double #1d4ed8;}
.ctx .this, .doc-reader .this {font-weight: 700;}
.doc-reader h4 {margin: 1.1rem 0 .4rem 0; font-size: 1.05rem;}
.doc-reader .para {margin: 0 0 .8rem 0;}
.doc-reader .para.current {border-left: 6px double #1d4ed8; padding-left: .7rem;}
.nothing {font-style: italic;}
.meta .kind {font-weight: 600; color: #1f2937; border: 1px solid #9ca3af; border-radius: 4px; padding: 0 .3rem;}
.meta .tone {font-weight: 600; border-radius: 4px; padding: 0 .3rem;}
.meta .tone.strength {color: #14532d; background: #dcfce7;}
.meta .tone.weakness {color: #7f1d1d; background: #fee2e2;}
.meta .tone.neutral {color: #374151; background: #f3f4f6;}
</style>"""


def esc(text: object) -> str:
    """Any text as inert HTML: tags, entities and quotes escaped."""
    return html.escape("" if text is None else str(text), quote=True)


def md(text: object) -> str:
    """Any text as inert Markdown, for the few places (alerts, labels) that read Markdown."""
    return escape_markdown("" if text is None else str(text))


# ------------------------------------------------------------------ loading, once per process


def app_settings() -> Settings:
    """Settings from the environment, with one thread for the model unless INDEXER_THREADS says otherwise.

    One short question is too small to share between threads: on a busy two-core machine, two torch threads
    took 1.3 s to embed it and one thread 0.04 s.
    """
    settings = Settings.from_env()
    return settings if os.environ.get("INDEXER_THREADS") else replace(settings, threads=1)


class QueryCache:
    """An embedder that remembers the vectors of recent questions, so Compare embeds a theme once, not per authority."""

    def __init__(self, embedder, size: int = 256):
        self.embedder = embedder
        self.name = embedder.name
        self.dimensions = embedder.dimensions
        self._size = size
        self._vectors: OrderedDict[str, object] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: list[str], progress: bool = False):
        if len(texts) != 1:
            return self.embedder.encode(texts, progress)
        with self._lock:
            if texts[0] in self._vectors:
                self._vectors.move_to_end(texts[0])
                return self._vectors[texts[0]]
        vector = self.embedder.encode(texts)
        with self._lock:
            self._vectors[texts[0]] = vector
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)
        return vector

    def token_count(self, text: str) -> int:
        return self.embedder.token_count(text)


@st.cache_resource(show_spinner="Loading the language model (first visit only)…")
def load_query_embedder(model: str, threads: int) -> QueryCache:
    """The question embedder, once per process. An index built with the test embedder gets the test embedder."""
    if model == HashingEmbedder.name:  # the one seam for tests: they build a tiny index with HashingEmbedder
        return QueryCache(HashingEmbedder())
    embedder = load_embedder(replace(app_settings(), model=model, threads=threads))
    embedder.encode(["warm up"])  # the first call pays one-off costs: pay them at start-up, not on a question
    return QueryCache(embedder)


@st.cache_resource(show_spinner=False)
def load_sentence_embedder(model: str, threads: int) -> QueryCache:
    """The embedder that scores answering sentences (the model's first layers), once per process, warmed."""
    whole = load_query_embedder(model, threads)
    embedder = sentence_embedder(whole.embedder, replace(app_settings(), model=model, threads=threads))
    if embedder is whole.embedder:
        return whole
    embedder.encode(["warm up"])
    return QueryCache(embedder)


@st.cache_resource(max_entries=2, show_spinner="Loading the index (once after start-up)…")
def load_searcher(index_folder: str, build: str, model: str, threads: int) -> Searcher:
    """The index of one build and a searcher over it; a new build (a new `current`) is a new cache entry.

    Nothing is warmed here: word statistics and sentence vectors come with the index (made at build time)
    and the embedder is warmed once by load_query_embedder.
    """
    settings = replace(app_settings(), index=Path(index_folder), model=model, threads=threads)
    return Searcher(open_store(settings).load(), load_query_embedder(model, threads), settings,
                    sentence_embedder=load_sentence_embedder(model, threads))


def _highlights(searcher: Searcher) -> bool:
    return bool(getattr(getattr(searcher, "options", None), "highlight", False))


@st.cache_resource(max_entries=2, show_spinner=False)
def load_plain_searcher(index_folder: str, build: str, model: str, threads: int) -> Searcher:
    """The same index searched without highlighting: Compare searches often and highlights only what it shows."""
    main = load_searcher(index_folder, build, model, threads)
    if RankingOptions is None or not _highlights(main):
        return main
    return Searcher(main.index, main.embedder, main.settings, options=replace(main.options, highlight=False),
                    sentence_embedder=main.sentence_embedder)


def plain_searcher(searcher: Searcher) -> Searcher:
    """The searcher without highlighting, for the same build."""
    settings = searcher.settings
    return load_plain_searcher(str(settings.index), searcher.index.build_id, settings.model, settings.threads)


def highlight_later(searcher: Searcher) -> bool:
    """Whether the searcher can highlight hits it did not find itself (`Searcher.highlight(query, hits)`)."""
    return callable(getattr(searcher, "highlight", None))


def interpret(searcher: Searcher, query: str, filters: Filters) -> dict:
    """What the searcher read into the question: {'expansions': [...], 'authorities': (...)}, or {}."""
    if not hasattr(searcher, "interpret"):
        return {}
    meaning = searcher.interpret(query, filters)
    report = "the latest report" if meaning.latest else "an earlier report" if meaning.earlier else None
    return {"expansions": tuple(meaning.expansions),
            "authorities": tuple(meaning.authorities) if meaning.filters.authorities != filters.authorities else (),
            "absent": tuple(getattr(meaning, "absent", ())),
            "time": ", ".join(part for part in (", ".join(meaning.years), meaning.after and f"since {meaning.after}",
                                                report) if part)}


def build_command(settings: Settings, corpus: list[str] | None = None) -> str:
    """The command that (re)builds this index from these corpus folders."""
    parts = ["python", "-m", "indexer", "build"]
    if Path(settings.index).resolve() != (PROJECT_ROOT / "index").resolve():
        parts += ["--index", str(settings.index)]
    folders = [str(folder) for folder in corpus or []]
    if folders and [Path(f).resolve() for f in folders] != [(PROJECT_ROOT / "corpus").resolve()]:
        for folder in folders:
            parts += ["--corpus", folder]
    return shlex.join(parts)


def open_searcher() -> Searcher:
    """The searcher over the current build; when there is none or it cannot be read, say how to fix it and stop."""
    settings = app_settings()
    store = open_store(settings)
    with service_errors():
        build = store.build_id()
    if build is None:
        st.error(f"There is no index yet in `{store.where}`, so there is nothing to search. "
                 "Build it (about a minute for the seed corpus), then reload this page:")
        st.code(build_command(settings), language="bash")
        st.caption("From a fresh clone, `make run` builds the index and starts the app.")
        st.stop()
    try:
        with service_errors():
            return load_searcher(str(settings.index), build, settings.model, settings.threads)
    except IndexerError as error:
        manifest = _manifest(settings)
        st.error(f"The index in `{store.where}` cannot be used: {error}")
        st.markdown("Rebuild it, then reload this page:")
        st.code(build_command(settings, manifest.get("corpus")), language="bash")
        st.stop()


@contextmanager
def service_errors():
    """Around anything that asks the index: a search service that does not answer is said in words, then the page
    stops (the index may be whole; a Milvus server is down or out of reach)."""
    try:
        yield
    except SearchUnavailableError as error:
        st.error(f"The search service is unavailable, so nothing can be searched just now ({error.detail}). "
                 "Try again in a minute; if it goes on, tell whoever runs the service.")
        st.stop()


def _manifest(settings: Settings) -> dict:
    try:
        return open_store(settings).read_manifest()
    except IndexerError:
        return {}


@st.cache_data(ttl=30, show_spinner=False)
def staleness(index_folder: str, build: str, model: str, max_passage_tokens: int) -> list[str]:
    """Why the index no longer matches the corpus folders it was built from (checked at most every 30 s)."""
    settings = replace(app_settings(), index=Path(index_folder), model=model, max_passage_tokens=max_passage_tokens)
    folders = [Path(folder) for folder in _manifest(settings).get("corpus", [])]
    try:
        return stale_reasons(folders, Path(index_folder), settings)
    except SearchUnavailableError:
        raise
    except IndexerError as error:
        return [str(error)]


def stale_reasons_for(searcher: Searcher) -> list[str]:
    """Why the searcher's index is out of date; empty when it is up to date."""
    settings = searcher.settings
    return staleness(str(settings.index), searcher.index.build_id, settings.model, settings.max_passage_tokens)


def show_stale_warning(searcher: Searcher) -> None:
    """A warning with the fixing command when the corpus changed since the index was built."""
    reasons = stale_reasons_for(searcher)
    if not reasons:
        return
    more = f" and {len(reasons) - 3} more" if len(reasons) > 3 else ""
    st.warning("The index is out of date, so results may miss recent changes: "
               + md("; ".join(reasons[:3])) + more + ". Rebuild it; this page keeps working meanwhile:")
    st.code(build_command(searcher.settings, searcher.index.manifest.get("corpus")), language="bash")


# ------------------------------------------------------------------ searching, cached per question


@st.cache_data(max_entries=512, show_spinner=False)
def _cached_search(_searcher: Searcher, build: str, highlighted: bool, query: str, k: int, filters_key: str,
                   _filters: Filters):
    return _searcher.search(query, k, _filters)


def search(searcher: Searcher, query: str, k: int, filters: Filters) -> list[Hit]:
    """Searcher.search, remembered per build, so reruns (opening an expander, downloading) cost nothing."""
    return _cached_search(searcher, searcher.index.build_id, _highlights(searcher), query, k, repr(filters),
                          filters)


@st.cache_data(max_entries=512, show_spinner=False)
def _cached_answer(_hits: list[Hit], build: str, query: str, hit_ids: tuple[str, ...]):
    return compose_answer(query, _hits)


def answer(searcher: Searcher, query: str, hits: list[Hit]) -> list:
    """The answer sentences for these hits, or [] when indexer.answers is not there yet."""
    if compose_answer is None or not hits:
        return []
    ids = tuple(hit.passage.passage_id for hit in hits)
    return _cached_answer(hits, searcher.index.build_id, query, ids)


def recommendations(searcher: Searcher, query: str, hits: list[Hit], filters: Filters) -> list:
    """What Ofsted said needs to improve on the theme: the recommendations closest to the question."""
    from indexer.answers import needs_to_improve

    return needs_to_improve(searcher.recommendations(query, hits, filters), hits)


# ------------------------------------------------------------------ sidebar filters and the URL


def init_from_url(key: str, default: object, options: list | tuple | None = None, multi: bool = False,
                  convert=str) -> None:
    """Give a widget its starting value from the URL (once per session), ignoring values it cannot take."""
    if key in st.session_state:
        return
    if multi:
        values = [value for value in st.query_params.get_all(key) if options is None or value in options]
        st.session_state[key] = values or list(default)
        return
    raw = st.query_params.get(key)
    if raw is None and f"_kept_{key}" in st.session_state:  # back on a page: keep what was typed there
        raw = str(st.session_state[f"_kept_{key}"])
    try:
        value = convert(raw) if raw is not None else default
    except ValueError:
        value = default
    st.session_state[key] = value if options is None or value in options else default


def write_url(page_defaults: dict[str, object] | None = None) -> None:
    """Put the filters and this page's inputs in the URL, so a search can be shared; defaults are left out."""
    page_defaults = page_defaults or {}
    for key in page_defaults:  # widget state goes when its page is left; a copy brings it back (init_from_url)
        if key in st.session_state:
            st.session_state[f"_kept_{key}"] = st.session_state[key]
    params: dict[str, object] = {}
    for key in (*FILTER_KEYS, *page_defaults):
        value = st.session_state.get(key)
        if key == "area" and not st.session_state.get("grade"):
            continue  # the judgement only matters once a grade is chosen
        if value in (None, "", [], ANY) or (key in page_defaults and value == page_defaults[key]):
            continue
        params[key] = [str(item) for item in value] if isinstance(value, list) else str(value)
    if params != _current_params():
        st.query_params.from_dict(params)


def _current_params() -> dict[str, object]:
    current: dict[str, object] = {}
    for key in st.query_params:
        values = st.query_params.get_all(key)
        current[key] = values if len(values) > 1 or key in ("authority", "region", "atype", "type", "grade") \
            else values[0]
    return current


def sidebar_filters(searcher: Searcher) -> None:
    """Authority, document type, years and judgement grade, shared by every page."""
    documents = list(searcher.index.documents.values())
    authorities = sorted({record["authority"] for record in documents if record.get("authority")})
    present = {record["doc_type"] for record in documents}
    types = [kind for kind in DOC_TYPES if kind in present] + sorted(present - set(DOC_TYPES))
    years = sorted({record["date"][:4] for record in documents if record.get("date")})
    areas = [area for area in JUDGEMENT_AREAS if any(area in (record.get("grades") or {}) for record in documents)]
    register = {a.name: a for a in load_register()}
    regions = sorted({register[name].region for name in authorities if name in register and register[name].region})
    kinds = sorted({register[name].type for name in authorities if name in register and register[name].type})
    init_from_url("authority", [], authorities, multi=True)
    init_from_url("region", [], regions, multi=True)
    init_from_url("atype", [], kinds, multi=True)
    init_from_url("near", ANY, [ANY, *[name for name in authorities if name in register]])
    init_from_url("type", [], types, multi=True)
    init_from_url("from", ANY, [ANY, *years])
    init_from_url("to", ANY, [ANY, *years])
    with st.sidebar:
        st.header("Filters")
        st.caption("They apply on every page. Leave a filter empty for everything.")
        st.multiselect("Authority", authorities, key="authority", placeholder="All authorities")
        st.multiselect("Region", regions, key="region", placeholder="All regions")
        st.multiselect("Type of authority", kinds, key="atype", placeholder="All types")
        st.selectbox("An authority and its statistical neighbours", [ANY, *[n for n in authorities if n in register]],
                     key="near", format_func=lambda name: "—" if name == ANY else name,
                     help="The authority with the ten the DfE's children's services statistical neighbours "
                          "benchmarking pairs it with.")
        st.multiselect("Document type", types, key="type", placeholder="All document types")
        left, right = st.columns(2)
        left.selectbox("From year", [ANY, *years], key="from")
        right.selectbox("To year", [ANY, *years], key="to")
        if areas:
            init_from_url("area", "overall effectiveness" if "overall effectiveness" in areas else areas[0], areas)
            init_from_url("grade", [], GRADES, multi=True)
            st.multiselect(
                "Judgement grade", GRADES, key="grade", placeholder="Any grade",
                help="Only documents that were given one of these grades (so inspection reports): "
                     "plans, letters and council reports carry no grade.")
            st.selectbox("…for the judgement", areas, key="area", format_func=str.capitalize,
                         disabled=not st.session_state.get("grade"))
        st.button("Clear filters", on_click=_clear_filters, icon=":material/filter_alt_off:")


def _clear_filters() -> None:
    for key in ("authority", "region", "atype", "type", "grade"):
        st.session_state[key] = []
    st.session_state["from"] = st.session_state["to"] = st.session_state["near"] = ANY


def current_filters(searcher: Searcher) -> Filters:
    """The sidebar filters as a search Filters; a grade becomes the ids of the documents given it."""
    state = st.session_state
    doc_ids: tuple[str, ...] = ()
    if state.get("grade"):
        area = state.get("area") or "overall effectiveness"
        doc_ids = tuple(doc_id for doc_id, record in searcher.index.documents.items()
                        if (record.get("grades") or {}).get(area) in state["grade"]) or (NO_DOCUMENT,)
    since = state.get("from") if state.get("from") not in (None, ANY) else None
    until = state.get("to") if state.get("to") not in (None, ANY) else None
    near = state.get("near") if state.get("near") not in (None, ANY) else None
    scope = in_scope(state.get("authority") or (), state.get("region") or (), state.get("atype") or (),
                     (near,) if near else ())
    if scope is not None and not scope:
        scope = [NO_AUTHORITY]  # groups that share no authority: nothing, not everything
    return Filters(authorities=tuple(scope or ()), doc_types=tuple(state.get("type") or ()),
                   since=since, until=until, doc_ids=doc_ids)


def documents_in_scope(searcher: Searcher, filters: Filters) -> list[dict]:
    """The document records the filters allow, in index order (the searcher's own filter logic decides)."""
    mask = searcher.allowed_rows(filters)
    if mask is None:
        return list(searcher.index.documents.values())
    allowed = {passage.doc_id for passage, ok in zip(searcher.index.passages, mask) if ok}
    return [record for doc_id, record in searcher.index.documents.items() if doc_id in allowed]


def describe_filters(filters: Filters) -> str:
    """The filters in words, for captions and exports."""
    parts = []
    state = st.session_state
    for key, label in (("region", "region"), ("atype", "type of authority")):
        if state.get(key):
            parts.append(f"{label}: " + ", ".join(state[key]))
    if state.get("near") not in (None, ANY):
        parts.append(f"{state['near']} and its statistical neighbours")
    if filters.authorities and not parts:
        parts.append("authority: " + ", ".join(filters.authorities))
    elif state.get("authority"):
        parts.append("authority: " + ", ".join(state["authority"]))
    if filters.doc_types:
        parts.append("type: " + ", ".join(filters.doc_types))
    if filters.since or filters.until:
        parts.append(f"years: {filters.since or '…'}–{filters.until or '…'}")
    if filters.doc_ids:
        parts.append(f"{st.session_state.get('area')} graded " + " or ".join(st.session_state.get("grade") or ()))
    return "; ".join(parts) if parts else "none"


# ------------------------------------------------------------------ rendering


def locator(passage: Passage) -> str:
    """'para 31 · p. 9', as far as the passage has a paragraph number and pages."""
    parts = []
    if passage.paragraph:
        parts.append(f"para {passage.paragraph}")
    if passage.page is not None:
        pages = f"pp. {passage.page}–{passage.page_end}" if passage.page_end and passage.page_end != passage.page \
            else f"p. {passage.page}"
        parts.append(pages)
    return " · ".join(parts) or "unnumbered"


def marked_html(text: str, spans) -> str:
    """Passage text as HTML: everything escaped first, then the answering spans wrapped in <mark>."""
    out, last = [], 0
    for start, end in merge_spans(spans, len(text)):
        out.append(esc(text[last:start]))
        out.append(f"<mark>{esc(text[start:end])}</mark>")
        last = end
    out.append(esc(text[last:]))
    return "".join(out)


def highlight_spans(hit: Hit, sentences: list) -> tuple[tuple[int, int], ...]:
    """The hit's own highlights, or else where the answer's sentences sit in its passage."""
    if hit.highlights:
        return tuple(hit.highlights)
    spans = []
    for sentence in sentences:
        if sentence.passage_id == hit.passage.passage_id:
            start = hit.passage.text.find(sentence.text)
            if start >= 0:
                spans.append((start, start + len(sentence.text)))
    return tuple(spans)


def hit_html(hit: Hit, spans=(), anchor: str | None = None, grade: str | None = None, numbered: bool = True) -> str:
    """One hit: number and citation, section, grade, the passage with its answering sentences marked, also-in."""
    passage = hit.passage
    head = f'<p class="cite">{f"[{hit.rank}] " if numbered else ""}{esc(passage.citation)}</p>'
    meta = [f'<span class="kind">{esc(KIND_LABELS.get(passage.kind, passage.kind))}</span>']
    if hit.tone:
        meta.append(f'<span class="tone {esc(hit.tone)}" title="What the marked sentence says of the practice, as '
                    f'read by a model (eval/SENTENCES.md): check before quoting">reads as a {esc(hit.tone)}</span>')
    if passage.section:
        meta.append(f"Section: {esc(passage.section)}")
    meta.append(esc(passage.doc_type.capitalize()))
    if grade:
        meta.append(f"<b>Grade given — {esc(grade)}</b>")
    also = ""
    if hit.also_in:
        also = '<p class="meta">Also in: ' + "; ".join(esc(c) for c in hit.also_in) + "</p>"
    marked = " (answering sentences are <mark>marked</mark>)" if spans else ""
    opening = f'<div class="hit" id="{esc(anchor)}">' if anchor else '<div class="hit">'
    return (f'{opening}{head}'
            f'<p class="meta">{" · ".join(meta)}{marked}</p>'
            f'<div class="passage">{marked_html(passage.text, spans)}</div>{also}</div>')


def context_html(passages: list[Passage], current_id: str) -> str:
    """Neighbouring passages in reading order, the current one marked in words as well as by a border."""
    parts = []
    for passage in passages:
        current = passage.passage_id == current_id
        label = '<span class="this">▶ This passage · </span>' if current else ""
        parts.append(f'<div class="ctx{" current" if current else ""}"><p class="loc">{label}{esc(locator(passage))}'
                     f'{" · " + esc(passage.section) if passage.section else ""}</p>'
                     f'<div class="passage">{esc(passage.text)}</div></div>')
    return "".join(parts)


KIND_LABELS = {"finding": "Finding", "recommendation": "What needs to improve", "summary": "Summary",
               "plan action": "Plan action", "council narrative": "Council paper", "boilerplate": "Boilerplate",
               "text": "Text"}


def answer_html(sentences: list) -> str:
    """The answer block: verbatim sentences, each with its citation number linking to the hit."""
    items = "".join(
        f'<li><q>{esc(s.text)}</q>'
        + (f' <a href="#hit-{int(s.hit_rank)}" title="Go to passage {int(s.hit_rank)}">[{int(s.hit_rank)}]</a>'
           if s.hit_rank else "")
        + f'<br><span class="src">{esc(s.citation)}</span></li>'
        for s in sentences)
    return f'<div class="answer"><ol>{items}</ol></div>'


def show_hit(searcher: Searcher, hit: Hit, spans=(), key: str = "hit", anchor: str | None = None,
             grade: str | None = None, more_like_this: bool = True) -> None:
    """A hit in a bordered box, with its context, similar passages and a link to the reader."""
    passage = hit.passage
    with st.container(border=True):
        st.html(hit_html(hit, spans, anchor, grade))
        with st.expander("Read in context", icon=":material/article:"):
            st.html(context_html(searcher.index.neighbours(passage.passage_id, 2, 2), passage.passage_id))
        if more_like_this:
            like = st.expander("More like this, from other documents", icon=":material/join_inner:",
                               key=f"{key}-like-{passage.passage_id}", on_change="rerun")
            if like.open:
                with like:
                    similar = searcher.similar(passage.passage_id, k=5)
                    if not similar:
                        st.caption("No other document has a passage like this one.")
                    for other in similar:
                        st.html(hit_html(other, numbered=False))
        st.page_link(READER_PAGE, label="Open in the document reader", icon=":material/menu_book:",
                     query_params={"doc": passage.doc_id, "at": passage.passage_id})


def export_buttons(stem: str, title: str, query: str, sections: list[Section], notes: list[str] = ()) -> None:
    """CSV and Markdown downloads of these results, with full citations."""
    with st.container(horizontal=True):
        st.download_button("Download CSV", hits_csv(query, sections).encode("utf-8-sig"), file_name=f"{stem}.csv",
                           mime="text/csv", on_click="ignore", icon=":material/download:", key=f"{stem}-csv")
        st.download_button("Download Markdown", hits_markdown(title, query, sections, notes).encode("utf-8"),
                           file_name=f"{stem}.md", mime="text/markdown", on_click="ignore",
                           icon=":material/download:", key=f"{stem}-md")


def graded_documents(searcher: Searcher, authority: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """[('Jan 2019 inspection report', [('overall effectiveness', 'requires improvement'), …]), …], newest first."""
    records = [r for r in searcher.index.documents.values() if r.get("authority") == authority and r.get("grades")]
    graded = []
    for record in sorted(records, key=lambda r: r.get("date") or "", reverse=True):
        grades = record["grades"]
        ordered = [area for area in JUDGEMENT_AREAS if area in grades] + sorted(set(grades) - set(JUDGEMENT_AREAS))
        graded.append((f"{format_date(record.get('date')) or 'undated'} {record['doc_type']}",
                       [(area, grades[area]) for area in ordered]))
    return graded


def grades_html(searcher: Searcher, authority: str) -> str:
    """The authority's grades, one list per graded report; said in words when there are none."""
    graded = graded_documents(searcher, authority)
    if not graded:
        return '<p class="meta">No judgement grades recorded for its documents.</p>'
    return "".join(f'<p class="meta"><b>{esc(label)}</b></p><ul class="grades">'
                   + "".join(f"<li>{esc(area.capitalize())}: {esc(grade)}</li>" for area, grade in grades) + "</ul>"
                   for label, grades in graded)


def timed(function, *args):
    """(result, seconds) of one call."""
    started = time.perf_counter()
    result = function(*args)
    return result, time.perf_counter() - started
