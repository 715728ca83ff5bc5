"""Humanitarian relief (人道救助): relief projects, beneficiaries and aid disbursements.

Not built yet: the app is registered so its place in the layout is fixed; the issues that
follow fill it (DESIGN.md section 2).
"""
