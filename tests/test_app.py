"""Tests for app.py and its pages (ui/), headless with AppTest over a tiny index built with the hashing embedder.

The app reads its index folder from INDEXER_INDEX and its model from INDEXER_MODEL; an index built with
HashingEmbedder names that model, and the app then embeds questions with HashingEmbedder too: no real model.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from indexer.building import build_index
from indexer.embedding import HashingEmbedder
from indexer.settings import Settings

APP = str(Path(__file__).resolve().parent.parent / "app.py")
HOSTILE = ("Untrusted text: <script>alert(1)</script> and [link](javascript:alert(2)) and "
           "![](http://tracker.example/pixel.png) and **bold** and $5m rose to $6m for the budget.")
CORPUS = {
    "oldham-report.txt": """Oldham inspection of children's social care services

The experiences and progress of children in care

20. IROs do not always challenge this effectively, and plans drift for some children in care.

21. Staff turnover means that many children still experience several changes of social worker.

The experiences and progress of care leavers

31. Some young people have pathway plans that are not good quality. Pathway plans are not updated when circumstances change.

32. Care leavers are supported into education, employment and training by personal advisers.
""",
    "tameside-report.txt": """Tameside inspection of local authority children's social care services

The experiences and progress of care leavers

30. Young people participate in the development of their pathway plans. Their pathway plans are reviewed regularly.

31. The council pays for driving lessons for care leavers who want them.
""",
    "oldham-plan.txt": f"""Oldham Children's Services Improvement Plan

1.1 {HOSTILE}

1.2 =HYPERLINK("http://evil.example","click") is how the budget for the plan was noted.
""",
    "metadata.csv": """file,title,authority,doc_type,date,source,grade_overall_effectiveness,grade_care_leavers
