"""Public relief project pages (mounted at /relief/): the project list and a project's page.

Purpose, period, status, funds in and out, how many were helped in each district (counts only,
kept in the cache for 30 seconds), and the usage announcements (使用公告) that published its
funding or its disbursements. Nothing of a beneficiary is read here (relief/selectors/public.py).
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from redcross.cache import cached_or_refreshed
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
    # counted from every paid disbursement (50,000 in a surge): kept for half a minute, as the
    # campaign pages keep theirs; the money figures come from the project's row, always current
    districts = cached_or_refreshed(f"relief:project:{project.pk}:helped", lambda: helped_by_district(project), 30)
    context = {
        "project": project,
        "districts": districts,
        "helped": sum(row.helped for row in districts),
        "dividends": sorted(dividends_paid(project).items(), reverse=True),
        # the usage announcements that published its funding or its disbursements
        "bulletins": project_bulletins(project),
    }
    return render(request, "relief/project.html", context)
