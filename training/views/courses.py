"""Public course pages (mounted at /training/): the course calendar, a session's page, registration
through the kernel's public-form pattern, the registrant's private page, and iCalendar feeds.

Nothing here names a registrant or an instructor: the public sees sessions and seat figures only;
a registrant sees their own registration, masked, through the private link.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from redcross.calendars import CalendarEvent, ical_feed
from redcross.forms import service_error_message
from redcross.models import Branch
from redcross.people import person_find_or_register, persons_matching
from redcross.public_forms import (
    BirthDateField,
    CnIdNumberField,
    CnPhoneField,
    PersonNameField,
    PublicManageView,
    PublicSignupForm,
    PublicSignupView,
)
from redcross.site import portal_facts
from training.models import CourseKind, Registration, RegistrationStatus, Session
from training.models.registration import ACTIVE
from training.selectors.registration import (
    calendar_sessions,
    district_choices,
    feed_sessions,
    public_session,
    registration_by_token,
    seats_left,
    waitlist_position,
)
from training.services.registration import (
    registration_cancel,
    registration_closed_reason,
    registration_consent_link,
    registration_contact_change,
    registration_create,
)

CONSENT_PURPOSE = "training-registration"


# --- the calendar -------------------------------------------------------------------------------


def _filters(request: HttpRequest) -> tuple[list[Branch], Branch | None, str]:
    """The district and course kind asked for; anything unknown is ignored, never an error."""
    districts = district_choices()
    code = request.GET.get("district", "")[:20]
    district = next((branch for branch in districts if branch.code == code), None)
    kind = request.GET.get("kind", "")
    return districts, district, kind if kind in CourseKind.values else ""


@require_safe
def course_calendar(request: HttpRequest) -> HttpResponse:
    districts, district, kind = _filters(request)
    try:
        page = calendar_sessions(district=district, kind=kind, cursor=request.GET.get("cursor", ""))
    except ValidationError:
        raise Http404 from None  # a forged or damaged cursor
    query = "&".join(f"{k}={v}" for k, v in (("district", district.code if district else ""), ("kind", kind)) if v)
    rows = [(session, seats_left(session)) for session in page.sessions]
    context = {
        "rows": rows,
        "districts": districts,
        "district": district,
        "kinds": CourseKind.choices,
        "kind": kind,
        "query": query,
        "next_cursor": page.next_cursor,
        "first_page": not request.GET.get("cursor"),
    }
    return render(request, "training/calendar.html", context)


def _session_or_404(pk: int) -> Session:
    session = public_session(pk)
    if session is None:
        raise Http404
    return session


def _map_link(session: Session) -> str:
    """A link to the place on OpenStreetMap (no map is fetched by the page itself)."""
    if session.latitude is None:
        return ""
    lat, lon = session.latitude, session.longitude
    return f"https://www.openstreetmap.org/?mlat={lat}&mlon={lon}#map=17/{lat}/{lon}"


@require_safe
def session_detail(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_or_404(pk)
    context = {
        "session": session,
        "seats_left": seats_left(session),
        "closed_reason": registration_closed_reason(session),
        "map_link": _map_link(session),
    }
    return render(request, "training/session.html", context)


# --- iCalendar ----------------------------------------------------------------------------------


def _event(request: HttpRequest, session: Session) -> CalendarEvent:
    facts = [session.get_kind_display(), _("%(hours)s 学时") % {"hours": session.hours}, session.branch.name]
    return CalendarEvent(
        uid=f"training-session-{session.pk}",
        title=session.title,
        start=session.starts_at,
        end=session.ends_at,
        location=session.venue,
        description=" · ".join(str(fact) for fact in facts),
        url=request.build_absolute_uri(reverse("training:session", args=[session.pk])),
        geo=(float(session.latitude), float(session.longitude)) if session.latitude is not None else None,
    )


@require_safe
def calendar_feed(request: HttpRequest) -> HttpResponse:
    _districts, district, kind = _filters(request)
    events = [_event(request, session) for session in feed_sessions(district=district, kind=kind)]
    name = f"{portal_facts()['name']} · {_('应急救护培训')}"
    return ical_feed(events, name=name, filename="training.ics")


@require_safe
def session_feed(request: HttpRequest, pk: int) -> HttpResponse:
    session = _session_or_404(pk)
    return ical_feed([_event(request, session)], name=session.title, filename=f"training-{session.pk}.ics")


# --- registration -------------------------------------------------------------------------------


class RegistrationForm(PublicSignupForm):
    name = PersonNameField()
    phone = CnPhoneField(help_text=gettext_lazy("用于培训通知；不会公开"))
    id_number = CnIdNumberField(
        required=False, help_text=gettext_lazy("取得救护员证、师资证须提供，用于证书登记；不会公开")
    )
    birth_date = BirthDateField(required=False)

    def __init__(self, *args, session: Session, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # a certificate course needs the ID number the certificate is registered under
        self.fields["id_number"].required = session.kind != CourseKind.AWARENESS


class RegistrationSignupView(PublicSignupView):
    form_class = RegistrationForm
    consent_purpose = CONSENT_PURPOSE
    title = gettext_lazy("培训报名")
    template_name = "training/register.html"
    success_template_name = "training/registration_success.html"
    manage_url_name = "training:manage"

    session: Session
    registration: Registration | None = None

    def dispatch(self, request: HttpRequest, *args, pk: int, **kwargs) -> HttpResponse:
        self.session = _session_or_404(pk)
        reason = registration_closed_reason(self.session)
        if reason and request.method in ("GET", "HEAD", "POST"):
            status = 409 if request.method == "POST" else 200
            return render(
                request, "training/registration_closed.html", self.get_context_data(reason=reason), status=status
            )
        return super().dispatch(request, *args, **kwargs)

    def get_form_kwargs(self) -> dict:
        return {"session": self.session}

    def get_context_data(self, **context) -> dict:
        context = super().get_context_data(session=self.session, seats_left=seats_left(self.session), **context)
        if "management_url" in context:
            registration = self.registration
            # the honeypot's answer looks like a seat taken, so a program learns nothing from it
            context["status"] = registration.status if registration else RegistrationStatus.REGISTERED
            context["waitlist_position"] = waitlist_position(registration) if registration else None
        return context

    def save(self, cleaned_data: dict) -> Registration:
        facts = {key: cleaned_data[key] for key in ("name", "phone", "id_number")}
        matches = persons_matching(**facts)
        if Registration.objects.filter(session=self.session, person__in=matches, status__in=ACTIVE).exists():
            field = "id_number" if cleaned_data["id_number"] else "phone"
            raise ValidationError(
                {field: _("您已报名本期培训，请勿重复报名；如需修改或取消，请使用报名时获得的专属链接")}
            )
        person = person_find_or_register(
            name=cleaned_data["name"],
            phone=cleaned_data["phone"],
            id_number=cleaned_data["id_number"],
            birth_date=cleaned_data["birth_date"],
            branch=self.session.branch,
        ).person
        self.registration = registration_create(session=self.session, person=person)
        return self.registration

    def consent_subject(self, obj: Registration):
        return obj.person

    def consent_branch(self, obj: Registration) -> Branch:
        return obj.session.branch

    def management_token(self, obj: Registration) -> str:
        # called in the sign-up's transaction once the consent is recorded: keep the two together
        registration_consent_link(registration=obj, consent=self.consent_record)
        return obj.management_token


class ContactChangeForm(forms.Form):
    phone = CnPhoneField(label=gettext_lazy("新的手机号码"))


def _when(session: Session) -> str:
    start, end = timezone.localtime(session.starts_at), timezone.localtime(session.ends_at)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M}–{end:%H:%M}"
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M}"


class RegistrationManageView(PublicManageView):
    """``/training/r/<token>/``: the registrant sees their registration (masked), corrects their
    phone, or cancels; a cancellation gives the seat to the first person waiting."""

    template_name = "training/registration_manage.html"
    title = gettext_lazy("我的培训报名")
    change_form_class = ContactChangeForm

    def get_object(self, token: str) -> Registration | None:
        return registration_by_token(token)

    def describe(self, obj: Registration) -> list[tuple[str, str]]:
        session = obj.session
        status = obj.get_status_display()
        position = waitlist_position(obj)
        if position is not None:
            status = _("候补第 %(position)d 位（有人取消时按报名先后自动递补）") % {"position": position}
        return [
            (_("姓名"), obj.person.masked_name),
            (_("手机号码"), obj.person.masked_phone),
            (_("培训班"), session.title),
            (_("时间"), _when(session)),
            (_("地点"), session.venue),
            (_("主办单位"), session.branch.name),
            (_("报名状态"), status),
        ]

    refusal = ""

    def extra_context(self, obj: Registration) -> dict:
        return {"session": obj.session, "started": obj.session.starts_at <= timezone.now(), "refusal": self.refusal}

    def is_withdrawn(self, obj: Registration) -> bool:
        return obj.status == RegistrationStatus.CANCELLED

    def withdraw(self, obj: Registration) -> None:
        registration_cancel(registration=obj, by=None)

    def change(self, obj: Registration, cleaned_data: dict) -> None:
        registration_contact_change(registration=obj, phone=cleaned_data["phone"])

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        try:
            return super().post(request, token)
        except ValidationError as exc:  # e.g. cancelling once the session has started: nothing changed
            self.refusal = service_error_message(exc)
            return self._page(request, self.get_object(token))
