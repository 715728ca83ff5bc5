"""Exams and certificates: a trainee is certified only after passing both parts and attending the
required hours; gapless numbers (20 concurrent issuers on PostgreSQL); renewal by a refresher
course; revocation; the public verification page; the PDF."""

from __future__ import annotations

import datetime
import shutil
import subprocess
import threading
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections
from django.test import override_settings
from django.utils import timezone

from redcross.documents import PdfStatus
from tests.training.conftest import PROCESS_CACHES, at, make_person
from training.models import (
    Attendance,
    Audience,
    Certificate,
    CertificateKind,
    CourseKind,
    ExamPart,
    ExamResult,
    SessionStatus,
)
from training.services.certificates import (
    certificate_expiry,
    certificate_issue,
    certificate_number_report,
    certificate_pdf_bytes,
    certificate_photo_set,
    certificate_render_pdf,
    certificate_revoke,
    certificates_issue_for_session,
    renewable_certificate,
)
from training.services.exams import exam_result_record
from training.services.sessions import attendance_record, session_create, session_set_status

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde\x00\x00"
    b"\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef\x00\x00\x00\x00IEND\xaeB`\x82"
)


def held_session(branch, by, instructor, *, kind=CourseKind.FIRST_AIDER, days=-3, hours=None):
    session = session_create(
        branch=branch, title=f"{CourseKind(kind).label}班", kind=kind, audience=Audience.COMMUNITY,
        venue="社区服务中心", starts_at=at(days), ends_at=at(days, 17), capacity=30, instructors=[instructor],
        hours=hours, by=by,
    )  # fmt: skip
    session_set_status(session=session, status=SessionStatus.OPEN, by=by)
    session_set_status(session=session, status=SessionStatus.HELD, by=by)
    return session


def trainee(session, by, *, name="陈小红", hours=None, theory=True, skills=True):
    """A trainee who attended ``hours`` (all by default) and passed (True), failed (False) or has no
    result (None) in each part."""
    person = make_person(session.branch, name=name)
    attendance_record(session=session, person=person, hours_attended=session.hours if hours is None else hours, by=by)
    for part, passed in ((ExamPart.THEORY, theory), (ExamPart.SKILLS, skills)):
        if passed is not None:
            exam_result_record(session=session, person=person, part=part, passed=passed, by=by)
    return person


@pytest.fixture
def session(branch_tree, city_staff, instructor):
    return held_session(branch_tree["city"], city_staff, instructor)


