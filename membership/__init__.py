"""Membership (会员): individual and group members, dues, grassroots organisations and
congresses.

Not built yet: the app is registered so its place in the layout is fixed; the issues that
follow fill it (DESIGN.md section 2).
"""
