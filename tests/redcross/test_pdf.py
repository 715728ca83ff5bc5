"""PDF kernel: embedded CJK font, text extraction, local-only resource fetching."""

from __future__ import annotations

import base64
import io
import re
import shutil
import socket
import subprocess
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from fontTools.ttLib import TTFont
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from redcross.pdf import (
    FONT_DIR,
    FONT_PARTS,
    FONT_WEIGHTS,
    QR_MODULE_PX,
    BlockedResource,
    LocalOnlyURLFetcher,
    _render_setup,
    _template_stylesheets,
    font_file,
    qr_code_data_uri,
    render_pdf,
)

NAMES = ["王喆", "李堃", "陈镕", "张昇", "赵珺", "孙赟"]
TEXT = "青川市红十字会 捐赠人：王喆、李堃、陈镕、张昇、赵珺、孙赟 金额：壹万贰仟叁佰肆拾伍元陆角柒分"
CONTEXT = {"branch_name": "青川市红十字会", "title": "字体检查 Font check", "paragraph": TEXT}
# Only GB2312 characters, Latin and punctuation: the common font part has them all.
COMMON_TEXT = "青川市红十字会 捐赠人：张伟、刘芳 金额：壹万贰仟叁佰肆拾伍元陆角柒分（¥12,345.67）"
# PostScript names of the shipped parts: NotoSansSC-GBK-Regular, NotoSansSC-GBKRare3-Bold...
PS_NAME = re.compile(r"NotoSansSC-GBK(Rare[1-9])?-(Regular|Bold)")


@pytest.fixture(scope="module")
def pdf_bytes() -> bytes:
    return render_pdf("pdf/font_check.html", CONTEXT)


def test_chinese_text_is_extractable(pdf_bytes: bytes, tmp_path: Path) -> None:
    assert pdf_bytes.startswith(b"%PDF-")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages)
    compact = "".join(text.split())  # extractors may insert spaces/newlines
    for name in NAMES:
        assert name in compact, f"{name} missing from pypdf text: {text!r}"
    assert "壹万贰仟叁佰肆拾伍元陆角柒分" in compact
    assert "第1页/共1页" in compact

    if shutil.which("pdftotext"):
        path = tmp_path / "font_check.pdf"
        path.write_bytes(pdf_bytes)
        result = subprocess.run(
            ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True, timeout=60
        )
        poppler = "".join(result.stdout.decode("utf-8").split())
        for name in NAMES:
            assert name in poppler, f"{name} missing from pdftotext output"


def _fonts(resources: DictionaryObject, seen: set[int]) -> list[DictionaryObject]:
    """All font dictionaries reachable from a resource dictionary (incl. form XObjects)."""
    found = [font.get_object() for font in resources.get("/Font", DictionaryObject()).get_object().values()]
    for xobject in resources.get("/XObject", DictionaryObject()).get_object().values():
        xobject = xobject.get_object()
        if id(xobject) in seen or "/Resources" not in xobject:
            continue
        seen.add(id(xobject))
        found += _fonts(xobject["/Resources"].get_object(), seen)
    return found


def test_only_the_shipped_font_is_embedded(pdf_bytes: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf_bytes))
    fonts: list[DictionaryObject] = []
    for page in reader.pages:
        fonts += _fonts(page["/Resources"].get_object(), set())
    assert fonts, "no fonts found in the PDF"

    embedded = 0
    for font in fonts:
        base = str(font["/BaseFont"]).lstrip("/").split("+")[-1]  # drop subset tag ABCDEF+
        assert base.replace("-", " ").startswith("Noto Sans SC GBK"), base
        for descendant in font.get("/DescendantFonts", [font]):
            descendant = descendant.get_object()
            descriptor = descendant["/FontDescriptor"].get_object()
            for key in ("/FontFile", "/FontFile2", "/FontFile3"):
                if key not in descriptor:
                    continue
                data = descriptor[key].get_object().get_data()
                # The name inside the embedded file proves it is our file, not a
                # system font that merely matched the family name.
                ps_name = TTFont(io.BytesIO(data))["name"].getDebugName(6)
                assert PS_NAME.fullmatch(ps_name), ps_name
                embedded += 1
    assert embedded >= 2  # body text (Regular) and the <h1>/<strong> (Bold)