oldham-report.txt,Oldham inspection of children's social care services,Oldham,inspection report,2019-01-21,Ofsted,requires improvement,requires improvement
tameside-report.txt,Tameside inspection of local authority children's social care services,Tameside,inspection report,2019-05-13,Ofsted,good,good
oldham-plan.txt,Oldham Children's Services Improvement Plan,Oldham,improvement plan,2020,Oldham Council,,
""",
}
OLDHAM = "Ofsted, Oldham inspection of children's social care services (Jan 2019)"
TAMESIDE = "Ofsted, Tameside inspection of local authority children's social care services (May 2019)"


def write_corpus(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in CORPUS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def build(corpus: Path, index: Path) -> None:
    settings = Settings.from_env(index=index, model=HashingEmbedder.name)
    build_index([corpus], index, HashingEmbedder(), settings, progress=False, log=lambda message: None)


@pytest.fixture(scope="module")
def tiny_index(tmp_path_factory) -> Path:
    """A three-document index (Oldham report and plan, Tameside report) built once for the module."""
    root = tmp_path_factory.mktemp("app")
    build(write_corpus(root / "corpus"), root / "index")
    return root / "index"


@pytest.fixture
def app_env(monkeypatch, tiny_index):
    """Point the app at the tiny index, embedded with the hashing embedder."""
    monkeypatch.setenv("INDEXER_INDEX", str(tiny_index))
    monkeypatch.setenv("INDEXER_MODEL", HashingEmbedder.name)
    return tiny_index


def run(page: str | None = None, **params) -> AppTest:
    """The app run once (on `page`, e.g. 'ui/compare.py') with these URL query parameters."""
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        at.query_params[key] = value
    if page:  # opened directly, as from a shared link; the page file name is its URL path
        at.switch_page(page)
    at.run()
    assert not at.exception, [exception.value for exception in at.exception]
    return at


def html(at: AppTest) -> list[str]:
    """Bodies of the st.html blocks, without the style sheet."""
    return [element.value for element in at.get("html") if not element.value.startswith("<style>")]


def texts(at: AppTest) -> str:
    """Everything shown as Markdown (markdown, captions, alerts): where document text must never go unescaped."""
    parts = [element.value for kind in ("markdown", "caption", "info", "warning", "error", "success")
             for element in at.get(kind)]
    return "\n".join(parts)


def citations(at: AppTest) -> list[str]:
    return [re.sub(r"<[^>]+>", "", match).replace("&#x27;", "'")
            for body in html(at) for match in re.findall(r'<p class="cite">(.*?)</p>', body)]


# ---------------------------------------------------------------- Ask


def test_ask_landing_shows_examples_and_an_example_runs(app_env):
    at = run()
    labels = [button.label for button in at.button]
    assert "What was said about care leavers' pathway plans?" in labels
    assert "Searches **3 documents** (Oldham, Tameside)" in texts(at)
    next(button for button in at.button if button.label.startswith("What was said")).click().run()
    assert at.text_input(key="q").value == "What was said about care leavers' pathway plans?"
    assert at.query_params["q"] == "What was said about care leavers' pathway plans?"
    assert any(citation.startswith("[1] ") for citation in citations(at))


def test_ask_shows_answer_hits_citations_and_exports(app_env):
    at = run(q="pathway plans for care leavers")
    shown = citations(at)
    assert any(OLDHAM in citation for citation in shown) and any(TAMESIDE in citation for citation in shown)
    assert f"[1] {TAMESIDE}, para 30" in shown[0] or f"[1] {OLDHAM}, para 31" in shown[0]
    assert [button.label for button in at.get("download_button")] == ["Download CSV", "Download Markdown"]
    bodies = html(at)
    if any(body.startswith('<div class="answer">') for body in bodies):  # indexer.answers is present
        answer = next(body for body in bodies if body.startswith('<div class="answer">'))
        assert re.search(r'<a href="#hit-(\d+)"[^>]*>\[\1\]</a>', answer)
        assert any('id="hit-1"' in body for body in bodies)
    assert any("<mark>" in body for body in bodies if body.startswith('<div class="hit"'))
    assert [expander.label for expander in at.expander][:2] == ["Read in context", "More like this, from other documents"]


def test_ask_question_typed_in_the_box_goes_into_the_url(app_env):
    at = run()
    at.text_input(key="q").input("driving lessons")
    next(button for button in at.button if button.label == "Ask").click().run()
    assert at.query_params["q"] == "driving lessons"
    assert citations(at)[0] == f"[1] {TAMESIDE}, para 31"


class Parsed(HTMLParser):
    """The tags, attributes and text of an HTML body, as a browser would read them."""

    def __init__(self, body: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.text = ""
        self.feed(body)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text += data


def test_untrusted_document_text_is_shown_literally(app_env):
    at = run(q="untrusted budget script link bold")
    bodies = [Parsed(body) for body in html(at) if "Untrusted text" in body]
    assert bodies, "the hostile passage should be found"
    for parsed in bodies:
        assert {tag for tag, _ in parsed.tags} <= {"div", "p", "span", "mark", "q", "a", "br", "ol", "li"}
        assert all(re.fullmatch(r"#hit-\d+", attrs.get("href", "")) for tag, attrs in parsed.tags if tag == "a")
        assert all(set(attrs) <= {"class", "id", "href", "title"} for _, attrs in parsed.tags)
    assert any(HOSTILE in parsed.text.replace("\n", " ") for parsed in bodies)  # every character, literally
    shown = texts(at)
    assert "javascript" not in shown and "tracker.example" not in shown and "$5m" not in shown


def test_highlighting_escapes_before_marking():
    from ui.core import marked_html

    text = "A <b>bold</b> claim & more. Second $5m sentence."
    assert marked_html(text, [(2, 13), (28, 49)]) == (
        "A <mark>&lt;b&gt;bold&lt;/b&gt;</mark> claim &amp; more. <mark>Second $5m sentence.</mark>")
    assert marked_html("**x**", [(0, 99), (-5, 2)]) == "<mark>**x**</mark>"


def test_filters_come_from_the_url_and_restrict_results(app_env):
    at = run(q="pathway plans", authority="Tameside")
    assert at.multiselect(key="authority").value == ["Tameside"]
    assert citations(at) and all(TAMESIDE in citation for citation in citations(at))
    assert at.query_params["authority"] == "Tameside"


def test_grade_filter_keeps_documents_given_that_grade(app_env):
    at = run(q="pathway plans", grade="good")
    assert citations(at) and all(TAMESIDE in citation for citation in citations(at))
    at = run(q="pathway plans", grade="inadequate")
    assert not citations(at)
    assert "No passage matches these filters" in texts(at)


def test_type_and_year_filters(app_env):
    at = run(q="budget plan", type="improvement plan")
    assert citations(at) and all("Improvement Plan" in citation for citation in citations(at))
    at = run(q="pathway plans", **{"from": "2020"})
    assert citations(at) and all("Improvement Plan (2020)" in citation for citation in citations(at))
    at = run(q="pathway plans budget", to="2019")
    assert citations(at) and not any("Improvement Plan" in citation for citation in citations(at))


def test_invalid_url_values_are_ignored(app_env):
    at = run(q="pathway plans", authority="Nowhere", grade="superb", **{"from": "1066"})
    assert at.multiselect(key="authority").value == [] and at.selectbox(key="from").value == "Any"
    assert citations(at)


def test_read_in_context_and_more_like_this(app_env):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["q"] = "staff turnover social worker changes"
    at.session_state["ask-like-oldham-report/0002"] = True  # the "More like this" expander, opened
    at.run()
    assert not at.exception
    assert citations(at)[0] == f"[1] {OLDHAM}, para 21"
    context = next(body for body in html(at) if body.startswith('<div class="ctx'))
    assert "▶ This passage · </span>para 21" in context and "para 20" in context and "para 31" in context
    first_like, second_like = [e for e in at.expander if e.label == "More like this, from other documents"][:2]
    similar = [element.value for element in first_like.get("html")]
    assert similar and not any("Oldham inspection" in body for body in similar)  # other documents only
    assert not second_like.get("html")  # closed expanders compute nothing


# ---------------------------------------------------------------- Compare


def compare_table(at: AppTest) -> list[dict]:
    return at.dataframe[0].value.to_dict("records")


def test_compare_shows_a_row_per_authority_with_grade_tone_sentence_and_citation(app_env):
    at = run("ui/compare.py")
    assert "Type a theme" in texts(at)
    at.text_input(key="theme").input("pathway plans")
    next(button for button in at.button if button.label == "Compare").click().run()
    rows = {row["Authority"]: row for row in compare_table(at)}
    assert set(rows) == {"Oldham", "Tameside"}
    assert (rows["Oldham"]["Grade"], rows["Oldham"]["Judgement"], rows["Oldham"]["Region"]) == (
        "requires improvement", "care leavers", "North West")
    assert rows["Oldham"]["Citation"].startswith(f"{OLDHAM}, para 31")
    assert "pathway plans" in rows["Oldham"]["Best sentence"].lower()
    assert rows["Tameside"]["Grade"] == "good" and rows["Tameside"]["Citation"].startswith(TAMESIDE)
    assert all(row["Tone"] in ("strength", "weakness", "neutral") for row in rows.values())
    assert [button.label for button in at.get("download_button")] == [
        "Download the table (CSV)", "Download the table (Markdown, with citations)"]
    assert at.query_params["theme"] == "pathway plans"
    assert len(at.get("vega_lite_chart")) == 1  # the strengths and weaknesses chart


def test_compare_reads_a_researchers_question_and_filters_by_the_grades_it_names(app_env):
    at = run("ui/compare.py", theme="how are pathway plans described across authorities judged good?")
    assert "Theme read as **pathway plans**; grades named: good" in texts(at)
    assert [row["Authority"] for row in compare_table(at)] == ["Tameside"]
    at.multiselect(key="cg").set_value([]).run()
    assert {row["Authority"] for row in compare_table(at)} == {"Oldham", "Tameside"}


def test_compare_says_plainly_when_an_authority_has_nothing_relevant(app_env):
    at = run("ui/compare.py", theme="driving lessons")
    assert [row["Authority"] for row in compare_table(at)] == ["Tameside"]
    assert "Nothing relevant for 1 authorities: Oldham." in texts(at)


def test_compare_opens_an_authority_and_takes_the_similarity_bar_from_the_url(app_env):
    theme = "personal advisers help care leavers into jobs"  # close in meaning to Oldham para 32, not all its words
    at = run("ui/compare.py", theme=theme, open="Oldham")
    assert any(f"{OLDHAM}, para 32" in citation for citation in citations(at))
    at = run("ui/compare.py", theme=theme, min="0.95")
    assert at.slider(key="min").value == 0.95
    assert compare_table(at) == []
    assert at.query_params["min"] == "0.95" and at.query_params["theme"] == theme


def test_compare_my_authority_and_its_statistical_neighbours_in_one_click(app_env):
    at = run("ui/compare.py", theme="pathway plans")
    at.selectbox(key="mine").set_value("Oldham").run()
    next(button for button in at.button if button.label == "+ neighbours").click().run()
    assert at.selectbox(key="near").value == "Oldham"
    assert [row["Authority"] for row in compare_table(at)] == ["Oldham"]  # Tameside is not among Oldham's ten
    assert at.query_params["near"] == "Oldham"


# ---------------------------------------------------------------- Precedent


def test_precedent_groups_passages_by_judgement_area_with_grades(app_env):
    at = run("ui/precedent.py")
    at.text_area(key="draft").input("Pathway plans are not updated and are not good quality for care leavers.")
    next(button for button in at.button if button.label == "Find precedent").click().run()
    assert not at.exception
    headings = [header.value for header in at.subheader]
    assert headings[0].startswith("Care leavers (")
    bodies = html(at)
    assert any("Care leavers: requires improvement" in body for body in bodies)
    assert any("Care leavers: good" in body for body in bodies)
    assert [button.label for button in at.get("download_button")] == ["Download CSV", "Download Markdown"]


# ---------------------------------------------------------------- Documents


def test_documents_lists_documents_and_index_state(app_env):
    at = run("ui/documents.py")
    info = texts(at)
    assert re.search(r"Index built on \*\*\d+ \w{3} \d{4} at \d\d:\d\d \([+-]\d{4}\)\*\* with "
                     r"\*\*hashing-test-embedder\*\* \(384 dimensions\): 3 documents, 8 passages", info)
    assert "It is **up to date** with its corpus folders." in info
    table = at.dataframe[0].value
    assert sorted(table["Authority"]) == ["Oldham", "Oldham", "Tameside"]
    assert "overall effectiveness: good; care leavers: good" in list(table["Grades"])
    assert "Download the list (CSV)" in [button.label for button in at.get("download_button")]


def test_documents_reader_shows_paragraphs_and_marks_the_opened_passage(app_env):
    at = run("ui/documents.py", doc="oldham-report", at="oldham-report/0003")
    assert at.selectbox(key="doc").value == "oldham-report"
    reader = next(body for body in html(at) if body.startswith('<div class="doc-reader">'))
    assert reader.count('class="para') == 4
    assert '<p class="loc"><span class="this">▶ The passage you opened · </span>para 31</p>' in reader
    assert "<h4>The experiences and progress of care leavers</h4>" in reader


def test_documents_reader_escapes_document_text(app_env):
    at = run("ui/documents.py", doc="oldham-plan")
    reader = next(body for body in html(at) if body.startswith('<div class="doc-reader">'))
    assert "&lt;script&gt;" in reader and "<script" not in reader and "<img" not in reader


# ---------------------------------------------------------------- missing, stale and rebuilt indexes


def test_missing_index_shows_the_command_that_builds_it(monkeypatch, tmp_path):
    monkeypatch.setenv("INDEXER_INDEX", str(tmp_path / "nothing-here"))
    monkeypatch.setenv("INDEXER_MODEL", HashingEmbedder.name)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "There is no index yet in" in at.error[0].value
    assert at.code[0].value == f"python -m indexer build --index {tmp_path / 'nothing-here'}"


def test_index_built_with_another_model_shows_an_error_not_a_traceback(monkeypatch, tiny_index):
    monkeypatch.setenv("INDEXER_INDEX", str(tiny_index))
    monkeypatch.setenv("INDEXER_MODEL", "all-MiniLM-L6-v2")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert "index built with model hashing-test-embedder" in at.error[0].value
    assert at.code[0].value.startswith("python -m indexer build --index ")


def test_stale_index_warns_and_keeps_serving_then_a_rebuild_is_picked_up(monkeypatch, tmp_path):
    corpus, index = write_corpus(tmp_path / "corpus"), tmp_path / "index"
    build(corpus, index)
    monkeypatch.setenv("INDEXER_INDEX", str(index))
    monkeypatch.setenv("INDEXER_MODEL", HashingEmbedder.name)
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["q"] = "driving lessons"
    at.run()
    assert not at.warning and citations(at)[0] == f"[1] {TAMESIDE}, para 31"

    shutil.copy(corpus / "tameside-report.txt", corpus / "tameside-copy.txt")
    (corpus / "tameside-copy.txt").write_text(CORPUS["tameside-report.txt"].replace("driving", "sailing"))
    from ui import core
    core.staleness.clear()  # the app checks at most every 30 s
    at.run()
    assert "The index is out of date" in at.warning[0].value and "new file" in at.warning[0].value
    assert at.code[0].value == f"python -m indexer build --index {index} --corpus {corpus}"
    assert citations(at)[0] == f"[1] {TAMESIDE}, para 31"  # still serving the old build

    build(corpus, index)
    core.staleness.clear()
    at.run()
    assert not at.warning
    at.switch_page("ui/documents.py").run()
    assert "4 documents" in texts(at)


# ---------------------------------------------------------------- Authority


@pytest.fixture(scope="module")
def chain_index(tmp_path_factory) -> Path:
    """Two inspections of one authority, its plan and three visit letters (tests/test_following.py's), for the
    Authority page."""
    from .test_following import letter_corpus

    root = tmp_path_factory.mktemp("authority")
    build(letter_corpus(root / "corpus"), root / "index")
    return root / "index"


def test_the_authority_page_shows_each_recommendation_with_its_chain_and_the_briefing(monkeypatch, chain_index):
    monkeypatch.setenv("INDEXER_INDEX", str(chain_index))
    monkeypatch.setenv("INDEXER_MODEL", HashingEmbedder.name)
    at = run("ui/authority.py", name="Exampleton")
    labels = [expander.label for expander in at.expander]
    assert "1\\. The quality of pathway plans for care leavers in Exampleton. — improved" in labels
    assert "2\\. Management oversight of casework for children in need in Exampleton. — still weak" in labels
    shown = "\n".join(html(at))
    assert "Next inspection (Jun 2023" in shown and "Ofsted, Exampleton" in shown
    assert "read from: the linked passages&#x27; tone (no trained outcome model)" in shown  # a fake embedder: the rule
    assert "What Ofsted's visits said since" in shown
    assert "Pathway plans for care leavers in Exampleton are improving but their quality is not yet good." in shown
    assert "Ofsted, Focused visit to Exampleton children&#x27;s services (Mar 2021)" in shown
    assert "Nothing on this found in the letter since." in shown  # oversight: the letter says nothing of it
    assert "Ofsted's letters since: Mar 2021 focused visit letter" in texts(at)
    assert [button.label for button in at.get("download_button")] == [
        "Download the briefing (Markdown, with citations)", "Download the chains (CSV)"]
    charts = at.get("vega_lite_chart")
    assert len(charts) == 2  # the timeline, and the recommendations by what followed
    outcomes = next(chart for chart in charts if "At the next inspection" in chart.proto.spec)
    import pyarrow

    rows = pyarrow.ipc.open_stream(outcomes.proto.datasets[0].data.data).read_pandas()
    assert Counter(zip(rows["inspection"], rows["outcome"])) == {
        ("May 2019 (requires improvement)", "improved"): 1,
        ("May 2019 (requires improvement)", "still weak"): 1}  # the 2023 inspection has no next one
    assert at.query_params["name"] == "Exampleton"


def test_the_theme_view_lists_each_recommendation_on_it_with_its_chain_and_a_cited_export(monkeypatch, chain_index):
    monkeypatch.setenv("INDEXER_INDEX", str(chain_index))
    monkeypatch.setenv("INDEXER_MODEL", HashingEmbedder.name)
    at = run("ui/authority.py", rtheme="pathway plans for care leavers")
    assert "with a later inspection, from 1 authority (" in texts(at)
    labels = [expander.label for expander in at.expander]
    assert any(label.startswith("Exampleton (May 2019): The quality of pathway plans") and label.endswith("— improved")
               for label in labels), labels
    assert "Download these recommendations and what followed (CSV, with citations)" in [
        button.label for button in at.get("download_button")]
    assert at.dataframe[0].value.to_dict("records")[0]["Authority"] == "Exampleton"
