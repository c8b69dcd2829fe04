"""PDF articles, from their text layer (pypdf): one document per file.

Public functions:
    looks_like_pdf(head_bytes)  True when the first KiB holds the "%PDF-" header
    read_pdf(path)              [Document] for a PDF file

What is read:
  * title: the /Title metadata when it is meaningful (not empty, not a file name such as
    "Microsoft Word - draft.docx" or "paper_v3", not "untitled", not the PDF's own file
    name); else the first page's title: the first run of lines in the largest font on the
    page (when it is larger than the body text), else the first substantial line(s) that
    are not a journal header, DOI, date or author list; else the file name.
  * authors: the /Author metadata only, split on ";" or " and " / "," lists (see
    layout.split_authors); the page is never guessed from.
  * doi: a /doi metadata entry, else the first "doi:10..." / "DOI 10..." /
    "https://doi.org/10..." in the text, the references excluded (those are cited works').
  * sections: headings seen as lines of their own ("Abstract", "1. Introduction",
    "Materials and Methods", short ALL-CAPS lines such as "DISCUSSION") and run-in labels of
    structured abstracts ("Background: ...") label the text after them; the label is the
    heading without its number. Text before the first heading has label None. The title's
    own lines on the first page are not repeated as text.
  * references: the "References" (Bibliography, ...) section is never body text. Its
    entries become Document.references only when they are numbered 1, 2, 3 ... in order
    ("1." / "[1]" / "1)"); otherwise the references are left empty.
  * text: lines repeated at the top or bottom of most pages (running heads, footers) and
    bare page numbers are dropped; lines are unwrapped into paragraphs (a short line that
    ends a sentence ends its paragraph); words hyphenated across a line break are joined
    ("treat-" + "ment" -> "treatment", the document's own spelling deciding for compounds);
    ligatures (fi, fl) are spelled out.
  * date, journal, volume, pages: not read (a PDF's metadata dates are file dates).
  * doc_id = make_doc_id(None, doi, authors, None, title): a PMID is never invented.

Errors (all InputError naming the file, never a pypdf exception): not a PDF; truncated (no
%%EOF marker); damaged beyond reading; encrypted with a password; more than MAX_PAGES
pages; a page whose text cannot be extracted; no text layer on any page ("no text layer
(scanned PDF?); run OCR first"). pypdf's own log warnings are silenced while reading.
"""
from __future__ import annotations

import io
import logging
import math
import re
import warnings
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from qa.errors import InputError
from qa.models import Document, Section
from qa.readers.common import read_bytes
from qa.readers.ids import find_doi, make_doc_id
from qa.readers.layout import (
    KNOWN_HEADINGS,
    SectionBuilder,
    clean_line,
    heading_key,
    heading_label,
    join_lines,
    numbered_references,
    run_in_label,
    split_authors,
    title_from_filename,
    word_counts,
)

MAX_PAGES = 500
MAX_BYTES = 256 * 1024 * 1024
MIN_LETTERS = 20  # fewer letters than this in the whole text layer: treated as no text layer

NO_TEXT_LAYER = "no text layer (scanned PDF?); run OCR first"


def looks_like_pdf(head_bytes: bytes) -> bool:
    """The "%PDF-" header in the first KiB (some files carry a few junk bytes before it)."""
    return b"%PDF-" in head_bytes[:1024]


# --- metadata ------------------------------------------------------------------------

_FILE_SUFFIX = re.compile(
    r"\.(?:docx?|pdf|rtf|odt|tex|dvi|ps|eps|txt|html?|xml|indd|qxd|qxp|pages|wpd|fm|3b2|sgml?|"
    r"pptx?|xlsx?|jpe?g|png|tiff?)\s*$",
    re.IGNORECASE,
)
_APP_PREFIX = re.compile(r"^(?:microsoft\s+(?:word|powerpoint|excel)|ms\s*word|word)\s*-\s*", re.I)
_JUNK_TITLES = frozenset(
    """untitled|untitled document|title|no title|notitle|document|new document|blank|none|null|
    unknown|default|template|draft|manuscript|article|paper|print|printing|full text|fulltext|
    pdf|adobe acrobat|word document|powerpoint presentation|slide 1|doc|doc1|document1|
    microsoft word|untitled-1|main|main.tex|output|converted|scan|scanned document|
    """.replace("\n", "").split("|")
)
_JUNK_AUTHORS = frozenset(
    "administrator admin user owner author unknown anonymous default root guest pc".split()
)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _meta_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return clean_line(_CONTROL.sub(" ", str(value)))