class TestExamResults:
    def test_a_score_decides_the_pass_at_the_configured_mark(self, session, city_staff):
        person = trainee(session, city_staff, theory=None, skills=None)
        result = exam_result_record(session=session, person=person, part="theory", score="79.5", by=city_staff)
        assert result.passed is False
        with override_settings(TRAINING_EXAM_PASS_SCORE=60):
            result = exam_result_record(session=session, person=person, part="theory", score=79.5, by=city_staff)
        assert result.passed is True and ExamResult.objects.count() == 1  # corrected, not added
        assert result.history.count() == 2 and result.history.first().history_user == city_staff

    @pytest.mark.parametrize(
        ("values", "field"),
        [
            ({"score": "101"}, "score"),
            ({"score": "-1"}, "score"),
            ({"score": "abc"}, "score"),
            ({"score": "NaN"}, "score"),
            ({"score": "1e400"}, "score"),
            ({"score": "80.55"}, "score"),
            ({"score": True}, "score"),
            ({}, "score"),
            ({"score": "95", "passed": False}, "passed"),
            ({"passed": "yes"}, "passed"),
            ({"passed": True, "part": "oral"}, "part"),
        ],
    )
    def test_bad_input_names_the_field_and_writes_nothing(self, session, city_staff, values, field):
        person = trainee(session, city_staff, theory=None, skills=None)
        values = {"part": "theory", **values}
        with pytest.raises(ValidationError) as refused:
            exam_result_record(session=session, person=person, by=city_staff, **values)
        assert field in refused.value.message_dict
        assert not ExamResult.objects.exists()

    def test_only_trainees_of_a_held_examined_session(self, branch_tree, city_staff, instructor, session):
        stranger = make_person(branch_tree["city"], name="路人甲")
        with pytest.raises(ValidationError) as refused:
            exam_result_record(session=session, person=stranger, part="theory", passed=True, by=city_staff)
        assert "路人甲" in refused.value.message_dict["person"][0]
        planned = session_create(
            branch=branch_tree["city"], title="未举办", kind=CourseKind.FIRST_AIDER, audience=Audience.COMMUNITY,
            venue="某处", starts_at=at(5), ends_at=at(5, 17), capacity=10, by=city_staff,
        )  # fmt: skip
        with pytest.raises(ValidationError) as refused:
            exam_result_record(session=planned, person=stranger, part="theory", passed=True, by=city_staff)
        assert "session" in refused.value.message_dict
        awareness = held_session(branch_tree["city"], city_staff, instructor, kind=CourseKind.AWARENESS)
        with pytest.raises(ValidationError) as refused:
            exam_result_record(session=awareness, person=stranger, part="theory", passed=True, by=city_staff)
        assert "session" in refused.value.message_dict

    def test_the_examiner_is_one_of_the_instructors(self, branch_tree, session, city_staff, instructor):
        person = trainee(session, city_staff, theory=None, skills=None)
        result = exam_result_record(
            session=session, person=person, part="skills", passed=True, examiner=instructor, by=city_staff
        )
        assert result.examiner == instructor
        with pytest.raises(ValidationError) as refused:
            exam_result_record(
                session=session, person=person, part="skills", passed=True, examiner=person, by=city_staff
            )
        assert "examiner" in refused.value.message_dict

    def test_another_branch_cannot_record(self, branch_tree, east_staff, city_staff, session):
        person = trainee(session, city_staff, theory=None, skills=None)
        with pytest.raises(PermissionDenied):
            exam_result_record(session=session, person=person, part="theory", passed=True, by=east_staff)
        assert not ExamResult.objects.exists()

    def test_a_certified_result_cannot_change_until_the_certificate_is_revoked(self, session, city_staff):
        person = trainee(session, city_staff)
        certificate = certificate_issue(session=session, person=person, by=city_staff)
        with pytest.raises(ValidationError) as refused:
            exam_result_record(session=session, person=person, part="theory", passed=False, by=city_staff)
        assert certificate.number in refused.value.message_dict["person"][0]
        certificate_revoke(certificate=certificate, reason="成绩登记错误", by=city_staff)
        assert not exam_result_record(session=session, person=person, part="theory", passed=False, by=city_staff).passed


