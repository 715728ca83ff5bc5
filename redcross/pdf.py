"""PDF rendering kernel: Django template -> HTML -> WeasyPrint PDF.

Chinese text is always set in the font shipped in redcross/fonts/ ("Noto Sans
SC GBK"), so a PDF looks the same on a server with no CJK fonts installed.
Resources are read from local files only: a PDF never touches the network.

The font comes in parts (see redcross/fonts/README.md): a common part with
GB2312, Latin and punctuation, and small parts with the rare GBK characters,
each a family of its own in the font-family list, so a document embeds (and
WeasyPrint subsets, per document) only the parts its text uses.
"""

from __future__ import annotations

import base64
import io
import mimetypes
import os
import re
import threading
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

import qrcode
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from PIL import Image
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

BASE_DIR = Path(__file__).resolve().parent.parent
FONT_DIR = Path(__file__).resolve().parent / "fonts"
FONT_FAMILY = "Noto Sans SC GBK"
FONT_WEIGHTS = {400: "Regular", 700: "Bold"}
# The parts of the shipped font, in fallback order; "" is the common part
# (scripts/subset_font.py split_repertoire, RARE_PARTS there).
FONT_PARTS = ("", *(f"Rare{n}" for n in range(1, 9)))


def font_family(part: str) -> str:
    """CSS family of a font part: "Noto Sans SC GBK", "Noto Sans SC GBK Rare1"..."""
    return f"{FONT_FAMILY} {part}" if part else FONT_FAMILY


def font_file(part: str, weight: int) -> Path:
    """File of a font part and weight, named by its PostScript name:
    NotoSansSC-GBK-Regular.otf, NotoSansSC-GBKRare1-Bold.otf..."""
    return FONT_DIR / f"NotoSansSC-GBK{part}-{FONT_WEIGHTS[weight]}.otf"


# What a template that sets its own font-family should put in front of
# generic fallbacks, so Chinese (rare characters included) keeps our font.
FONT_FAMILY_CSS = ", ".join(f'"{font_family(part)}"' for part in FONT_PARTS)


class BlockedResource(ValueError):
    """A PDF asked for a resource outside the allowed local folders."""


@cache
def font_css() -> str:
    """@font-face rules for the shipped font; built once per process.

    One family per part, not one family with a unicode-range per part:
    WeasyPrint keys the fonts of a PDF by family, weight and style, so two
    files of one family would share one embedded font, and the glyph IDs of
    one would be drawn from the other (wrong characters, though the text
    still extracts). Pango takes each character from the first family in the
    list that has it, so only the parts a document uses are embedded.
    """
    faces = "".join(
        f'@font-face {{ font-family: "{font_family(part)}"; font-weight: {weight};'
        f' font-style: normal; src: url("{font_file(part, weight).as_uri()}") format("opentype"); }}\n'
        for part in FONT_PARTS
        for weight in FONT_WEIGHTS
    )
    # On html (not just body) so @page margin boxes, which inherit from the
    # root element, use it too; templates may still override it.
    return faces + f"html, body {{ font-family: {FONT_FAMILY_CSS}; }}\n"


def _allowed_roots() -> list[Path]:
    # Read lazily: settings may not be configured when this module is imported.
    roots = [FONT_DIR, BASE_DIR / "static", BASE_DIR / "media"]
    roots += [Path(p) for p in getattr(settings, "STATICFILES_DIRS", []) if isinstance(p, str | Path)]
    roots += [Path(p) for p in (getattr(settings, "STATIC_ROOT", None), getattr(settings, "MEDIA_ROOT", None)) if p]
    return [root.resolve() for root in roots]


def _map_site_path(path: Path) -> Path:
    """Map /static/... and /media/... (what {% static %} and FileField.url
    give, resolved against our file:// base URL) to the files on disk."""
    posix = path.as_posix()
    static_url = getattr(settings, "STATIC_URL", None) or ""
    media_url = getattr(settings, "MEDIA_URL", None) or ""
    if static_url.startswith("/") and posix.startswith(static_url):
        from django.contrib.staticfiles import finders

        relative = posix.removeprefix(static_url)
        try:
            found = finders.find(relative)
        except SuspiciousFileOperation:  # "../" escapes: refused by the root check below
            return path
        if found:
            return Path(found)
        if getattr(settings, "STATIC_ROOT", None):
            return Path(settings.STATIC_ROOT) / relative
    if media_url.startswith("/") and posix.startswith(media_url) and getattr(settings, "MEDIA_ROOT", None):
        return Path(settings.MEDIA_ROOT) / posix.removeprefix(media_url)
    return path


class LocalOnlyURLFetcher(URLFetcher):
    """Serve data: URLs and files under the font/static/media folders; refuse
    everything else (http, https, ftp, other files) so rendering never does I/O
    on the network or leaks files such as settings or keys into a PDF."""

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme != "file" or parts.netloc not in ("", "localhost"):
            raise BlockedResource(f"PDF resource refused (not a local file): {url[:200]}")
        path = _map_site_path(Path(url2pathname(parts.path)))  # url2pathname also %-decodes
        resolved = path.resolve()  # follows symlinks and "..", before the check
        if not any(resolved.is_relative_to(root) for root in _allowed_roots()):
            raise BlockedResource(f"PDF resource refused (outside allowed folders): {path}")
        if not resolved.is_file():
            raise BlockedResource(f"PDF resource not found: {path}")
        content_type = mimetypes.guess_type(resolved.name)[0] or "application/octet-stream"
        return URLFetcherResponse(resolved.as_uri(), resolved.read_bytes(), {"Content-Type": content_type})


_per_thread = threading.local()


