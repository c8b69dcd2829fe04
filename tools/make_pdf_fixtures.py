"""Write the PDF test fixtures (tests/fixtures/pdf-*.pdf) from hand-made PDF syntax.

No network and no PDF library: each file is a minimal PDF 1.4 written here byte by byte,
so the output is the same on every run (no dates, no random /ID).

    python tools/make_pdf_fixtures.py            # writes into tests/fixtures/
    python tools/make_pdf_fixtures.py OUT_DIR

Files:
    pdf-article.pdf   2 pages of text in Helvetica: /Title and /Author metadata, a DOI line,
                      headings (Abstract, 1. Introduction, 2. Methods, 3. Results, DISCUSSION,
                      Conclusions, References), a word hyphenated across a line break, a
                      paragraph running over the page break, a footer repeated on each page.
    pdf-no-title.pdf  the same pages with no document information dictionary at all: the
                      title has to come from the first page.
    pdf-scanned.pdf   one page holding only an image, no text operators (a "scan").
    pdf-corrupt.pdf   pdf-article.pdf cut off part-way (a truncated download).

The article is invented for the tests ("TEST FIXTURE" in its text): not a real study.
"""
from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests" / "fixtures"

TITLE = "Methotrexate Dose Escalation and Remission in Early Rheumatoid Arthritis: An Invented Cohort"
AUTHORS = "Jane Q. Fixture; Ravi Testwell"
DOI = "10.5555/qa-fixture.2024.001"

# (style, text) per line; styles: title 16pt bold, head 12pt bold, body 10pt, small 8pt.
# "\xb1" is the plus-minus sign and "\xf6" o-umlaut in WinAnsiEncoding.
PAGE_1 = [
    ("small", "Journal of Test Fixtures 2024;1(1):1-2"),
    ("title", "Methotrexate Dose Escalation and Remission in Early"),
    ("title", "Rheumatoid Arthritis: An Invented Cohort"),
    ("body", "Jane Q. Fixture, Ravi Testwell"),
    ("small", f"doi:{DOI}"),
    ("gap", ""),
    ("head", "Abstract"),
    ("body", "TEST FIXTURE: this article was invented for the qa test suite; no patient, number or"),
    ("body", "result in it is real. We describe a made-up cohort of 120 adults with early rheumatoid"),
    ("body", "arthritis who started methotrexate at 15 mg weekly. Rapid escalation of the treat-"),
    ("body", "ment to 25 mg weekly within eight weeks went with more remissions at 24 weeks."),
    ("gap", ""),
    ("head", "1. Introduction"),
    ("body", "Methotrexate is the anchor drug of early rheumatoid arthritis, and guidelines advise"),
    ("body", "escalating to the target dose quickly. Practice still varies between clinics."),
    ("body", "Patients with Sj\xf6gren overlap were not excluded from this invented cohort, because"),
    ("body", "overlap is common in clinics and the question concerns everyday practice."),
    ("gap", ""),
    ("head", "2. Methods"),
    ("body", "Adults with arthritis for less than a year (mean age 54 \xb1 11 years) were followed in"),
    ("body", "three imaginary clinics. The fast arm reached 25 mg within eight weeks; the slow arm"),
    ("body", "within sixteen weeks. Both arms took oral methotrexate with 5 mg of"),
]
PAGE_2 = [
    ("body", "weekly folic acid. The primary outcome was DAS28-CRP remission at week 24."),
    ("gap", ""),
    ("head", "3. Results"),
    ("body", "Remission at week 24 was reached by 41 of 60 patients in the fast arm and by 27 of"),
    ("body", "60 in the slow arm. Nausea and raised liver enzymes were similar in the two arms."),
    ("gap", ""),
    ("head", "DISCUSSION"),
    ("body", "In this fictional cohort, faster escalation did not add toxicity. The numbers are made"),
    ("body", "up and must not be quoted as evidence about methotrexate."),
    ("gap", ""),
    ("head", "Conclusions"),
    ("body", "Rapid methotrexate escalation was associated with more remissions in an invented"),
    ("body", "cohort that exists only to test a PDF reader."),
    ("gap", ""),
    ("head", "References"),
    ("body", "1. Fixture JQ, Example B. A made-up trial of methotrexate escalation in arthritis."),
    ("body", "J Test Fixtures. 2023;1:1-9. doi:10.5555/qa-fixture.2023.009"),
    ("body", "2. Testwell R. Another invented paper about remission. Imaginary Rheumatol. 2022;2:10-9."),
]
FOOTER = "qa test fixture - invented data - page {n} of 2"

