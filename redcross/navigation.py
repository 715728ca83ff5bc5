"""The public site's main sections, in the order of the navigation bar.

Each section names the URL of its page; until the app behind it has its public
page, the navigation points at the section's entry on the home page, which
says how to reach the branch for that service instead.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class PublicSection:
    key: str
    title: Promise
    summary: Promise
    url_name: str

    @property
    def url(self) -> str:
        try:
            return reverse(self.url_name)
        except NoReverseMatch:
            return f"{reverse('home')}#{self.key}"

    @property
    def available(self) -> bool:
        try:
            reverse(self.url_name)
        except NoReverseMatch:
            return False
        return True


SECTIONS: tuple[PublicSection, ...] = (
    PublicSection(
        "disclosure",
        _("信息公开"),
        _("捐赠款物接收公示、使用公告、爱心榜单和年度工作报告：每一笔捐赠从哪里来、到哪里去。"),
        "disclosure:index",
    ),
    PublicSection(
        "lookup",
        _("捐赠查询"),
        _("凭捐赠流水号和预留手机号后四位，查询您的捐赠及其去向，下载捐赠票据和电子捐赠证书。"),
        "donations:lookup",
    ),
    PublicSection(
        "three-donations",
        _("三献"),
        _("无偿献血、造血干细胞捐献、遗体和人体器官（角膜）捐献的登记与咨询，以及网上缅怀。"),
        "registries:index",
    ),
    PublicSection(
        "first-aid",
        _("应急救护"),
        _("应急救护培训报名和救护员证书查验：学会心肺复苏和 AED 使用，关键时刻能救命。"),
        "training:index",
    ),
    PublicSection(
        "volunteers",
        _("志愿服务"),
        _("注册成为红十字志愿者，加入志愿服务队，参与应急救援、救护培训和社区服务。"),
        "volunteers:index",
    ),
    PublicSection(
        "news",
        _("新闻动态"),
        _("本会工作动态、通知公告和媒体报道。"),
        "publicity:index",
    ),
)


def public_sections() -> tuple[PublicSection, ...]:
    return SECTIONS