def _embedded_fonts(pdf: bytes) -> dict[str, tuple[TTFont, dict[int, str]]]:
    """The embedded fonts of a PDF by PostScript name: the font file and its
    ToUnicode map (glyph ID -> text) as WeasyPrint writes it (bfchar entries)."""
    reader = PdfReader(io.BytesIO(pdf))
    fonts: list[DictionaryObject] = []
    for page in reader.pages:
        fonts += _fonts(page["/Resources"].get_object(), set())
    found: dict[str, tuple[TTFont, dict[int, str]]] = {}
    for font in fonts:
        descendant = font["/DescendantFonts"][0].get_object()
        data = descendant["/FontDescriptor"].get_object()["/FontFile3"].get_object().get_data()
        embedded = TTFont(io.BytesIO(data))
        cmap_text = font["/ToUnicode"].get_object().get_data().decode("ascii")
        to_unicode = {
            int(glyph, 16): bytes.fromhex(text).decode("utf-16-be")
            for glyph, text in re.findall(r"<([0-9a-f]{4})> <([0-9a-f]+)>", cmap_text)
        }
        found[embedded["name"].getDebugName(6)] = (embedded, to_unicode)
    return found


def test_common_text_embeds_only_the_common_font_part() -> None:
    pdf = render_pdf("pdf/font_check.html", {**CONTEXT, "paragraph": COMMON_TEXT})
    assert sorted(_embedded_fonts(pdf)) == ["NotoSansSC-GBK-Bold", "NotoSansSC-GBK-Regular"]
    text = "".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "".join(COMMON_TEXT.split()) in text


def test_rare_characters_are_drawn_from_their_own_part(pdf_bytes: bytes) -> None:
    """Every glyph drawn is the glyph of its character in the part it comes
    from. This is what breaks if two parts share one family (one @font-face
    family with unicode-range per part): WeasyPrint then embeds one font for
    both and draws the rare part's glyph IDs from the common part (王喆 shows
    as 王券), while the text still extracts fine."""
    fonts = _embedded_fonts(pdf_bytes)
    rare_parts = {name for name in fonts if "Rare" in name}
    assert rare_parts, sorted(fonts)  # 喆 堃 镕 昇 珺 赟 are outside GB2312
    drawn: dict[str, set[str]] = {}
    for ps_name, (_embedded, to_unicode) in fonts.items():
        part, weight = PS_NAME.fullmatch(ps_name).groups()
        shipped = TTFont(font_file(part or "", {"Regular": 400, "Bold": 700}[weight]))
        cmap = shipped.getBestCmap()
        for glyph_id, text in to_unicode.items():
            if glyph_id == 0:  # WeasyPrint maps .notdef to U+FFFF in every font
                continue
            assert len(text) == 1 and ord(text) in cmap, (ps_name, glyph_id, text)  # no ligatures
            assert shipped.getGlyphID(cmap[ord(text)]) == glyph_id, (ps_name, glyph_id, text)
            drawn.setdefault(text, set()).add(ps_name)
    for common, rare in NAMES:  # the paragraph is shown in Regular and, in <strong>, in Bold
        assert drawn[common] == {"NotoSansSC-GBK-Regular", "NotoSansSC-GBK-Bold"}, (common, drawn[common])
        assert len(drawn[rare]) == 2 and all(PS_NAME.fullmatch(name)[1] for name in drawn[rare]), (rare, drawn[rare])
    # No .notdef box is drawn: e.g. the space after 赟 ("孙赟 金额") is shaped
    # with 赟's rare part (Pango never switches fonts for a space), which must have one.
    for page in PdfReader(io.BytesIO(pdf_bytes)).pages:
        content = page.get_contents().get_data().decode("latin-1")
        shown = "".join(re.findall(r"<([0-9a-f]+)>", content))
        assert "0000" not in re.findall("....", shown)


