"""Public relief project pages (mounted at /relief/): the project list and a project's page.

Purpose, period, status, funds in and out, how many were helped in each district (counts only),
and the usage announcements (使用公告) that published its funding or its disbursements.
Nothing of a beneficiary is read here (relief/selectors/public.py).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from relief.selectors.public import (
    dividends_paid,
    helped_by_district,
    project_bulletins,
    public_project,
    public_projects,
)


@require_safe
def project_list(request: HttpRequest) -> HttpResponse:
    projects = list(public_projects()[:200])
    return render(request, "relief/projects.html", {"projects": projects})


@require_safe
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    project = public_project(pk)
    if project is None:
        raise Http404
    districts = helped_by_district(project)
    context = {
        "project": project,
        "districts": districts,
        "helped": sum(row.helped for row in districts),
        "dividends": sorted(dividends_paid(project).items(), reverse=True),
        # the usage announcements that published its funding or its disbursements
        "bulletins": project_bulletins(project),
    }
    return render(request, "relief/project.html", context)
