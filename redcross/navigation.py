"""The public site's main sections: the navigation bar and the home page's service cards.

The kernel knows no app: each app registers the sections it has public pages for, in its
``AppConfig.ready()``, with ``register_public_section``. An app that is not built yet registers
nothing, so the navigation never leads to a page that does not exist.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse
from django.utils.functional import Promise


@dataclass(frozen=True)
class PublicSection:
    key: str
    title: Promise
    summary: Promise
    url_name: str
    order: int  # position in the navigation bar, left to right

    @property
    def url(self) -> str:
        return reverse(self.url_name)


_SECTIONS: dict[str, PublicSection] = {}


def register_public_section(section: PublicSection) -> None:
    """Add (or, under the same key, replace) a section; called from an app's ``ready()``."""
    _SECTIONS[section.key] = section


def public_sections() -> tuple[PublicSection, ...]:
    return tuple(sorted(_SECTIONS.values(), key=lambda section: (section.order, section.key)))