def test_font_parts_on_disk_match_the_stylesheet() -> None:
    """Every part pdf.py declares is shipped for both weights, no other font
    file lingers, the parts share no character (spaces aside: every part has
    them, see scripts/subset_font.py SPACES) and no part has vertical metrics."""
    expected = {font_file(part, weight) for part in FONT_PARTS for weight in FONT_WEIGHTS}
    assert set(FONT_DIR.glob("*.otf")) == expected
    for weight in FONT_WEIGHTS:
        owner: dict[int, str] = {}
        for part in FONT_PARTS:
            font = TTFont(font_file(part, weight))
            assert PS_NAME.fullmatch(font["name"].getDebugName(6))
            assert not {"vmtx", "vhea", "VORG"} & set(font.keys())
            for cp in font.getBestCmap():
                if chr(cp).isspace():
                    continue
                assert cp not in owner, (chr(cp), owner.get(cp), part)
                owner[cp] = part
        for char in "喆堃镕昇珺赟":
            assert owner[ord(char)].startswith("Rare"), char
        for char in "青川市红十字会壹万贰仟¥,.0123456789":
            assert owner[ord(char)] == "", char


def test_template_styles_are_parsed_once_per_thread() -> None:
    setup = _render_setup()
    html = (
        "<html><head><style>p { color: red }</style></head><body><p>x</p><style>b { color: blue }</style></body></html>"
    )
    stripped, sheets = _template_stylesheets(html, setup)
    assert "<style>" not in stripped and len(sheets) == 2
    assert _template_stylesheets(html, setup)[1] == sheets  # the same parsed objects, in document order
    # a <style> with attributes, or with an at-rule that needs the document, stays where it is
    kept = (
        '<style media="print">p { color: red }</style><style>@counter-style x { system: cyclic; symbols: "*"; }</style>'
    )
    assert _template_stylesheets(kept, setup) == (kept, [])


def test_template_page_rules_still_apply(pdf_bytes: bytes) -> None:
    # base.html's @page (A4, page-number footer) comes from a <style> taken out of the document
    page = PdfReader(io.BytesIO(pdf_bytes)).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    assert "第1页/共1页" in "".join(page.extract_text().split())


def _receipt_like(payer: str) -> dict[str, object]:
    """A context for pdf/receipt.html without the database (the template only reads attributes)."""
    receipt = SimpleNamespace(
        invoice_code="BRCT2026",
        number_display="00012345",
        check_code="9F3A61C2",
        issued_at=datetime(2026, 3, 1, 10, 0, tzinfo=UTC),
        payer_name=payer,
        payer_credit_code="",
        lines=[
            {
                "item_code": "1030100",
                "item_name": "货币性捐赠（抗洪救灾专项募捐）",
                "unit": "",
                "quantity": "",
                "standard": "",
                "amount": "12,345.67",
            }
        ],
        total_amount=Decimal("12345.67"),
        total_in_words="壹万贰仟叁佰肆拾伍元陆角柒分",
        remark="D2026-000123",
        payee="青川市红十字会",
        reviewer_name="周明远",
        issuer_name="林晓雨",
    )
    url = "https://redcross.example.org/donations/receipts/verify/BRCT2026/00012345/9F3A61C2/"
    return {"receipt": receipt, "total_display": "12,345.67", "qr": qr_code_data_uri(url), "verify_url": url}


@pytest.mark.skipif(
    not (shutil.which("pdftoppm") and shutil.which("zbarimg")), reason="needs poppler-utils and zbar-tools"
)
def test_receipt_qr_code_decodes(tmp_path: Path) -> None:
    # the QR code (fixed mask, QR_MASK_PATTERN) as printed on a receipt (24 mm),
    # rasterised like a scan or a print
    context = _receipt_like("澜州镕喆科技有限公司")
    (tmp_path / "receipt.pdf").write_bytes(render_pdf("pdf/receipt.html", context))
    for dpi in (150, 300):
        image = tmp_path / f"receipt{dpi}"
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(tmp_path / "receipt.pdf"), str(image)],
            check=True,
            timeout=60,
        )
        result = subprocess.run(["zbarimg", "-q", "--raw", f"{image}.png"], capture_output=True, timeout=60)
        assert result.stdout.decode().strip() == context["verify_url"], (dpi, result.stdout, result.stderr)


