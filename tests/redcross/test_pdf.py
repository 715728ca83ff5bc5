"""PDF kernel: embedded CJK font, text extraction, local-only resource fetching."""

from __future__ import annotations

import base64
import io
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from fontTools.ttLib import TTFont
from PIL import Image
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from redcross.pdf import FONT_DIR, QR_MODULE_PX, BlockedResource, LocalOnlyURLFetcher, qr_code_data_uri, render_pdf

NAMES = ["王喆", "李堃", "陈镕", "张昇", "赵珺", "孙赟"]
TEXT = "青川市红十字会 捐赠人：王喆、李堃、陈镕、张昇、赵珺、孙赟 金额：壹万贰仟叁佰肆拾伍元陆角柒分"
CONTEXT = {"branch_name": "青川市红十字会", "title": "字体检查 Font check", "paragraph": TEXT}


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
                assert ps_name in ("NotoSansSC-GBK-Regular", "NotoSansSC-GBK-Bold"), ps_name
                embedded += 1
    assert embedded >= 2  # body text (Regular) and the <h1>/<strong> (Bold)


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
