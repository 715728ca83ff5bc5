"""Public rescue cases (成功救人案例): published ones whose rescuer consents, and nothing personal:
the rescuer's masked name, the date, the district, a place description and the story."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from training.selectors.rescue import PUBLIC_LIMIT, public_rescue_cases


@require_safe
def rescue_case_list(request: HttpRequest) -> HttpResponse:
    cases = list(public_rescue_cases()[:PUBLIC_LIMIT])
    return render(request, "training/rescue_cases.html", {"cases": cases})


@require_safe
def rescue_case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = public_rescue_cases().filter(pk=pk).first()
    if case is None:  # never published, taken down, or the rescuer withdrew consent: the same answer
        raise Http404
    return render(request, "training/rescue_case.html", {"case": case})
