"""Exam results: recorded and corrected through ``exam_result_record``."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from redcross.admin import BranchScopedAdmin
from redcross.scoping import scope_queryset
from training.models import ExamResult, Session, SessionStatus
from training.services.exams import EXAMINED_KINDS, exam_result_record

VERDICTS = (("", _("按成绩判定")), ("1", _("合格")), ("0", _("不合格")))


class ExamResultForm(forms.ModelForm):
    verdict = forms.ChoiceField(label=_("合格"), choices=VERDICTS, required=False)

    class Meta:
        model = ExamResult
        fields = ("session", "person", "part", "score", "examiner")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["verdict"].initial = "1" if self.instance.passed else "0"

    def _post_clean(self):
        pass  # the service validates, and puts its errors on the fields (clean below)

    def clean(self):
        cleaned = super().clean()
        if self.errors or getattr(self, "_request", None) is None:
            return cleaned
        verdict = cleaned.get("verdict")
        session = cleaned.get("session") or self.instance.session
        person = cleaned.get("person") or self.instance.person
        try:
            self.instance = exam_result_record(
                session=session, person=person, part=cleaned.get("part") or self.instance.part,
                score=cleaned.get("score"), passed=None if verdict in (None, "") else verdict == "1",
                examiner=cleaned.get("examiner"), by=self._request.user,
            )  # fmt: skip
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        return cleaned


@admin.register(ExamResult)
class ExamResultAdmin(BranchScopedAdmin):
    branch_field = "session__branch"
    form = ExamResultForm
    list_display = ("person", "session", "part", "score", "passed", "examiner", "recorded_at")
    list_filter = ("part", "passed", "session__kind", ("session__branch", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("person", "session", "examiner")
    search_fields = ("person__name", "session__title")
    autocomplete_fields = ("person", "examiner")
    show_full_result_count = False
    fields = ("session", "person", "part", "score", "verdict", "examiner")

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)

        class WithRequest(form):
            _request = request

        return WithRequest

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "session":
            examined = Session.objects.filter(
                status__in=(SessionStatus.HELD, SessionStatus.CLOSED), kind__in=EXAMINED_KINDS, is_outdoor=False
            )
            kwargs["queryset"] = scope_queryset(examined, request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return ("session", "person", "part") if obj else ()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.pk = form.instance.pk  # recorded by the service in the form's clean()
