"""The donations app's API, one module per concern.

Staff API (login, branch-scoped, every write through one service): ``intake`` (donations,
receipts), ``allocations`` (plans, allocations, recipients' sign-off, a campaign's books),
``warehouse`` (warehouses, stock movements), ``evidence`` (file attachments); routes in ``urls``.
Open data API (read-only, no login, throttled): ``public``; routes in ``public_urls``.
"""
