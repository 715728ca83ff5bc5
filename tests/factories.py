"""factory-boy factories for the kernel; every app adds its own next to its tests."""

from __future__ import annotations

import factory
from django.contrib.auth.models import Group

from redcross.models import Branch, BranchLevel, GrassrootsKind, User
from redcross.roles import role_group_name


class CityBranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    name = "测试市红十字会"
    code = "CS"
    level = BranchLevel.CITY


class CountyBranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch

    name = factory.Sequence(lambda n: f"测试市第{n + 1}区红十字会")
    code = factory.Sequence(lambda n: f"CQ{n + 1:02d}")
    level = BranchLevel.COUNTY
    parent = factory.SubFactory(CityBranchFactory)


class GrassrootsBranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch

    name = factory.Sequence(lambda n: f"测试第{n + 1}中学红十字会")
    code = factory.Sequence(lambda n: f"JC{n + 1:02d}")
    level = BranchLevel.GRASSROOTS
    grassroots_kind = GrassrootsKind.SCHOOL
    parent = factory.SubFactory(CountyBranchFactory)


class StaffFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    last_name = "王"
    first_name = factory.Sequence(lambda n: f"员工{n}")
    is_staff = True
    branch = factory.SubFactory(CityBranchFactory)
    password = factory.django.Password("correct-horse-battery")

    @factory.post_generation
    def roles(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.set([Group.objects.get(name=role_group_name(role)) for role in extracted])