def test_receipt_embeds_the_common_part_and_the_rare_parts_its_name_needs() -> None:
    common = _embedded_fonts(render_pdf("pdf/receipt.html", _receipt_like("青川市爱心商贸有限公司")))
    assert sorted(common) == ["NotoSansSC-GBK-Bold", "NotoSansSC-GBK-Regular"]
    rare = _embedded_fonts(render_pdf("pdf/receipt.html", _receipt_like("澜州镕喆科技有限公司")))
    assert sorted(rare) == [  # 镕 and 喆 (Regular), in two of the rare parts
        "NotoSansSC-GBK-Bold",
        "NotoSansSC-GBK-Regular",
        "NotoSansSC-GBKRare1-Regular",
        "NotoSansSC-GBKRare7-Regular",
    ]
    # the bold headings and total use only low glyph IDs (scripts/subset_font.py DOCUMENT_CHARS)
    _bold, to_unicode = rare["NotoSansSC-GBK-Bold"]
    assert max(to_unicode) < 1000, max(to_unicode)


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/x.png",
        "https://example.com/x.png",
        "ftp://example.com/x.png",
        "file:///etc/passwd",
        "file://example.com/x.png",
        f"{FONT_DIR.as_uri()}/../../pyproject.toml",
    ],
)
def test_fetcher_refuses_network_and_foreign_files(url: str) -> None:
    with pytest.raises(BlockedResource):
        LocalOnlyURLFetcher().fetch(url)


def test_fetcher_allows_fonts_and_data_uris() -> None:
    font = LocalOnlyURLFetcher().fetch((FONT_DIR / "NotoSansSC-GBK-Regular.otf").as_uri())
    assert font.read(4) == b"OTTO"
    data = LocalOnlyURLFetcher().fetch("data:text/plain;base64,aGk=")
    assert data.read() == b"hi"


def test_fetcher_maps_static_urls_to_local_files() -> None:
    # {% static %} gives "/static/..."; against our file:// base URL that becomes
    # file:///static/..., which the fetcher maps to the staticfiles folders.
    static_dir = Path(settings.STATICFILES_DIRS[0])
    sample = next((p for p in sorted(static_dir.rglob("*")) if p.is_file()), None)
    if sample is None:
        pytest.skip("no static files yet")
    relative = sample.relative_to(static_dir).as_posix()
    response = LocalOnlyURLFetcher().fetch(f"file://{settings.STATIC_URL}{relative}")
    assert response.read() == sample.read_bytes()


def test_render_never_opens_a_socket(monkeypatch: pytest.MonkeyPatch) -> None:
    # WeasyPrint swallows fetch errors (missing image = warning), so record
    # connection attempts instead of relying on an exception reaching us.
    attempts: list[object] = []

    def no_network(*args: object, **kwargs: object) -> None:
        attempts.append(args)
        raise OSError("network disabled in tests")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket, "getaddrinfo", no_network)
    pdf = render_pdf("pdf/font_check.html", {**CONTEXT, "qr": "http://example.com/x.png"})
    assert pdf.startswith(b"%PDF-")
    assert attempts == []


def test_qr_code_data_uri_is_a_small_grayscale_png() -> None:
    uri = qr_code_data_uri("https://example.org/donations/2024-000123")
    prefix = "data:image/png;base64,"
    assert uri.startswith(prefix)
    png = base64.b64decode(uri.removeprefix(prefix), validate=True)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    # 8-bit gray: WeasyPrint embeds it as one channel (1-bit/palette would become RGB)
    assert image.mode == "L"
    assert image.width == image.height > 0
    assert image.width % QR_MODULE_PX == 0
    assert image.getextrema() == (0, 255)
    assert sum(image.histogram()[1:255]) == 0  # black and white only
    assert image.getpixel((4 * QR_MODULE_PX, 4 * QR_MODULE_PX)) == 0  # finder pattern after the quiet zone


def test_embedded_fonts_are_small_and_cid_equals_gid(pdf_bytes: bytes) -> None:
    """The page content refers to glyphs by ID; a viewer that maps CIDs through
    the CFF charset (MuPDF) shows nothing unless every CID is its glyph ID.
    Common characters sit at low glyph IDs, so the subsets stay small."""
    reader = PdfReader(io.BytesIO(pdf_bytes))
    fonts: list[DictionaryObject] = []
    for page in reader.pages:
        fonts += _fonts(page["/Resources"].get_object(), set())
    for font in fonts:
        for descendant in font.get("/DescendantFonts", []):
            data = descendant.get_object()["/FontDescriptor"].get_object()["/FontFile3"].get_object().get_data()
            order = TTFont(io.BytesIO(data)).getGlyphOrder()
            assert order[1:] == [f"cid{gid:05d}" for gid in range(1, len(order))]
    # font_check.html uses rare GBK characters (喆 堃 ...), the worst case for the subset size
    assert len(pdf_bytes) < 150_000, len(pdf_bytes)