def meaningful_title(value, path: str | None = None) -> str | None:
    """The /Title value when it names the work; None for empty, file-name-like or stock titles."""
    title = _meta_text(value)
    if not title or _APP_PREFIX.match(title) or _FILE_SUFFIX.search(title):
        return None
    lower = title.lower().strip(" .")
    if lower in _JUNK_TITLES or re.fullmatch(r"(?:untitled|document|doc|title|slide)[\s_-]*\d*", lower):
        return None
    if sum(ch.isalpha() for ch in title) < 3:
        return None
    if " " not in title and ("/" in title or "\\" in title or "_" in title or re.search(r"\d{3,}", title)):
        return None  # a path, a file name or a production id ("jrheum_2020_123", "S014067362")
    if path is not None and lower == Path(path).stem.lower():
        return None
    return title


def meaningful_authors(value) -> tuple[str, ...]:
    text = _meta_text(value)
    if not text or text.lower() in _JUNK_AUTHORS:
        return ()
    return split_authors(text)


# --- reading with pypdf --------------------------------------------------------------


@contextmanager
def _quiet_pypdf():
    logger = logging.getLogger("pypdf")
    level = logger.level
    logger.setLevel(logging.ERROR + 10)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)


def _describe(error: Exception) -> str:
    text = " ".join(str(error).split())
    text = text if len(text) <= 120 else text[:117] + "..."
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _open(data: bytes, path: str):
    try:
        import pypdf  # imported here: the other readers work without it
    except ImportError:
        raise InputError(path, "reading PDF files needs the pypdf package (pip install pypdf)") from None
    try:
        reader = pypdf.PdfReader(io.BytesIO(data), strict=False)
    except pypdf.errors.DependencyError as e:
        raise InputError(path, f"encrypted PDF; opening it needs a missing package ({_describe(e)})") from None
    except pypdf.errors.FileNotDecryptedError:
        raise InputError(path, "encrypted PDF that needs a password; decrypt it first (e.g. qpdf --decrypt)") from None
    if reader.is_encrypted:
        # pypdf has already tried the empty user password; try it once more to know the outcome.
        try:
            status = reader.decrypt("")
        except pypdf.errors.DependencyError as e:
            raise InputError(path, f"encrypted PDF; opening it needs a missing package ({_describe(e)})") from None
        if status == pypdf.PasswordType.NOT_DECRYPTED:
            raise InputError(path, "encrypted PDF that needs a password; decrypt it first (e.g. qpdf --decrypt)")
    return reader


def _metadata(reader) -> dict[str, str]:
    """/Title, /Author and /doi of the document information; {} if it is missing or damaged."""
    out: dict[str, str] = {}
    try:
        info = reader.metadata
        if not info:
            return out
        out["/Title"] = _meta_text(info.title)
        out["/Author"] = _meta_text(info.author)
        for key in ("/doi", "/DOI"):
            value = info.get(key)
            if value is not None:
                out["/doi"] = _meta_text(value.get_object() if hasattr(value, "get_object") else value)
    except Exception:
        pass  # a damaged /Info dictionary costs the metadata, not the text
    return out


def _page_texts(reader, path: str) -> list[str]:
    count = len(reader.pages)
    if count == 0:
        raise InputError(path, "PDF has no pages")
    if count > MAX_PAGES:
        raise InputError(path, f"PDF has {count} pages; at most {MAX_PAGES} are read (split it first)")
    texts = []
    for number, page in enumerate(reader.pages, 1):
        try:
            texts.append(page.extract_text() or "")
        except InputError:
            raise
        except Exception as e:  # pypdf raises many kinds on damaged content streams
            raise InputError(path, f"page {number}: text cannot be extracted ({_describe(e)})") from None
    return texts


def _first_page_lines_by_size(reader) -> list[tuple[str, float]]:
    """(line, font size in points) for the first page, in reading order; [] if unavailable."""
    pieces: list[tuple[str, float]] = []

    def visit(text, cm, tm, font_dict, font_size):
        if not text:
            return
        try:
            scale = math.sqrt(abs((tm[0] * tm[3] - tm[1] * tm[2]) * (cm[0] * cm[3] - cm[1] * cm[2])))
            size = float(font_size) * (scale or 1.0)
        except (TypeError, ValueError, IndexError):
            size = 0.0
        pieces.append((text, size))

    try:
        reader.pages[0].extract_text(visitor_text=visit)
    except Exception:
        return []
    lines: list[tuple[str, float]] = []
    text, sizes = "", Counter()
    for piece, size in pieces:
        parts = piece.split("\n")
        for i, part in enumerate(parts):
            if i > 0:
                if text.strip():
                    lines.append((clean_line(text), sizes.most_common(1)[0][0] if sizes else 0.0))
                text, sizes = "", Counter()
            if part:
                text += part
                if part.strip():
                    sizes[round(size, 1)] += len(part.strip())
    if text.strip():
        lines.append((clean_line(text), sizes.most_common(1)[0][0] if sizes else 0.0))
    return lines


