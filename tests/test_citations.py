"""Citations as `qa cite` prints them: names with their particles, BibTeX keys, pages and keywords."""
from __future__ import annotations

import re

import pytest

from conftest import FIXTURES, SEED_DOI

MEDLINE = FIXTURES / "medline-sample2.txt"  # real MEDLINE records (Biopython's test files)
XML = FIXTURES / "pubmed-xml-2.xml"  # real PubMed XML
DE_HOON = "14871861"  # FAU - de Hoon, M J L
DE_LUCA = "11700088"  # <LastName>De Luca</LastName><ForeName>F</ForeName>


def cite(cli, *args: str) -> str:
    r = cli("cite", *args)
    assert r.code == 0, r.err
    return r.out


def bibtex_authors(entry: str) -> str:
    return re.search(r"^  author = \{(.*)\},?$", entry, re.M).group(1)


def test_a_lower_case_particle_stays_with_the_surname_medline(cli):
    assert cite(cli, DE_HOON, "--corpus", str(MEDLINE)).startswith(
        "de Hoon MJ, Imoto S, Nolan J, Miyano S. Open source clustering software.")
    assert bibtex_authors(cite(cli, DE_HOON, "--corpus", str(MEDLINE), "--format", "bibtex")) == \
        "{de Hoon}, M. J. L. and Imoto, S. and Nolan, J. and Miyano, S."
    ris = cite(cli, DE_HOON, "--corpus", str(MEDLINE), "--format", "ris").splitlines()
    assert [line for line in ris if line.startswith("AU  - ")][0] == "AU  - de Hoon, M J L"


def test_a_capitalised_particle_the_source_gives_apart_stays_too_pubmed_xml(cli):
    vancouver = cite(cli, DE_LUCA, "--corpus", str(XML))
    assert vancouver.startswith("Casieri C, Testa C, Carpinelli G, Canese R, Podo F, De Luca F. Proton MRI")
    assert bibtex_authors(cite(cli, DE_LUCA, "--corpus", str(XML), "--format", "bibtex")).endswith(
        " and {De Luca}, F.")


@pytest.mark.parametrize("fixture", ["ris-pubmed-2.ris", "bibtex-zotero-scholar.bib"])
def test_an_irish_surname_keeps_its_particle(cli, fixture):
    out = cite(cli, "99999911", "--corpus", str(FIXTURES / fixture))
    assert out.startswith("Lindqvist AK, Bellini M, Ó Briain S. Intravenous immunoglobulin")


def test_names_as_a_page_prints_them_split_before_their_particles(cli, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"_id": "d1", "title": "A study", "text": "Text of it.", "metadata": {"authors": '
                      '["M J L de Hoon", "Seán Ó Briain", "Jan van der Berg", "John Smith Jr", "S.R. Ytterberg"], '
                      '"year": "2004"}}\n',
                      encoding="utf-8")
    assert cite(cli, "d1", "--corpus", str(corpus)).startswith(
        "de Hoon MJ, Ó Briain S, van der Berg J, Smith J Jr, Ytterberg SR. A study.")


def test_vancouver_gives_at_most_two_initials(cli, tmp_path):
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text('{"_id": "d1", "title": "T", "text": "Text.", "metadata": {"authors": ["Mary Jane Louise Watson"]}}\n',
                      encoding="utf-8")
    assert cite(cli, "d1", "--corpus", str(corpus)).startswith("Watson MJ. T.")


def test_a_bibtex_entry_keeps_its_own_key(cli):
    out = cite(cli, "99999911", "--corpus", str(FIXTURES / "bibtex-zotero-scholar.bib"),
               "--format", "bibtex")
    assert out.startswith("@article{lindqvist_intravenous_2012,\n")


def test_bibtex_pages_take_a_double_dash(cli):
    assert "  pages = {167--73}," in cite(cli, SEED_DOI, "--format", "bibtex").splitlines()


def test_mesh_major_topic_marks_stay_out_of_keywords(cli):
    bib = cite(cli, DE_HOON, "--corpus", str(MEDLINE), "--format", "bibtex")
    keywords = re.search(r"^  keywords = \{(.*)\}$", bib, re.M).group(1)
    assert "*" not in keywords
    assert "Sequence Alignment/methods" in keywords.split("; ")  # MH  - Sequence Alignment/*methods
    ris = cite(cli, DE_HOON, "--corpus", str(MEDLINE), "--format", "ris").splitlines()
    assert "KW  - Algorithms" in ris and not any("*" in line for line in ris if line.startswith("KW"))
