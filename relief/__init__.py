"""Humanitarian relief (人道救助): relief projects funded by allocations of the donations app,
the beneficiary register (persons and households, deduplicated by a keyed hash of their own),
applications with district review and city approval, disbursements of cash and goods within the
project's funds and caps, follow-up visits, 博爱家园 shares and dividends, and the projects' books
checked nightly (docs/relief.md, which also lists what is not built yet).
"""
