"""Staff roles (DESIGN.md section 1) as permission groups.

Each role is a list of (app label, codename pattern) rules. The groups are
created by a data migration and their permissions topped up after every
``migrate`` (``sync_roles`` from a post_migrate handler), so a model added by a
later app is covered without a new migration. Syncing only adds: a permission
granted by hand in the admin stays.

Read-only roles get ``view_*`` only, so the admin shows them everything and
lets them change nothing. Which branch's rows a role sees is decided
separately, by the user's branch (``redcross.scoping``).
"""

from __future__ import annotations

from dataclasses import dataclass
from fnmatch import fnmatch

from django.utils.translation import gettext_noop as _noop

# the portal's own apps; read-only roles see all of them
DOMAIN_APPS = (
    "redcross",
    "donations",
    "relief",
    "training",
    "registries",
    "membership",
    "volunteers",
    "publicity",
    "reports",
)

Rule = tuple[str, str]  # (app_label or "*", codename pattern)

_READ_ALL: list[Rule] = [(app, "view_*") for app in DOMAIN_APPS]


def _officer(app: str) -> list[Rule]:
    return [("redcross", "view_branch"), (app, "view_*"), (app, "add_*"), (app, "change_*")]


# The person register (redcross.Person) and consent, for the apps whose people are persons:
# training, membership, volunteers. Not relief or the three donations (DESIGN.md section 6).
_PEOPLE: list[Rule] = [
    ("redcross", "view_person"),
    ("redcross", "add_person"),
    ("redcross", "change_person"),
    ("redcross", "view_personduplicate"),
    ("redcross", "change_personduplicate"),
    ("redcross", "merge_person"),
    ("redcross", "view_consenttext"),
    ("redcross", "view_consentrecord"),
    ("redcross", "change_consentrecord"),
]
# the texts people consent to are drafted by the programme officers, not by every district
_CONSENT_TEXTS: list[Rule] = [("redcross", "add_consenttext"), ("redcross", "change_consenttext")]


@dataclass(frozen=True)
class Role:
    key: str
    name: str  # the group name staff see, Chinese as in the branch's own org chart
    rules: tuple[Rule, ...]


ROLES: tuple[Role, ...] = (
    Role(
        "donation_clerk",
        _noop("捐赠登记员"),
        (
            ("redcross", "view_branch"),
            ("donations", "view_*"),
            ("donations", "add_*"),
            ("donations", "change_*"),
            ("donations", "import_*"),
        ),
    ),
    Role(
        "finance_reviewer",
        _noop("财务复核员"),
        (
            ("redcross", "view_branch"),
            ("donations", "view_*"),
            ("donations", "confirm_*"),
            ("donations", "publish_*"),
            ("donations", "add_receipt*"),
            ("donations", "change_receiptcode"),  # a typo mended before the year's first receipt
            ("donations", "issue_*"),
            ("donations", "reverse_*"),
            ("donations", "correct_*"),
            ("reports", "view_*"),
            ("reports", "add_*"),
        ),
    ),
    Role(
        "warehouse_keeper",
        _noop("仓库管理员"),
        (
            ("redcross", "view_branch"),
            ("donations", "view_*"),
            ("donations", "add_stock*"),
            ("donations", "change_stock*"),
            ("donations", "add_warehouse*"),
            ("donations", "change_warehouse*"),
            ("donations", "add_inspection*"),
            # keepers register goods transfer orders (物资调拨令) and the recipients' sign-off
            ("donations", "add_allocation"),
            ("donations", "change_allocation"),  # withdraw an order not yet signed by the second keeper
            ("donations", "add_recipientconfirmation"),
            ("donations", "sign_*"),
        ),
    ),
    # relief: officers see beneficiaries' sensitive details (see_*), review, approve and sign cash;
    # only the reviewer settles suspected duplicate beneficiaries (review_beneficiaryduplicate)
    Role(
        "relief_officer",
        _noop("人道救助项目专员"),
        tuple(
            _officer("relief")
            + [("relief", "see_*"), ("relief", "review_application"), ("relief", "decide_application")]
            + [("relief", "confirm_aid")]
        ),
    ),
    Role(
        "relief_reviewer",
        _noop("人道救助复核员"),
        (
            ("redcross", "view_branch"),
            ("relief", "view_*"),
            ("relief", "see_*"),
            ("relief", "change_beneficiaryduplicate"),
            ("relief", "review_beneficiaryduplicate"),
            ("relief", "decide_application"),
            ("relief", "confirm_aid"),
        ),
    ),
    Role("training_officer", _noop("应急救护培训专员"), tuple(_officer("training") + _PEOPLE + _CONSENT_TEXTS)),
    Role("registries_officer", _noop("三献工作专员"), tuple(_officer("registries"))),
    Role("membership_officer", _noop("会员工作专员"), tuple(_officer("membership") + _PEOPLE + _CONSENT_TEXTS)),
    Role("volunteer_officer", _noop("志愿服务专员"), tuple(_officer("volunteers") + _PEOPLE + _CONSENT_TEXTS)),
    Role("publicity_officer", _noop("宣传工作专员"), tuple(_officer("publicity"))),
    Role(
        "district_staff",
        _noop("区县红十字会工作人员"),
        tuple(
            [("redcross", "view_branch"), ("redcross", "add_branch"), ("redcross", "change_branch")]
            + [(app, pattern) for app in DOMAIN_APPS[1:] for pattern in ("view_*", "add_*", "change_*")]
            # a district branch publishes its own bulletins (scoping keeps it to its own branch)
            + [("donations", "publish_bulletin")]
            # and registers the persons its courses, members and volunteers bring in
            + _PEOPLE
            # relief: the district registers, visits and reviews first (初审) and signs cash aid
            + [("relief", "see_*"), ("relief", "review_application"), ("relief", "confirm_aid")]
        ),
    ),
    Role("leadership", _noop("领导班子"), tuple(_READ_ALL + [("reports", "add_*")])),
    Role("supervisors", _noop("监事会"), tuple(_READ_ALL)),
    Role("discipline_inspectors", _noop("纪检监察"), tuple(_READ_ALL)),
)

ROLE_BY_KEY = {role.key: role for role in ROLES}


def role_permissions(role: Role, permission_model) -> list:
    """The Permission rows a role's rules match (works with historical models too)."""
    apps = {app for app, _pattern in role.rules}
    candidates = permission_model.objects.select_related("content_type")
    if "*" not in apps:
        candidates = candidates.filter(content_type__app_label__in=apps)
    return [
        permission
        for permission in candidates
        if any(
            (app in ("*", permission.content_type.app_label)) and fnmatch(permission.codename, pattern)
            for app, pattern in role.rules
        )
    ]


def sync_roles(group_model, permission_model) -> None:
    """Create the role groups and add every permission their rules match."""
    for role in ROLES:
        group, _created = group_model.objects.get_or_create(name=role.name)
        group.permissions.add(*role_permissions(role, permission_model))


def role_group_name(key: str) -> str:
    return ROLE_BY_KEY[key].name