class _RenderSetup:
    """What one thread reuses for every document it renders."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.font_config = FontConfiguration()
        # The fonts are local files: the fetcher is only used here, while parsing.
        self.font_stylesheet = CSS(string=font_css(), font_config=self.font_config, url_fetcher=LocalOnlyURLFetcher())
        # Parsed <style> elements of the templates, by their text (see _template_stylesheets).
        self.stylesheets: dict[str, CSS] = {}


def _render_setup() -> _RenderSetup:
    """This thread's FontConfiguration, the parsed font stylesheet bound to it,
    and the template stylesheets parsed so far.

    Built once per thread and reused for every document: registering the
    fonts (reading them, copying them to a temp folder, Fontconfig scanning
    them) and parsing the @font-face rules then happens once, and Pango keeps
    the loaded fonts. A FontConfiguration holds Pango/Fontconfig state that
    must not be shared between threads, hence one per thread (a Celery
    prefork worker has one); it only caches per font, size and feature set,
    so it does not grow with the number of documents. Its temp folder is
    removed when the thread ends (FontConfiguration.__del__).

    A forked child (Celery prefork, multiprocessing) builds its own: the one
    it inherited shares the parent's temp folder, which the child must neither
    use after the parent removes it nor remove itself.
    """
    setup = getattr(_per_thread, "setup", None)
    if setup is None or setup.pid != os.getpid():
        if setup is not None:
            setup.font_config._folder = None  # the parent's folder: its __del__ here must not delete it
        setup = _per_thread.setup = _RenderSetup()
    return setup


def _font_setup() -> tuple[FontConfiguration, CSS]:
    """This thread's FontConfiguration and font stylesheet (see _render_setup)."""
    setup = _render_setup()
    return setup.font_config, setup.font_stylesheet


# A <style> element without attributes (no media, no type), as the PDF templates write them.
_STYLE_ELEMENT = re.compile(r"<style>(.*?)</style>", re.DOTALL)
# At-rules whose effect a stylesheet parsed apart from the document would lose.
_DOCUMENT_AT_RULES = ("@counter-style", "@color-profile")
# Distinct <style> texts kept parsed per thread: every template's, with room to spare.
_STYLESHEET_CACHE_SIZE = 64


def _template_stylesheets(html: str, setup: _RenderSetup) -> tuple[str, list[CSS]]:
    """Take the <style> elements out of ``html`` and return them parsed, from
    this thread's cache: a template's CSS is the same for every document, and
    parsing it again cost ~2 ms of a receipt's ~50 ms.

    WeasyPrint applies them as user stylesheets, after the font stylesheet, in
    document order. For our templates that cascades as before: user rules only
    lose to author rules, and with the <style> elements gone the only author
    declarations left are style="" attributes, which won over them anyway.
    """
    sheets: list[CSS] = []

    def take(match: re.Match[str]) -> str:
        text = match.group(1)
        if any(rule in text for rule in _DOCUMENT_AT_RULES):
            return match.group(0)  # left in the document, parsed with it
        sheet = setup.stylesheets.get(text)
        if sheet is None:
            if len(setup.stylesheets) >= _STYLESHEET_CACHE_SIZE:  # a template with varying CSS
                setup.stylesheets.clear()
            sheet = setup.stylesheets[text] = CSS(
                string=text,
                base_url=BASE_DIR.as_uri() + "/",
                url_fetcher=LocalOnlyURLFetcher(),
                font_config=setup.font_config,
            )
        sheets.append(sheet)
        return ""

    return _STYLE_ELEMENT.sub(take, html), sheets


def render_pdf(template_name: str, context: dict[str, Any] | None = None, *, request: Any = None) -> bytes:
    """Render a Django template to PDF bytes with the embedded CJK font."""
    html = render_to_string(template_name, context or {}, request=request)
    setup = _render_setup()
    html, template_sheets = _template_stylesheets(html, setup)
    document = HTML(string=html, base_url=BASE_DIR.as_uri() + "/", url_fetcher=LocalOnlyURLFetcher())
    return document.write_pdf(stylesheets=[setup.font_stylesheet, *template_sheets], font_config=setup.font_config)


# Pixels per QR module. Viewers smooth (interpolate) a scaled image; at 4 px a
# 300 dpi raster of a receipt no longer decoded, 6 px decodes like the old 8 px.
QR_MODULE_PX = 6
# The QR mask, fixed. By default the qrcode library builds the symbol with each
# of the 8 masks and keeps the one with the lowest penalty score: ~5-10 ms of
# pure Python per code, against ~2 ms for the whole QR code (PNG included)
# with one mask. Every mask is valid and decodes alike; the penalty only steers
# away from patterns that might confuse a poor scanner, which a printed or
# on-screen receipt at 6 px per module does not need (checked with zbarimg on
# 150 and 300 dpi rasters of a receipt, see tests/redcross/test_pdf.py).
QR_MASK_PATTERN = 0


def qr_code_data_uri(text: str) -> str:
    """PNG QR code of ``text`` as a data: URI, for <img src> in PDF templates.

    8-bit grayscale, QR_MODULE_PX pixels per module (270 px for a receipt URL).
    WeasyPrint embeds a grayscale PNG as one 8-bit channel, while it expands a
    1-bit or palette PNG to RGB (three times the data to decode and recompress).
    An SVG would be sharper but costs more: WeasyPrint draws each module run as
    a path (about 3 kB more per PDF and ~20 ms more per render).
    """
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4, mask_pattern=QR_MASK_PATTERN)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()  # rows of booleans, quiet zone included
    size = len(matrix)
    pixels = bytes(0 if dark else 255 for row in matrix for dark in row)
    image = Image.frombytes("L", (size, size), pixels)
    image = image.resize((size * QR_MODULE_PX, size * QR_MODULE_PX), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
