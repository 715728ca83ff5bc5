"""The donations app's admin pages, one module per concern; importing the package registers them.

``intake`` (donors, recipients, campaigns, donations, receipts, certificates), ``imports`` (the
statement upload on the donation list, saved column mappings), ``allocations`` (plans,
allocations, recipients' sign-off, reconciliation), ``warehouse`` (warehouses, stock movements,
ledgers), ``bulletins``; ``base`` holds what they share. Their forms are in ``donations/forms/``.
"""

from donations.admin import allocations, bulletins, imports, intake, warehouse  # noqa: F401