# --- the title from the first page -----------------------------------------------------

_NOT_TITLE = re.compile(
    r"\bdoi\b|https?://|www\.|@|©|\(c\)|copyright|\bissn\b|\bjournal\b|\bvol\.|\bvolume\b|"
    r"\breceived\b|\baccepted\b|\bpublished\b|available online|downloaded|open access|"
    r"^(?:original|research|review|brief|short)\s+(?:article|report|communication|paper)s?$|"
    r"^(?:letter|editorial|commentary|case report|review|article)$",
    re.IGNORECASE,
)
_CONNECTORS = frozenset("a an and as at by for from in into of on or the to with without versus vs".split())
_INITIAL = re.compile(r"\b[A-Z]\.(?:\s|-|$)")


def _acceptable_title(text: str) -> bool:
    letters = sum(ch.isalpha() for ch in text)
    digits = sum(ch.isdigit() for ch in text)
    return (letters >= 10 and len(text.split()) >= 2 and len(text) <= 300 and digits <= letters * 0.2
            and not _NOT_TITLE.search(text) and heading_key(text) not in KNOWN_HEADINGS)


def _title_from_sizes(lines: list[tuple[str, float]]) -> str | None:
    """The first run of consecutive lines in the largest font that reads as a title."""
    lines = lines[:40]
    weights = Counter()
    for text, size in lines:
        weights[size] += len(text)
    if not weights:
        return None
    body = weights.most_common(1)[0][0]
    for size in sorted({s for _, s in lines if s >= body * 1.15 and s > 0}, reverse=True):
        run: list[str] = []
        for text, line_size in lines:
            if abs(line_size - size) < 0.25:
                run.append(text)
            elif run:
                break
        if len(run) <= 4:
            title = join_lines(run)
            if _acceptable_title(title):
                return title
    return None


def _looks_like_authors(line: str) -> bool:
    return ("," in line or " and " in line) and bool(_INITIAL.search(line) or re.search(r"[a-z]\d", line)
                                                      or line.count(",") >= 2)


def title_from_lines(lines: list[str]) -> str | None:
    """The first substantial line(s) of a page: skips journal headers, DOIs, dates, labels."""
    lines = [clean_line(x) for x in lines[:30]]
    for i, line in enumerate(lines):
        if not line:
            continue
        if heading_key(line) in KNOWN_HEADINGS:
            return None  # the abstract begins: no title above it
        if len(line) < 12 or not _acceptable_title(line) or _looks_like_authors(line):
            continue
        title = [line]
        for nxt in lines[i + 1 : i + 3]:
            current = " ".join(title)
            if (not nxt or current.endswith((".", "?", "!")) or heading_label(nxt) or _NOT_TITLE.search(nxt)
                    or _looks_like_authors(nxt) or len(current) + len(nxt) > 300):
                break
            last = current.split()[-1].lower()
            if (current.endswith((":", "-", ",")) or last in _CONNECTORS or nxt[:1].islower()
                    or (_title_cased(current) and _title_cased(nxt))):
                title.append(nxt)
            else:
                break
        return join_lines(title)
    return None


def _title_cased(text: str) -> bool:
    words = [w for w in re.findall(r"[^\W\d_][\w'-]*", text) if w.lower() not in _CONNECTORS]
    return bool(words) and sum(w[:1].isupper() for w in words) >= 0.75 * len(words)


# --- running heads, paragraphs, sections ---------------------------------------------------

_PAGE_NUMBER = re.compile(r"^(?:page\s+)?\d{1,4}(?:\s*(?:of|/)\s*\d{1,4})?$", re.IGNORECASE)
_EDGE = 3  # lines at the top and at the bottom of a page that may be running heads/feet
_SENTENCE_END = re.compile(r"[.?!:][\"'”’)\]]*$")


def _edge_key(line: str) -> str:
    return re.sub(r"\d+", "#", line.lower())


def drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Pages without their page numbers and the lines repeated at the top or bottom of most pages."""
    n = len(pages)
    counts: Counter = Counter()
    for lines in pages:
        counts.update({_edge_key(x) for x in lines[:_EDGE] + lines[-_EDGE:] if x})
    threshold = max(2, math.ceil(n / 2))
    out = []
    for lines in pages:
        kept = []
        for j, line in enumerate(lines):
            at_edge = j < _EDGE or j >= len(lines) - _EDGE
            if at_edge and line and (
                _PAGE_NUMBER.match(line)
                or (n >= 2 and counts[_edge_key(line)] >= threshold and heading_key(line) not in KNOWN_HEADINGS)
            ):
                continue
            kept.append(line)
        out.append(kept)
    return out


def _normal(text: str) -> str:
    return re.sub(r"[\W_]+", "", text.lower())


def drop_title_lines(lines: list[str], title: str | None) -> list[str]:
    """The first page's lines without the consecutive lines that spell the title."""
    target = _normal(title or "")
    if not target:
        return lines
    for i in range(min(len(lines), 30)):
        joined = ""
        for j in range(i, min(len(lines), i + 6)):
            joined += _normal(lines[j])
            if joined == target:
                return lines[:i] + lines[j + 1 :]
            if not target.startswith(joined):
                break
    return lines


def _sections(lines: list[str], words: Counter) -> tuple[tuple[Section, ...], list[str]]:
    lengths = sorted(len(x) for x in lines if len(x) >= 20)
    typical = lengths[int(len(lengths) * 0.9)] if lengths else 80
    builder = SectionBuilder()
    reference_lines: list[str] = []
    para: list[str] = []

    def flush():
        nonlocal para
        if para:
            builder.paragraph(join_lines(para, words))
        para = []

    for line in lines:
        if not line:
            flush()
            continue
        label = heading_label(line)
        if label and (not builder.in_references or heading_key(label) in KNOWN_HEADINGS):
            flush()
            builder.heading(label)
            continue
        if builder.in_references:
            reference_lines.append(line)
            continue
        if not para:
            labelled = run_in_label(line, known_only=True)
            if labelled:
                builder.heading(labelled[0])
                if builder.in_references:
                    reference_lines.append(labelled[1])
                    continue
                line = labelled[1]
        para.append(line)
        if _SENTENCE_END.search(line) and len(line) < 0.8 * typical:
            flush()
    flush()
    return builder.result(), reference_lines


# --- the reader ----------------------------------------------------------------------------


def _read_bytes(path: str) -> bytes:
    return read_bytes(path, MAX_BYTES, "PDF")


def read_pdf(path) -> list[Document]:
    """The PDF's text layer as one Document; InputError for anything that cannot be read."""
    path = str(path)
    data = _read_bytes(path)
    if not looks_like_pdf(data):
        raise InputError(path, "not a PDF (no %PDF- header)")
    if b"%%EOF" not in data:
        raise InputError(path, "truncated PDF (no %%EOF marker at the end); download or export it again")
    with _quiet_pypdf():
        try:
            reader = _open(data, path)
            texts = _page_texts(reader, path)
            info = _metadata(reader)
            title = meaningful_title(info.get("/Title"), path)
            size_lines = [] if title else _first_page_lines_by_size(reader)
        except InputError:
            raise
        except Exception as e:  # PdfReadError, PdfStreamError, KeyError, ValueError, ...
            raise InputError(path, f"damaged PDF; cannot be read ({_describe(e)})") from None
    return [_document(path, texts, info, title, size_lines)]


def _document(path: str, texts: list[str], info: dict, title: str | None,
              size_lines: list[tuple[str, float]]) -> Document:
    pages = [[clean_line(x) for x in t.split("\n")] for t in texts]
    letters = sum(ch.isalpha() for t in texts for ch in t)
    if letters < MIN_LETTERS:
        raise InputError(path, NO_TEXT_LAYER)
    pages = drop_running_lines(pages)
    if sum(ch.isalpha() for p in pages for x in p for ch in x) < MIN_LETTERS:
        raise InputError(path, NO_TEXT_LAYER)  # only running heads, page numbers, stamps
    if not title:
        title = _title_from_sizes(size_lines) or title_from_lines(pages[0])
    pages[0] = drop_title_lines(pages[0], title)
    lines = [x for page in pages for x in page]
    words = word_counts("\n".join(lines))
    sections, reference_lines = _sections(lines, words)
    authors = meaningful_authors(info.get("/Author"))
    doi = find_doi(info.get("/doi") or "", bare=True)
    if not doi:
        doi = find_doi("\n".join(s.text for s in sections))
    title = title or title_from_filename(path)
    return Document(
        doc_id=make_doc_id(None, doi, authors, None, title),
        title=title,
        authors=authors,
        doi=doi,
        sections=sections,
        references=numbered_references(reference_lines),
        source_path=path,
    )