STYLES = {  # font resource, size, leading
    "title": ("F2", 16, 20),
    "head": ("F2", 12, 18),
    "body": ("F1", 10, 13),
    "small": ("F1", 8, 12),
    "gap": ("F1", 10, 8),
}


def _pdf_string(text: str) -> bytes:
    """A literal string in WinAnsi (Latin-1 for the characters used here), escaped."""
    raw = text.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def _content(lines: list[tuple[str, str]], page_number: int) -> bytes:
    out = [b"BT"]
    y = 760.0
    for style, text in lines:
        font, size, leading = STYLES[style]
        y -= leading
        if style == "gap":
            continue
        out.append(b"/%s %d Tf 1 0 0 1 72 %.1f Tm %s Tj" % (font.encode(), size, y, _pdf_string(text)))
    out.append(b"/F1 8 Tf 1 0 0 1 72 40 Tm %s Tj" % _pdf_string(FOOTER.format(n=page_number)))
    out.append(b"ET")
    return b"\n".join(out) + b"\n"


def _image_content() -> bytes:
    return b"q 400 0 0 520 106 160 cm /Im1 Do Q\n"


def build_pdf(objects: list[bytes], info: dict[str, str] | None) -> bytes:
    """objects[i] is object i+1 (object 1 must be the catalog); an /Info object is appended."""
    objects = list(objects)
    info_ref = b""
    if info:
        entries = b" ".join(b"/%s %s" % (k.encode(), _pdf_string(v)) for k, v in info.items())
        objects.append(b"<< " + entries + b" >>")
        info_ref = b" /Info %d 0 R" % len(objects)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R%s >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, info_ref, xref)
    return bytes(out)


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d%s >>\nstream\n" % (len(data), extra) + data + b"\nendstream"


def article(info: dict[str, str] | None) -> bytes:
    fonts = b"<< /F1 5 0 R /F2 6 0 R >>"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font %s >> "
        b"/Contents 7 0 R >>" % fonts,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font %s >> "
        b"/Contents 8 0 R >>" % fonts,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        _stream(_content(PAGE_1, 1)),
        _stream(_content(PAGE_2, 2)),
    ]
    return build_pdf(objects, info)


def scanned() -> bytes:
    # An 8x8 grey gradient stands in for the scanned page: an image, no fonts, no text.
    pixels = bytes((x * 16 + y * 8) % 256 for y in range(8) for x in range(8))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /XObject << /Im1 4 0 R >> >> /Contents 5 0 R >>",
        _stream(pixels, b" /Type /XObject /Subtype /Image /Width 8 /Height 8"
                        b" /ColorSpace /DeviceGray /BitsPerComponent 8"),
        _stream(_image_content()),
    ]
    return build_pdf(objects, {"Title": "Scanned fixture page", "Producer": "qa make_pdf_fixtures"})


def fixtures() -> dict[str, bytes]:
    full = article({"Title": TITLE, "Author": AUTHORS, "Producer": "qa make_pdf_fixtures"})
    return {
        "pdf-article.pdf": full,
        "pdf-no-title.pdf": article(None),
        "pdf-scanned.pdf": scanned(),
        # Cut inside the second page's content stream: the xref table and %%EOF are lost.
        "pdf-corrupt.pdf": full[: full.index(b"weekly folic acid")],
    }


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else OUT
    out.mkdir(parents=True, exist_ok=True)
    for name, data in fixtures().items():
        (out / name).write_bytes(data)
        print(f"wrote {out / name} ({len(data)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
