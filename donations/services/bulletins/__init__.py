"""Bulletins (公示), one module per step:

- ``compose``: what a bulletin lists, its canonical content and hash; drafting and editing a draft;
- ``publish``: publication (number, place in the branch's hash chain), verifying the chains, the PDF;
- ``schedule``: the beat's drafts of what is due, and reminders of the disclosure deadlines.

Import from the module itself (``from donations.services.bulletins.publish import bulletin_publish``).
"""