class TestIssue:
    def test_both_parts_passed_and_the_hours_attended_certify(self, session, city_staff):
        person = trainee(session, city_staff, name="欧阳娜娜")
        certificate = certificate_issue(session=session, person=person, by=city_staff)
        today = timezone.localdate()
        assert certificate.kind == CertificateKind.FIRST_AIDER
        assert certificate.number == f"CS{today.year}JH{today.year}-000001".replace(f"CS{today.year}JH", "CSJH")
        assert certificate.sequence_number == 1 and certificate.session == session
        assert certificate.issued_on == today and certificate.expires_on == certificate_expiry(today)
        assert certificate.holder_display_name == "欧阳**" and certificate.level == "红十字救护员"
        assert certificate.pdf_status == PdfStatus.PENDING and certificate.pdf_requested_at is not None
        assert certificate.history.first().history_user == city_staff

    @pytest.mark.parametrize(
        ("theory", "skills", "hours", "fields"),
        [
            (False, True, None, {"theory"}),
            (True, False, None, {"skills"}),
            (None, True, None, {"theory"}),
            (True, None, None, {"skills"}),
            (True, True, "15.5", {"attendance"}),
            (False, False, "2", {"theory", "skills", "attendance"}),
        ],
    )
    def test_refused_when_a_part_failed_or_the_hours_are_short(
        self, session, city_staff, theory, skills, hours, fields
    ):
        person = trainee(session, city_staff, theory=theory, skills=skills, hours=hours)
        with pytest.raises(ValidationError) as refused:
            certificate_issue(session=session, person=person, by=city_staff)
        assert set(refused.value.message_dict) == fields
        assert not Certificate.objects.issued_here().exists()
        assert certificate_number_report(branch=session.branch, year=timezone.localdate().year) == []  # no number taken

    def test_the_course_hours_setting_decides_the_required_hours(self, session, city_staff):
        person = trainee(session, city_staff)  # attended all 16 hours
        with override_settings(TRAINING_COURSE_HOURS={"first_aider": 24}), pytest.raises(ValidationError) as refused:
            certificate_issue(session=session, person=person, by=city_staff)
        assert "24" in refused.value.message_dict["attendance"][0]
        with override_settings(TRAINING_CERTIFICATE_YEARS=4):
            certificate = certificate_issue(session=session, person=person, by=city_staff)
        assert certificate.expires_on.year == timezone.localdate().year + 4

    def test_once_per_session(self, session, city_staff):
        person = trainee(session, city_staff, name="王小明")
        certificate_issue(session=session, person=person, by=city_staff)
        with pytest.raises(ValidationError) as refused:
            certificate_issue(session=session, person=person, by=city_staff)
        assert "王小明" in refused.value.message_dict["person"][0]
        assert Certificate.objects.issued_here().count() == 1

    def test_an_instructor_course_gives_an_instructor_certificate_who_may_then_teach(
        self, branch_tree, city_staff, instructor
    ):
        from training.selectors.sessions import qualified_instructors

        course = held_session(branch_tree["city"], city_staff, instructor, kind=CourseKind.INSTRUCTOR)
        person = trainee(course, city_staff, name="新师资")
        certificate = certificate_issue(session=course, person=person, by=city_staff)
        assert certificate.kind == CertificateKind.INSTRUCTOR
        assert person in qualified_instructors()

    def test_awareness_and_unheld_sessions_issue_nothing(self, branch_tree, city_staff, instructor):
        awareness = held_session(branch_tree["city"], city_staff, instructor, kind=CourseKind.AWARENESS)
        person = make_person(branch_tree["city"])
        attendance_record(session=awareness, person=person, hours_attended=awareness.hours, by=city_staff)
        with pytest.raises(ValidationError) as refused:
            certificate_issue(session=awareness, person=person, by=city_staff)
        assert "session" in refused.value.message_dict

    def test_issue_date_between_the_session_end_and_today(self, session, city_staff):
        person = trainee(session, city_staff)
        for day in (
            timezone.localdate() + datetime.timedelta(days=1),
            timezone.localdate() - datetime.timedelta(days=30),
        ):
            with pytest.raises(ValidationError) as refused:
                certificate_issue(session=session, person=person, by=city_staff, issued_on=day)
            assert "issued_on" in refused.value.message_dict
        yesterday = timezone.localdate() - datetime.timedelta(days=1)
        assert (
            certificate_issue(session=session, person=person, by=city_staff, issued_on=yesterday).issued_on == yesterday
        )

    def test_another_branch_cannot_issue(self, session, city_staff, east_staff):
        person = trainee(session, city_staff)
        with pytest.raises(PermissionDenied):
            certificate_issue(session=session, person=person, by=east_staff)
        assert not Certificate.objects.issued_here().exists()

    def test_a_photo_must_be_an_image(self, session, city_staff):
        person = trainee(session, city_staff)
        fake = SimpleUploadedFile("photo.png", b"<html><script>alert(1)</script></html>")
        with pytest.raises(ValidationError) as refused:
            certificate_issue(session=session, person=person, by=city_staff, photo=fake)
        assert "photo" in refused.value.message_dict
        pdf = SimpleUploadedFile("photo.pdf", b"%PDF-1.4 fake")
        with pytest.raises(ValidationError):
            certificate_issue(session=session, person=person, by=city_staff, photo=pdf)
        assert not Certificate.objects.issued_here().exists()
        certificate = certificate_issue(
            session=session, person=person, by=city_staff, photo=SimpleUploadedFile("me.png", PNG)
        )
        assert certificate.photo.name.startswith("training/photos/")


