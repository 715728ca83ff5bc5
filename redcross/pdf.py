"""PDF rendering kernel: Django template -> HTML -> WeasyPrint PDF.

Chinese text is always set in the font shipped in redcross/fonts/ ("Noto Sans
SC GBK"), so a PDF looks the same on a server with no CJK fonts installed.
Resources are read from local files only: a PDF never touches the network.
"""

from __future__ import annotations

import base64
import io
import mimetypes
import os
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
FONT_FILES = {400: "NotoSansSC-GBK-Regular.otf", 700: "NotoSansSC-GBK-Bold.otf"}


class BlockedResource(ValueError):
    """A PDF asked for a resource outside the allowed local folders."""


@cache
def font_css() -> str:
    """@font-face rules for the shipped font; built once per process."""
    faces = "".join(
        f'@font-face {{ font-family: "{FONT_FAMILY}"; font-weight: {weight};'
        f' font-style: normal; src: url("{(FONT_DIR / name).as_uri()}") format("opentype"); }}\n'
        for weight, name in FONT_FILES.items()
    )
    # On html (not just body) so @page margin boxes, which inherit from the
    # root element, use it too; templates may still override it.
    return faces + f'html, body {{ font-family: "{FONT_FAMILY}"; }}\n'


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


def _font_setup() -> tuple[FontConfiguration, CSS]:
    """This thread's FontConfiguration and the parsed font stylesheet bound to it.

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
    if setup is None or setup[0] != os.getpid():
        if setup is not None:
            setup[1]._folder = None  # the parent's folder: its __del__ here must not delete it
        font_config = FontConfiguration()
        # The fonts are local files: the fetcher is only used here, while parsing.
        stylesheet = CSS(string=font_css(), font_config=font_config, url_fetcher=LocalOnlyURLFetcher())
        setup = _per_thread.setup = (os.getpid(), font_config, stylesheet)
    return setup[1], setup[2]


def render_pdf(template_name: str, context: dict[str, Any] | None = None, *, request: Any = None) -> bytes:
    """Render a Django template to PDF bytes with the embedded CJK font."""
    html = render_to_string(template_name, context or {}, request=request)
    font_config, stylesheet = _font_setup()
    document = HTML(string=html, base_url=BASE_DIR.as_uri() + "/", url_fetcher=LocalOnlyURLFetcher())
    return document.write_pdf(stylesheets=[stylesheet], font_config=font_config)


# Pixels per QR module. Viewers smooth (interpolate) a scaled image; at 4 px a
# 300 dpi raster of a receipt no longer decoded, 6 px decodes like the old 8 px.
QR_MODULE_PX = 6


def qr_code_data_uri(text: str) -> str:
    """PNG QR code of ``text`` as a data: URI, for <img src> in PDF templates.

    8-bit grayscale, QR_MODULE_PX pixels per module (270 px for a receipt URL).
    WeasyPrint embeds a grayscale PNG as one 8-bit channel, while it expands a
    1-bit or palette PNG to RGB (three times the data to decode and recompress).
    An SVG would be sharper but costs more: WeasyPrint draws each module run as
    a path (about 3 kB more per PDF and ~20 ms more per render).
    """
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
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
