from django.conf import settings

from redcross.navigation import public_sections
from redcross.site import portal_facts


def site(request) -> dict:
    """The portal's name, contact facts and navigation for every page."""
    facts = portal_facts()
    return {
        "portal_name": facts["name"],
        "portal": facts,
        "nav_sections": public_sections(),
        "fragment_seconds": settings.FRAGMENT_SECONDS,
    }
