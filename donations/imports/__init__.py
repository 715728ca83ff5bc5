"""Donation statement imports: WeChat Pay, Alipay, bank statements and the portal's XLSX template.

Entry point: ``import_statement(path_or_file=..., fmt=..., by=..., branch=..., campaign=...)``.
See README.md in this folder for the formats, the column mapping and the decisions.
"""

from donations.imports.base import FORMATS, ImportFileError, ImportReport, ParsedRow
from donations.imports.statement import import_statement

__all__ = ["FORMATS", "ImportFileError", "ImportReport", "ParsedRow", "import_statement"]
