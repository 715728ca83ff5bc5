"""The public sign-up pattern (redcross.public_forms), through the example in public_signup_example.py:
CSRF, the honeypot, the per-client limit, checked input, explicit consent, the private link."""

import datetime
import re

import pytest
from django.test import Client

from redcross.consent import consent_text_draft, consent_text_publish, has_consent
from redcross.models import ConsentRecord, Person
from tests.redcross.public_signup_example import PURPOSE

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.redcross.public_signup_example")]

SIGNUP = "/example/newsletter/"
ID_NUMBER = "11010519491231002X"


@pytest.fixture
def text(branch_tree):
    return consent_text_publish(
        text=consent_text_draft(purpose=PURPOSE, title="个人信息处理同意书", text="本会仅用于寄送急救知识月报。")
    )


def _data(text, **overrides):
    data = {
        "name": "张三",
        "phone": "139 1234 5678",
        "id_number": "",
        "birth_date": "",
        "consent": "on",
        "consent_version": str(text.version),
        "website": "",
    }
    data.update(overrides)
    return data


def _link(page: str) -> str:
    return re.search(r'href="http://testserver(/example/newsletter/[^"]+/)"', page).group(1)


def _nothing_written():
    assert Person.objects.count() == 0
    assert ConsentRecord.objects.count() == 0


def test_a_sign_up_records_the_person_and_the_consent_and_gives_a_private_link(client, text):
    page = client.get(SIGNUP).content.decode()
    assert "个人信息处理同意书" in page and "本会仅用于寄送急救知识月报。" in page
    assert 'name="website"' in page and 'class="hp-field"' in page
    response = client.post(SIGNUP, _data(text, id_number=ID_NUMBER.lower()))
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex" and "no-store" in response["Cache-Control"]
    page = response.content.decode()
    assert "提交成功" in page
    person = Person.objects.get()
    assert person.phone == "13912345678" and person.id_number == ID_NUMBER
    record = ConsentRecord.objects.get()
    assert (record.person, record.text, record.method) == (person, text, "online")
    assert has_consent(person, PURPOSE)
    assert _link(page) == f"/example/newsletter/{record.management_token}/"


def test_the_form_cannot_be_sent_without_csrf(text):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(SIGNUP, _data(text)).status_code == 403
    _nothing_written()


def test_without_the_explicit_consent_nothing_is_written(client, text):
    for missing in ({"consent": ""}, {"consent_version": str(text.version + 1)}):
        page = client.post(SIGNUP, _data(text, **missing)).content.decode()
        assert "个人信息处理同意书" in page and "请修改以下内容" in page
    _nothing_written()


def test_no_published_consent_text_closes_the_form(client, branch_tree):
    assert client.get(SIGNUP).status_code == 503
    assert client.post(SIGNUP, {"name": "张三"}).status_code == 503
    _nothing_written()


def test_a_filled_honeypot_answers_like_success_and_writes_nothing(client, text):
    response = client.post(SIGNUP, _data(text, website="http://spam.example"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "提交成功" in page
    _nothing_written()
    assert client.get(_link(page)).status_code == 404  # the link leads nowhere


@pytest.mark.parametrize(
    ("overrides", "label", "message"),
    [
        ({"id_number": "110105194912310022"}, "居民身份证号码", "校验位不正确"),
        ({"id_number": "123"}, "居民身份证号码", "应为18位"),
        ({"birth_date": (datetime.date.today() + datetime.timedelta(days=1)).isoformat()}, "出生日期", "不能晚于今天"),
        ({"name": "张" * 10_000}, "姓名", "50"),
        ({"name": '<script>alert("x")</script>'}, "姓名", "不能包含"),
        ({"phone": "12345"}, "手机号码", "有效的手机号码"),
        ({"id_number": ID_NUMBER, "birth_date": "1950-01-01"}, "出生日期", "与身份证号码不一致"),
    ],
)
def test_bad_input_names_the_field_and_writes_nothing(client, text, overrides, label, message):
    response = client.post(SIGNUP, _data(text, **overrides))
    assert response.status_code == 200
    page = response.content.decode()
    summary = page[page.index('id="signup-errors"') : page.index("</ul>", page.index('id="signup-errors"'))]
    assert label in summary and message in summary
    assert "<script>alert" not in page  # markup is shown escaped, never run
    _nothing_written()


def test_a_duplicate_submission_names_the_field_and_adds_nothing(client, text):
    client.post(SIGNUP, _data(text))
    page = client.post(SIGNUP, _data(text, id_number="")).content.decode()
    assert "手机号码" in page and "请勿重复提交" in page
    assert ConsentRecord.objects.count() == 1
    assert Person.objects.count() == 1


def test_a_refusal_after_the_save_rolls_the_save_back(client, text, monkeypatch):
    from django.core.exceptions import ValidationError

    from redcross import public_forms

    def refuse(**kwargs):
        raise ValidationError({"consent": "同意书已停用"})

    monkeypatch.setattr(public_forms, "consent_give", refuse)
    page = client.post(SIGNUP, _data(text)).content.decode()
    assert "同意书已停用" in page
    _nothing_written()  # the person saved before the refusal is gone with it


def test_submissions_count_against_the_per_client_limit(client, text, settings):
    settings.PUBLIC_FORM_LIMIT = 2
    client.post(SIGNUP, _data(text, phone="12"))
    client.post(SIGNUP, _data(text, phone="12"))
    response = client.post(SIGNUP, _data(text))
    assert response.status_code == 429
    _nothing_written()
    assert client.get(SIGNUP).status_code == 200  # reading the form costs nothing


def test_the_private_link_views_changes_and_withdraws(client, text):
    link = _link(client.post(SIGNUP, _data(text)).content.decode())
    page = client.get(link).content.decode()
    assert "张*" in page and "139****5678" in page and "13912345678" not in page
    bad = client.post(link, {"action": "change", "phone": "12345"}).content.decode()
    assert "新的手机号码" in bad and "有效的手机号码" in bad
    client.post(link, {"action": "change", "phone": "13700001111"})
    person = Person.objects.get()
    assert person.phone == "13700001111"
    page = client.post(link, {"action": "withdraw"}).content.decode()
    assert "已撤回" in page
    assert not has_consent(person, PURPOSE)  # at once
    # the kernel's own consent page shows the same record
    assert "已撤回" in client.get(f"/consent/{ConsentRecord.objects.get().management_token}/").content.decode()


def test_unknown_links_count_as_guesses(client, text, settings):
    settings.PUBLIC_FORM_LIMIT = 2
    link = _link(client.post(SIGNUP, _data(text)).content.decode())
    assert client.get("/example/newsletter/guess-1/").status_code == 404
    assert client.get("/example/newsletter/guess-2/").status_code == 429
    assert client.get(link).status_code == 429  # once over, right and wrong get the same answer
