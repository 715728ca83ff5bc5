"""Evidence files staff upload: donation letters and bank slips, allocation plan documents, payment
vouchers, recipients' signed sheets, stock-in photos.

PDF, JPEG or PNG only, recognised by their first bytes (not by the name or the type the browser
claims), with a matching extension, at most ``UPLOAD_MAX_MB`` megabytes. Anything else (an HTML
page, a script, an Office file that could carry macros) is refused with a message that names what
is allowed.
"""

from __future__ import annotations

from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _

# first bytes -> the extensions such a file may carry
_SIGNATURES: tuple[tuple[bytes, frozenset[str]], ...] = (
    (b"%PDF-", frozenset({".pdf"})),
    (b"\xff\xd8\xff", frozenset({".jpg", ".jpeg"})),
    (b"\x89PNG\r\n\x1a\n", frozenset({".png"})),
)


def validate_evidence_file(file) -> None:
    """Refuse anything but a PDF, JPEG or PNG within the size limit (a model field validator)."""
    limit = settings.UPLOAD_MAX_MB * 1024 * 1024
    if file.size is not None and file.size > limit:
        raise ValidationError(_("文件超过 %(mb)d MB") % {"mb": settings.UPLOAD_MAX_MB}, code="too_large")
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    head = file.read(8)
    file.seek(position)
    suffix = PurePath(file.name or "").suffix.lower()
    for signature, suffixes in _SIGNATURES:
        if head.startswith(signature) and suffix in suffixes:
            return
    raise ValidationError(_("只能上传 PDF、JPG 或 PNG 文件（按文件内容识别）"), code="file_type")


def validate_photo_file(file) -> None:
    """A photo (a certificate holder's, a member card's): JPEG or PNG only, checked like evidence."""
    validate_evidence_file(file)
    file.seek(0)
    is_pdf = file.read(5) == b"%PDF-"
    file.seek(0)
    if is_pdf:
        raise ValidationError(_("照片只能是 JPG 或 PNG 文件"), code="file_type")


def stored_file_download(stored) -> FileResponse:
    """A stored evidence file as a download, never shown inline (it came from outside); 404 when
    the field is empty. Callers check scope and permission first."""
    if not stored:
        raise Http404
    return FileResponse(stored.open("rb"), as_attachment=True, filename=PurePath(stored.name).name)
