"""Journal names in full meet the ISO 4 abbreviations that citations print (qa/text/journals.py)."""
from __future__ import annotations

import re

import pytest

from qa.readers.medline import read_medline
from qa.readers.pubmed_xml import read_pubmed_xml
from qa.text.analyze import fold
from qa.text.journals import abbreviate, abbreviate_title

from conftest import FIXTURES, write_input


def test_title_words_take_their_listed_abbreviation_prefixes_and_plurals_included():
    assert abbreviate("Journal") == "j"
    assert abbreviate("rheumatology") == abbreviate("rheumatologic") == "rheumatol"  # "rheumatolog-"
    assert abbreviate("Reports") == abbreviate("report") == "rep"
    assert abbreviate("Lancet") == "lancet"  # listed as not abbreviated
    assert abbreviate("Mayo") == "mayo"  # not listed


@pytest.mark.parametrize("name", ["medline-sample2.txt", "medline-sample3.txt", "pubmed-xml-2.xml",
                                  "pubmed-xml-4.xml"])
def test_full_titles_of_real_records_abbreviate_to_the_abbreviation_the_record_gives(name):
    read = read_medline if name.startswith("medline") else read_pubmed_xml
    pairs = {(d.journal, d.journal_full) for d in read(FIXTURES / name) if d.journal and d.journal_full}
    assert pairs
    for abbreviation, full in pairs:
        if abbreviation == "BMC Bioinformatics":  # NLM keeps this word whole where ISO 4 abbreviates it
            continue
        title = re.sub(r"\s*[(:].*$", "", full)  # "(Oxford, England)", ": practical reports ..."
        assert abbreviate_title(title) == fold(abbreviation), (abbreviation, full)


@pytest.mark.parametrize("question, reference", [
    ("the paper it cites from the Journal of Rheumatology", "J Rheumatol. 2005"),
    ("the reference in Clinical Immunology", "Clin Immunol. 1999"),
    ("which reference is from the Mayo Clinic Proceedings?", "Mayo Clin Proc. 1968"),
    ("the Lancet reference", "Lancet. 2003"),
])
def test_a_journal_named_in_full_finds_the_reference_that_abbreviates_it(cli, question, reference):
    result = cli("ask", question, "--json").json()
    assert reference in result["hits"][0]["text"]


def test_the_abbreviation_used_is_listed_as_an_expansion(cli):
    result = cli("ask", "the paper it cites from the Journal of Rheumatology", "--json").json()
    assert {"term": "Journal of Rheumatology", "expansion": "J Rheumatol"} in result["expansions"]


def test_the_journal_filter_takes_a_full_title_for_a_record_that_only_abbreviates_it(cli, tmp_path):
    ris = write_input(tmp_path, "".join(
        f"TY  - JOUR\nTI  - {title}\nJO  - {journal}\nPY  - 2005\n"
        f"AB  - Rituximab was given to patients with refractory myositis.\nER  - \n\n"
        for title, journal in (("Rituximab in myositis", "J Rheumatol"), ("Myositis and rituximab", "Arthritis Rheum"))),
        "two.ris")
    hits = cli("ask", "rituximab myositis", "--json", "--corpus", str(ris),
               "--journal", "Journal of Rheumatology").json()["hits"]
    assert hits and {h["source"]["journal"] for h in hits} == {"J Rheumatol"}
    other = cli("ask", "rituximab myositis", "--json", "--corpus", str(ris),
                "--journal", "Arthritis and Rheumatism").json()["hits"]
    assert other and {h["source"]["journal"] for h in other} == {"Arthritis Rheum"}
