"""The relief app's admin pages; importing the package registers them.

``projects`` (projects, their funding, the books checks), ``beneficiaries`` (the register and the
duplicate review queue), ``applications`` (the review queue, documents, visits), ``aid``
(disbursements, livelihood shares). Every write goes through a service in ``relief/services/``.
"""

from relief.admin import aid, applications, beneficiaries, projects  # noqa: F401
