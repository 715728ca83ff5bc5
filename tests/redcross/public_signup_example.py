"""A small working public sign-up on the kernel's pattern (redcross.public_forms), for the tests:
a subscription to the branch's first-aid newsletter (急救知识月报). What an app writes is only this:
its fields, ``save`` and the management page's hooks."""

from django import forms
from django.core.exceptions import ValidationError
from django.urls import path

from redcross.consent import consent_by_token, consent_withdraw, has_consent
from redcross.models import ConsentMethod, ConsentRecord, Person
from redcross.people import person_find_or_register, person_update, persons_matching
from redcross.public_forms import (
    BirthDateField,
    CnIdNumberField,
    CnPhoneField,
    PersonNameField,
    PublicManageView,
    PublicSignupForm,
    PublicSignupView,
)
from redcross.selectors import city_branch
from redcross.urls import urlpatterns as site_urlpatterns

PURPOSE = "first-aid-newsletter"


class NewsletterForm(PublicSignupForm):
    name = PersonNameField()
    phone = CnPhoneField()
    id_number = CnIdNumberField(required=False)
    birth_date = BirthDateField(required=False)


class NewsletterSignupView(PublicSignupView):
    form_class = NewsletterForm
    consent_purpose = PURPOSE
    title = "急救知识月报订阅"
    manage_url_name = "example_manage"

    def save(self, cleaned_data: dict) -> Person:
        facts = {key: cleaned_data[key] for key in ("name", "phone", "id_number")}
        if any(has_consent(match, PURPOSE) for match in persons_matching(**facts)):
            raise ValidationError({"phone": "该手机号码已订阅，请勿重复提交；如需修改，请使用订阅时获得的专属链接"})
        person = person_find_or_register(
            name=cleaned_data["name"],
            phone=cleaned_data["phone"],
            id_number=cleaned_data["id_number"],
            birth_date=cleaned_data["birth_date"],
            branch=city_branch(),
        ).person
        return person

    def management_token(self, obj: Person) -> str:
        return self.consent_record.management_token


class PhoneChangeForm(forms.Form):
    phone = CnPhoneField(label="新的手机号码")


class NewsletterManageView(PublicManageView):
    title = "我的急救知识月报订阅"
    change_form_class = PhoneChangeForm

    def get_object(self, token: str) -> ConsentRecord | None:
        record = consent_by_token(token)
        return record if record is not None and record.purpose == PURPOSE else None

    def describe(self, obj: ConsentRecord) -> list[tuple[str, str]]:
        return [("姓名", obj.person.masked_name), ("手机号码", obj.person.masked_phone)]

    def is_withdrawn(self, obj: ConsentRecord) -> bool:
        return obj.withdrawn_at is not None

    def withdraw(self, obj: ConsentRecord) -> None:
        consent_withdraw(record=obj, method=ConsentMethod.ONLINE)

    def change(self, obj: ConsentRecord, cleaned_data: dict) -> None:
        person = obj.person
        person_update(
            person=person,
            by=None,  # the person themself, through the private link
            name=person.name,
            phone=cleaned_data["phone"],
            birth_date=person.birth_date,
            sex=person.sex,
        )


urlpatterns = [
    *site_urlpatterns,
    path("example/newsletter/", NewsletterSignupView.as_view(), name="example_signup"),
    path("example/newsletter/<str:token>/", NewsletterManageView.as_view(), name="example_manage"),
]
