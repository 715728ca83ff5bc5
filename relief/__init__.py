"""Humanitarian relief (人道救助): relief projects funded by allocations of the donations app,
the beneficiary register (persons and households, deduplicated by a keyed hash of their own),
applications with district review and city approval, disbursements of cash and goods within the
project's funds and caps, follow-up visits, 博爱家园 shares and dividends, public project pages
and the application status lookup (docs/relief.md).
"""
