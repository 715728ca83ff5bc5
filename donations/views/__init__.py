"""Public pages of the donations app, one module per concern.

* ``lookup``: the donor's self-service pages (lookup, the token page and its PDFs, verification).
* ``public``: the honor roll, a donation's public page, the campaign pages.
* ``bulletins``: the bulletin archive, a bulletin, its PDF and feed, disclosure deadlines.
"""
