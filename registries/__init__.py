"""The three donations (三献): blood drives, the stem-cell donor pipeline, body, organ and
cornea registrations and realised donations, and the memorial wall.

Not built yet: the app is registered so its place in the layout is fixed; the issues that
follow fill it (DESIGN.md section 2).
"""
