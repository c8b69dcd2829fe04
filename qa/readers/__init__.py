"""Readers: files of every supported format turned into Documents (qa.models).

qa.readers.corpus turns corpus paths into files and documents: corpus.detect_format picks the reader
from a file's content. Each reader reads one format and raises InputError naming the file
and line of the first problem.

Readers, one a format:
    pubmed_page   text of a PubMed article web page
    medline       MEDLINE / .nbib
    pubmed_xml    PubMed XML (efetch)
    ris           RIS (EndNote, Zotero, Mendeley, ...)
    bibtex        BibTeX
    beir          BEIR corpus.jsonl
    pdf           PDF text layer
    text          plain text; text.read_plain also picks Markdown rules by suffix
    markdown      Markdown
    records       qa's own JSON lines

What readers share:
    ids              DOI, PMID and PMC id rules; document ids
    common           reading and decoding files; structured-abstract label words
    citation_fields  names, dates, abstracts, keywords, retractions (RIS, BibTeX)
    layout           headings, labels, line joins, reference lists (text, Markdown, PDF)
    front_matter     YAML front matter and the Document of a text or Markdown file
"""