class TestBulkAndNumbers:
    def test_bulk_issue_reports_who_was_refused_and_why(self, session, city_staff):
        passed = [trainee(session, city_staff, name=f"合格{n}") for n in range(3)]
        trainee(session, city_staff, name="理论不合格", theory=False)
        trainee(session, city_staff, name="缺课", hours="8")
        report = certificates_issue_for_session(session=session, by=city_staff)
        assert sorted(c.person.name for c in report.issued) == sorted(p.name for p in passed)
        assert {person.name: reason for person, reason in report.refused} == {
            "理论不合格": "理论考试不合格",
            "缺课": "出勤 8.0 学时，不足规定的 16.0 学时",
        }
        again = certificates_issue_for_session(session=session, by=city_staff)
        assert again.issued == [] and len(again.already) == 3

    def test_numbers_are_gapless_per_branch_and_year(self, branch_tree, city_staff, east_staff, instructor, session):
        city = [
            certificate_issue(session=session, person=trainee(session, city_staff), by=city_staff) for _ in range(3)
        ]
        east_session = held_session(branch_tree["east"], east_staff, instructor)
        east = certificate_issue(session=east_session, person=trainee(east_session, east_staff), by=east_staff)
        year = timezone.localdate().year
        assert [c.number for c in city] == [f"CSJH{year}-{n:06d}" for n in (1, 2, 3)]
        assert east.number == f"CSEJH{year}-000001"
        report = certificate_number_report(branch=branch_tree["city"], year=year)
        assert [(use.number, use.certificate) for use in report] == [(n + 1, c) for n, c in enumerate(city)]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_issuers_get_gapless_unique_numbers(branch_tree):
    """20 threads, each its own connection and transaction, issue at once: numbers 1..20, no gap, no
    duplicate; two more race on one trainee: one certificate."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent issuance is checked on PostgreSQL (SQLite serialises whole transactions)")
    from tests.factories import StaffFactory
    from tests.training.conftest import make_certificate

    staff = StaffFactory(branch=branch_tree["city"], roles=["district_staff"])
    teacher = make_person(branch_tree["city"], name="张老师")
    make_certificate(teacher)
    sessions = [held_session(branch_tree["city"], staff, teacher) for _ in range(2)]
    people = [(sessions[n % 2], trainee(sessions[n % 2], staff, name=f"学员{n}")) for n in range(21)]
    targets = people[:20] + [people[20], people[20]]
    numbers, refusals, errors = [], [], []
    lock = threading.Lock()
    barrier = threading.Barrier(len(targets))

    def issue(session, person):
        try:
            barrier.wait(timeout=30)
            certificate = certificate_issue(session=session, person=person, by=staff)
            with lock:
                numbers.append(certificate.sequence_number)
        except ValidationError as exc:
            with lock:
                refusals.append(exc)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=issue, args=target) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert sorted(numbers) == list(range(1, 22))
    assert len(refusals) == 1
    assert Certificate.objects.filter(person=people[20][1]).count() == 1
    assert len(set(Certificate.objects.issued_here().values_list("number", flat=True))) == 21


class TestRenewalAndRevocation:
    def test_a_refresher_course_renews_with_a_new_linked_certificate(
        self, branch_tree, city_staff, instructor, session
    ):
        person = trainee(session, city_staff, name="李复训")
        old = certificate_issue(
            session=session, person=person, by=city_staff, issued_on=timezone.localdate() - datetime.timedelta(days=1)
        )
        refresher = held_session(branch_tree["city"], city_staff, instructor, kind=CourseKind.REFRESHER, days=0)
        attendance_record(session=refresher, person=person, hours_attended=refresher.hours, by=city_staff)
        for part in ExamPart:
            exam_result_record(session=refresher, person=person, part=part, score=90, by=city_staff)
        assert renewable_certificate(person) == old
        new = certificate_issue(session=refresher, person=person, by=city_staff)
        old.refresh_from_db()
        assert new.renews == old and old.renewal == new
        assert new.kind == old.kind and new.number != old.number and new.sequence_number == old.sequence_number + 1
        assert new.expires_on == certificate_expiry(timezone.localdate())
        assert old.verification_status() == "valid" and old.revoked_at is None  # history kept as issued
        assert renewable_certificate(person) == new

    def test_a_refresher_needs_a_certificate_to_renew(self, branch_tree, city_staff, instructor):
        refresher = held_session(branch_tree["city"], city_staff, instructor, kind=CourseKind.REFRESHER)
        person = trainee(refresher, city_staff, name="无证者")
        with pytest.raises(ValidationError) as refused:
            certificate_issue(session=refresher, person=person, by=city_staff)
        assert "无证者" in refused.value.message_dict["renews"][0]

    def test_a_revoked_or_renewed_certificate_is_not_renewed(self, branch_tree, city_staff, instructor, session):
        person = trainee(session, city_staff)
        old = certificate_issue(session=session, person=person, by=city_staff)
        certificate_revoke(certificate=old, reason="冒名顶替", by=city_staff)
        refresher = held_session(branch_tree["city"], city_staff, instructor, kind=CourseKind.REFRESHER)
        attendance_record(session=refresher, person=person, hours_attended=refresher.hours, by=city_staff)
        for part in ExamPart:
            exam_result_record(session=refresher, person=person, part=part, passed=True, by=city_staff)
        with pytest.raises(ValidationError) as refused:
            certificate_issue(session=refresher, person=person, by=city_staff, renews=old)
        assert "renews" in refused.value.message_dict
        assert renewable_certificate(person) is None

    def test_revocation_with_a_reason_shows_at_once(self, client, session, city_staff, east_staff):
        certificate = certificate_issue(session=session, person=trainee(session, city_staff), by=city_staff)
        with pytest.raises(ValidationError) as refused:
            certificate_revoke(certificate=certificate, reason="  ", by=city_staff)
        assert "reason" in refused.value.message_dict
        with pytest.raises(PermissionDenied):
            certificate_revoke(certificate=certificate, reason="考核舞弊", by=east_staff)
        certificate_revoke(certificate=certificate, reason="考核舞弊", by=city_staff)
        certificate.refresh_from_db()
        assert certificate.revoked_reason == "考核舞弊" and certificate.verification_status() == "revoked"
        assert certificate.history.first().history_user == city_staff
        page = client.get(f"/verify/{certificate.verification_code}/").content.decode()
        assert "证书已撤销" in page and "考核舞弊" not in page


class TestVerification:
    def test_the_page_shows_the_key_facts_and_nothing_personal(self, client, session, city_staff):
        person = trainee(session, city_staff, name="司马相如")
        person.id_number = "11010519491231002X"
        person.birth_date = datetime.date(1949, 12, 31)
        person.save()
        certificate = certificate_issue(session=session, person=person, by=city_staff)
        response = client.get(f"/verify/{certificate.verification_code}/")
        page = response.content.decode()
        assert response.status_code == 200
        expires = certificate.expires_on
        for fact in ("证书真实有效", "救护员证", certificate.number, "司马**", "红十字救护员",
                     f"{expires.year}年{expires.month}月{expires.day}日"):  # fmt: skip
            assert fact in page, fact
        for secret in ("司马相如", person.phone, person.phone[-4:], "11010519491231002X", "1949", "002X",
                       session.title, session.venue, "张老师", certificate.holder_name_digest):  # fmt: skip
            assert secret not in page, secret
        assert response["X-Robots-Tag"] == "noindex"

    def test_by_number_only_with_the_holders_name(self, client, session, city_staff):
        certificate = certificate_issue(
            session=session, person=trainee(session, city_staff, name="王二"), by=city_staff
        )
        wrong = client.post("/verify/", {"number": certificate.number, "name": "王三"})
        assert "未找到匹配的证书" in wrong.content.decode()  # the same answer as for a number never issued
        assert "证书真实有效" not in wrong.content.decode() and "王*" not in wrong.content.decode()
        right = client.post("/verify/", {"number": certificate.number.lower(), "name": " 王二 "})
        assert "证书真实有效" in right.content.decode() and "王*" in right.content.decode()

    @override_settings(CACHES=PROCESS_CACHES)
    def test_guessing_is_rate_limited(self, client, session, city_staff, settings):
        settings.VERIFICATION_LIMIT = 3
        certificate = certificate_issue(
            session=session, person=trainee(session, city_staff, name="王二"), by=city_staff
        )
        year = timezone.localdate().year
        for n in range(2, 5):
            client.post("/verify/", {"number": f"CSJH{year}-{n:06d}", "name": "王二"})
        assert client.post("/verify/", {"number": certificate.number, "name": "王二"}).status_code == 429
        assert client.get(f"/verify/{certificate.verification_code}/").status_code == 429

    def test_recorded_certificates_of_another_body_are_not_on_the_page(self, client, branch_tree, city_staff):
        from training.services.certificates import instructor_certificate_record

        recorded = instructor_certificate_record(
            branch=branch_tree["city"], person=make_person(branch_tree["city"], name="省师资"), number="SZ2025001",
            issued_on=datetime.date(2025, 1, 1), expires_on=datetime.date(2028, 1, 1), by=city_staff,
        )  # fmt: skip
        assert client.get(f"/verify/{recorded.verification_code}/").status_code == 404
        assert not recorded.pdf_renderable()

    def test_expired(self, client, session, city_staff):
        certificate = certificate_issue(session=session, person=trainee(session, city_staff), by=city_staff)
        Certificate.objects.filter(pk=certificate.pk).update(expires_on=datetime.date(2020, 1, 1))
        assert "证书真实，但已过期" in client.get(f"/verify/{certificate.verification_code}/").content.decode()


class TestPdf:
    def test_issuing_renders_and_stores_the_pdf_after_commit(
        self, session, city_staff, django_capture_on_commit_callbacks
    ):
        person = trainee(session, city_staff)
        with django_capture_on_commit_callbacks(execute=True):
            certificate = certificate_issue(session=session, person=person, by=city_staff)
        certificate.refresh_from_db()
        # named by its number; the storage adds a suffix when an earlier test of this process left that name
        assert certificate.pdf_ready and Path(certificate.pdf.name).name.startswith(certificate.number)
        assert certificate.pdf.name.endswith(".pdf")
        assert certificate.pdf.read(5) == b"%PDF-"
        # idempotent: a second delivery of the task leaves the stored file alone
        name = certificate.pdf.name
        assert certificate_render_pdf(certificate_id=certificate.pk).pdf.name == name

    def test_a_new_photo_renders_the_pdf_again(self, session, city_staff, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            certificate = certificate_issue(session=session, person=trainee(session, city_staff), by=city_staff)
        certificate.refresh_from_db()
        before = certificate.pdf.size
        with django_capture_on_commit_callbacks(execute=True):
            certificate_photo_set(certificate=certificate, photo=SimpleUploadedFile("me.png", PNG), by=city_staff)
        certificate.refresh_from_db()
        assert certificate.pdf_ready and certificate.photo and certificate.pdf.size != before

    @pytest.mark.skipif(
        not (shutil.which("pdftotext") and shutil.which("pdftoppm") and shutil.which("zbarimg")),
        reason="needs poppler-utils and zbar-tools",
    )
    def test_the_pdf_shows_chinese_and_its_qr_code_opens_the_verification_page(self, session, city_staff, tmp_path):
        from redcross.verification import verification_url

        person = trainee(session, city_staff, name="欧阳镕喆")
        certificate = certificate_issue(
            session=session, person=person, by=city_staff, photo=SimpleUploadedFile("me.png", PNG)
        )
        path = tmp_path / "certificate.pdf"
        path.write_bytes(certificate_pdf_bytes(certificate))
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True).stdout
        text = text.decode().replace(" ", "")  # the title is letter-spaced
        for fact in ("救护员证", "欧阳镕喆", certificate.number, "红十字救护员", "理论考试和技能考核合格"):
            assert fact in text, fact
        assert person.phone not in text
        subprocess.run(["pdftoppm", "-r", "150", "-png", "-singlefile", str(path), str(tmp_path / "page")], check=True)
        decoded = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "page.png")], capture_output=True)
        assert decoded.stdout.decode().strip() == verification_url(certificate)


def test_attendance_rows_untouched_by_issuing(session, city_staff):
    person = trainee(session, city_staff)
    before = Attendance.objects.get(person=person).hours_attended
    certificate_issue(session=session, person=person, by=city_staff)
    assert Attendance.objects.get(person=person).hours_attended == before == Decimal("16.0")
