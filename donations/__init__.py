"""Donations: donors, campaigns, cash and in-kind gifts, receipts and certificates,
allocations, recipients, the warehouse, bulletins, the honor roll and statement imports.

Split by concern into packages: ``models/``, ``services/`` (every write), ``selectors/``
(reads), ``admin/``, ``api/``, ``views/``, ``forms/`` and ``imports/``. See docs/donations.md,
docs/allocations.md, docs/disclosure.md and docs/bulletins.md.
"""
