"""Publicity (宣传): news articles, media coverage, channel posts, newspaper placements and
subscriptions.

Not built yet: the app is registered so its place in the layout is fixed; the issues that
follow fill it (DESIGN.md section 2).
"""
