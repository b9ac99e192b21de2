"""Customer import: matching and the rules, rejected rows and their file, dry run, re-running a file, resuming
after a killed worker, undo, the wizard, the API and the command line."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from kith.audit.models import AuditEntry
from kith.jobs import services as jobs
from kith.jobs.models import Job, JobStatus
from kith.parties.imports import services as imports
from kith.parties.models import Customer, ImportChange, Phone
from kith.parties.services import catalogues
from kith.parties.tests.factories import company, person
from kith.security.testing import make_user, with_clearance

pytestmark = pytest.mark.django_db

HEADER = ["Kind", "Name", "Family", "Given", "Company", "Mobile", "E-mail", "Birthday", "Tags", "Hobby"]
MAPPING = {
    "Kind": "kind",
    "Name": "display_name",
    "Family": "family_name",
    "Given": "given_name",
    "Company": "legal_name",
    "Mobile": "phone:mobile",
    "E-mail": "email",
    "Birthday": "birth_date",
    "Tags": "tags",
    "Hobby": "custom:hobby",
}
ROWS = [
    [
        "person",
        "",
        "Berg",
        "Anna",
        "",
        "+49 30 1234567",
        "anna@example.com",
        "1985-04-12",
        "VIP;Berlin",
        "chess",
    ],
    ["company", "", "", "", "Acme Trading Ltd", "+44 20 7946 0018", "info@acme.example", "", "", ""],
    ["person", "", "李", "伟", "", "138 0013 8000", "", "", "", ""],
]


@pytest.fixture(autouse=True)
def folders(settings, tmp_path):
    settings.KITH_JOBS_DIR = tmp_path / "jobs"
    settings.KITH_DEFAULT_REGION = "CN"


@pytest.fixture
def boss(db):
    catalogues.custom_field_create(actor=None, data={"key": "hobby", "label": "Hobby", "field_type": "text"})
    return with_clearance(make_user("boss", "sales_manager"))


def _csv(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _upload(content: bytes, name: str = "people.csv") -> str:
    return imports.save_upload([content], filename=name)


def _import(user: Any, content: bytes, *, mapping: dict[str, str] | None = None, **options: Any) -> Job:
    upload = _upload(content)
    job = imports.start_import(
        actor=user,
        upload=upload,
        filename="people.csv",
        options=imports.Options(mapping=dict(mapping or MAPPING), **options),
    )
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.message
    return job


def _rejected(job: Job) -> list[dict[str, str]]:
    path = jobs.file_path(job)
    if path is None:  # nothing rejected: no file
        assert not job.result["counts"].get("rejected")
        return []
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_rows_become_customers_through_the_services_audited_as_an_import(boss):
    job = _import(boss, _csv(ROWS))
    assert job.result["counts"] == {"created": 3} and job.done == job.total == 3
    anna = Customer.objects.get(family_name="Berg")
    assert (
        anna.kind == "person"
        and str(anna.birth_date) == "1985-04-12"
        and anna.custom_data["hobby"] == "chess"
    )
    assert [p.number for p in anna.phones.all()] == ["+49301234567"] and anna.phones.get().label == "mobile"
    assert sorted(anna.tags.values_list("name", flat=True)) == ["Berlin", "VIP"]
    assert Customer.objects.get(legal_name="Acme Trading Ltd").kind == "company"
    li = Customer.objects.get(family_name="李")
    assert li.phones.get().number == "+8613800138000"  # read in the default region
    created = AuditEntry.objects.filter(object_type="parties.customer", action="create")
    assert created.count() == 3 and set(created.values_list("source", flat=True)) == {"import"}
    assert ImportChange.objects.filter(job=job, action="created").count() == 3
    assert _rejected(job) == [] and job.file_name == ""  # nothing rejected: no file to download


def test_the_same_file_again_creates_no_duplicates(boss):
    _import(boss, _csv(ROWS))
    versions = dict(Customer.objects.values_list("pk", "version"))
    again = _import(boss, _csv(ROWS))
    assert again.result["counts"] == {"unchanged": 3}  # matched, nothing new: nothing written
    assert Customer.objects.count() == 3 and Phone.objects.count() == 3
    assert dict(Customer.objects.values_list("pk", "version")) == versions
    assert not ImportChange.objects.filter(job=again).exists()
    skipped = _import(boss, _csv(ROWS), rules={"exact": "skip", "fuzzy": "skip"})
    assert skipped.result["counts"] == {"skipped": 3} and Customer.objects.count() == 3
    # no phone, no email: the name matches (fuzzy), and the rule for it is to skip
    names_only = _import(boss, _csv([["person", "", "Berg", "Anna", "", "", "", "", "", ""]]))
    assert names_only.result["counts"] == {"skipped": 1} and Customer.objects.count() == 3


def test_rejected_rows_keep_their_values_and_reason_and_nothing_of_them_is_saved(boss):
    rows = [
        ["person", "", "Good", "Gina", "", "+49 30 7654321", "gina@example.com", "", "", ""],
        ["person", "", "Bad", "Bert", "", "not a phone", "bert@example", "", "", ""],
        ["person", "", "Late", "Lea", "", "", "", "31/31/1999", "", ""],
        ["", "", "", "", "", "", "", "", "", ""],
        ["person", "", "Formula", "=cmd|' /C calc'!A0", "", "", "", "", "", ""],
    ]
    job = _import(boss, _csv(rows))
    assert job.result["counts"] == {"created": 2, "rejected": 2}  # the empty row is no row
    bad = {r["row"]: r for r in _rejected(job)}
    assert set(bad) == {"2", "3"}
    assert bad["2"]["Family"] == "Bad" and "phones" in bad["2"]["reason"] and "emails" in bad["2"]["reason"]
    assert "birth_date" in bad["3"]["reason"] or "Birthday" in bad["3"]["reason"]
    assert not Customer.objects.filter(family_name__in=["Bad", "Late"]).exists()
    assert Customer.objects.get(family_name="Formula").given_name == "=cmd|' /C calc'!A0"  # stored as typed
    assert job.result["download_name"] == "people-rejected-rows.csv"


def test_a_dry_run_reports_and_saves_nothing(boss):
    job = _import(boss, _csv(ROWS), dry_run=True)
    assert job.result["counts"] == {"created": 3} and job.result["dry_run"] is True
    assert not Customer.objects.exists() and not ImportChange.objects.exists()
    with pytest.raises(ValidationError, match="not a check"):
        imports.start_undo(actor=boss, job=job)


def test_update_replaces_and_merge_fills_only_empty_fields(boss):
    existing = person(
        boss, family_name="Berg", given_name="Anna", status="active", emails=[{"address": "anna@example.com"}]
    )
    header = ["E-mail", "Status", "Mobile", "Gender"]
    mapping = {"E-mail": "email", "Status": "status", "Mobile": "phone:mobile", "Gender": "gender"}
    row = [["ANNA@example.com", "inactive", "+49 30 1234567", "Female"]]
    _import(boss, _csv(row, header), mapping=mapping, rules={"exact": "merge", "fuzzy": "skip"})
    existing.refresh_from_db()
    assert existing.status == "active" and existing.gender == "female"  # kept; filled
    assert existing.phones.count() == 1
    job = _import(boss, _csv(row, header), mapping=mapping)
    existing.refresh_from_db()
    assert job.result["counts"] == {"updated": 1} and existing.status == "inactive"
    assert existing.emails.count() == 1 and existing.phones.count() == 1  # added once, not twice


def test_a_row_matching_two_customers_is_rejected(boss):
    person(boss, family_name="One", emails=[{"address": "one@example.com"}])
    person(boss, family_name="Two", phones=[{"number": "+49 30 1111111"}])
    job = _import(
        boss,
        _csv([["one@example.com", "+49 30 1111111"]], ["E-mail", "Phone"]),
        mapping={"E-mail": "email", "Phone": "phone"},
        default_kind="person",
    )
    assert job.result["counts"] == {"rejected": 1} and "several customers" in _rejected(job)[0]["reason"]


def test_undo_deletes_what_was_created_and_restores_what_was_changed(boss):
    existing = person(boss, family_name="Berg", given_name="Anna", phones=[{"number": "+49 30 1234567"}])
    job = _import(boss, _csv(ROWS))
    assert job.result["counts"] == {"created": 2, "updated": 1}
    existing.refresh_from_db()
    assert existing.custom_data.get("hobby") == "chess" and existing.emails.count() == 1
    undo = imports.start_undo(actor=boss, job=job)
    jobs.run(undo.pk)
    undo.refresh_from_db()
    assert undo.status == JobStatus.SUCCEEDED and undo.result == {"deleted": 2, "restored": 1, "removed": 0}
    assert list(Customer.objects.values_list("pk", flat=True)) == [existing.pk]
    existing.refresh_from_db()
    assert "hobby" not in (existing.custom_data or {}) and existing.emails.count() == 0
    assert [p.number for p in existing.phones.all()] == ["+49301234567"]
    assert (
        AuditEntry.objects.filter(object_type="parties.customer", action="delete", source="import").count()
        == 2
    )
    with pytest.raises(ValidationError, match="undone already"):
        imports.start_undo(actor=boss, job=Job.objects.get(pk=job.pk))


def test_undo_is_refused_once_an_imported_customer_changed(boss):
    job = _import(boss, _csv(ROWS))
    anna = Customer.objects.get(family_name="Berg")
    from kith.parties import services

    services.customer_update(
        actor=boss, customer=anna, expected_version=anna.version, data={"notes": "called"}
    )
    with pytest.raises(ValidationError, match=anna.customer_number):
        imports.start_undo(actor=boss, job=job)
    other = make_user("other", "sales_manager")
    with pytest.raises(PermissionDenied):
        imports.start_undo(actor=other, job=job)


def test_a_killed_import_resumes_after_its_last_committed_batch(
    boss, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(imports, "BATCH", 2)
    rows = [["person", "", f"Row{n}", "Test", "", f"+49 30 100{n:04d}", "", "", "", ""] for n in range(7)]
    rows[1][5] = "nonsense"  # one rejected row in the first batch
    upload = _upload(_csv(rows))
    job = imports.start_import(
        actor=boss, upload=upload, filename="people.csv", options=imports.Options(mapping=MAPPING)
    )
    real = imports.process_row

    def dies_at_row_5(*args: Any, **kwargs: Any) -> Any:
        if args[1] == 5:
            raise KeyboardInterrupt  # the worker is killed mid-batch: nothing after the last commit stays
        return real(*args, **kwargs)

    monkeypatch.setattr(imports, "process_row", dies_at_row_5)
    with pytest.raises(KeyboardInterrupt):
        jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.RUNNING and job.result["checkpoint"]["rows"] == 4
    assert Customer.objects.count() == 3  # rows 1, 3 and 4; row 5 (mid-batch) rolled back
    monkeypatch.setattr(imports, "process_row", real)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - jobs.STALE_AFTER * 2)
    with django_capture_on_commit_callbacks(execute=False):
        assert jobs.recover_stale() == [job.pk]
    jobs.run(job.pk)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.attempts == 2
    assert job.result["counts"] == {"created": 6, "rejected": 1} and Customer.objects.count() == 6
    assert [r["row"] for r in _rejected(job)] == ["2"]  # once, though written before the kill


def test_preview_checks_the_first_rows_and_bad_options_are_field_errors(boss):
    upload = _upload(_csv([*ROWS, ["person", "", "X", "Y", "", "bad", "", "", "", ""]]))
    result = imports.preview(actor=boss, upload=upload, options=imports.Options(mapping=MAPPING))
    assert [o.action for _r, o in result.rows] == ["created", "created", "created", "rejected"]
    assert "phones.0.number" in result.rows[3][1].errors
    assert not Customer.objects.exists()
    bad = imports.Options(
        mapping={"Nope": "email", "Name": "shoe_size", "Hobby": "custom:nothing"}, threshold=20
    )
    bad.rules["exact"] = "explode"
    with pytest.raises(ValidationError) as caught:
        imports.preview(actor=boss, upload=upload, options=bad)
    assert {"mapping.Nope", "mapping.Name", "mapping.Hobby", "threshold", "rules.exact"} <= set(
        caught.value.message_dict
    )
    rep = make_user("rep", "sales_rep")
    with pytest.raises(PermissionDenied):
        imports.preview(actor=rep, upload=upload)
    with pytest.raises(ValidationError):
        imports.upload_path("../../etc/passwd")


def test_wizard_upload_map_import_and_undo(client, boss):
    client.force_login(boss)
    assert reverse("parties:import_upload") in client.get(reverse("parties:customer_list")).content.decode()
    bad = client.post(reverse("parties:import_upload"), {"file": io.BytesIO(b"x")})
    assert bad.status_code == 400
    upload = io.BytesIO(_csv(ROWS))
    upload.name = "people.csv"
    response = client.post(reverse("parties:import_upload"), {"file": upload})
    assert response.status_code == 302
    page = client.get(response["Location"])
    html = page.content.decode()
    assert (
        page.status_code == 200 and "people.csv" in html and html.count('<select name="map_') == len(HEADER)
    )
    form = {f"map_{i}": MAPPING[c] for i, c in enumerate(HEADER)}
    form.update(exact="update", fuzzy="skip", threshold="90", default_kind="")
    checked = client.post(response["Location"], {**form, "action": "preview"})
    assert checked.status_code == 200 and checked.content.decode().count('badge-accent">created') >= 3
    wrong = client.post(response["Location"], {**form, "map_0": "custom:nothing", "action": "import"})
    assert wrong.status_code == 400 and "field-error" in wrong.content.decode() and not Job.objects.exists()
    started = client.post(response["Location"], {**form, "action": "import"})
    job = Job.objects.get(kind=imports.JOB_KIND)
    assert started["Location"] == reverse("jobs:detail", args=[job.pk])
    jobs.run(job.pk)
    detail = client.get(started["Location"]).content.decode()
    assert "Undo this import" in detail and Customer.objects.count() == 3
    undone = client.post(reverse("parties:import_undo", args=[job.pk]))
    undo_job = Job.objects.get(kind=imports.UNDO_KIND)
    assert undone["Location"] == reverse("jobs:detail", args=[undo_job.pk])
    jobs.run(undo_job.pk)
    assert not Customer.objects.exists()
    client.force_login(make_user("rep", "sales_rep"))
    assert client.get(reverse("parties:import_upload")).status_code == 403


def test_import_api(boss):
    api = APIClient()
    api.force_authenticate(boss)
    upload = io.BytesIO(_csv(ROWS))
    upload.name = "people.csv"
    preview = api.post(
        "/api/v1/customers/imports/preview/",
        {"file": upload, "mapping": '{"Name": "display_name"}'},
        format="multipart",
    )
    assert preview.status_code == 200, preview.json()
    body = preview.json()
    assert body["format"] == "csv" and body["columns"] == HEADER and len(body["rows"]) == 3
    bad = api.post(
        "/api/v1/customers/imports/", {"upload": body["upload"], "exact": "explode"}, format="json"
    )
    assert bad.status_code == 400 and "exact" in bad.json()["errors"]
    made = api.post(
        "/api/v1/customers/imports/",
        {"upload": body["upload"], "filename": "people.csv", "mapping": MAPPING},
        format="json",
    )
    assert made.status_code == 202 and made.json()["status"] == "queued"
    jobs.run(made.json()["id"])
    assert api.get(made.json()["url"]).json()["result"]["counts"] == {"created": 3}
    undo = api.post(f"/api/v1/customers/imports/{made.json()['id']}/undo/")
    assert undo.status_code == 202
    rep = APIClient()
    rep.force_authenticate(make_user("rep", "sales_rep"))
    assert (
        rep.post("/api/v1/customers/imports/", {"upload": body["upload"]}, format="json").status_code == 403
    )


def test_command_line_import(boss, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(_csv([*ROWS, ["person", "", "X", "Y", "", "bad", "", "", "", ""]]))
    maps = [f"{c}={t}" for c, t in MAPPING.items()]
    out = io.StringIO()
    call_command("import", str(path), user="boss", map=maps, dry_run=True, stdout=out)
    assert "3 would be created" in out.getvalue() and "1 rejected" in out.getvalue()
    assert not Customer.objects.exists()
    rejected = tmp_path / "rejected.csv"
    call_command("import", str(path), user="boss", map=maps, rejected=str(rejected), stdout=out)
    assert Customer.objects.count() == 3 and "bad" in rejected.read_text(encoding="utf-8-sig")
    with pytest.raises(Exception, match=r"permission|may not"):
        call_command("import", str(path), user=make_user("rep", "sales_rep").username, map=maps)


@pytest.mark.parametrize(
    "name",
    [
        "google_contacts.csv",
        "outlook_desktop.csv",
        "hubspot_contacts_export.csv",
        "salesforce_Contact.csv",
        "vcards/synthetic_mixed_versions.vcf",
    ],
)
def test_other_crms_exports_import_with_their_recognised_columns(boss, formats, name):
    path = formats / name
    upload = imports.save_upload([path.read_bytes()], filename=path.name)
    first = imports.preview(actor=boss, upload=upload, filename=path.name, limit=0)
    assert first.preset  # recognised
    job = imports.start_import(
        actor=boss, upload=upload, filename=path.name, options=imports.Options(mapping=first.mapping)
    )
    jobs.run(job.pk)
    job.refresh_from_db()
    counts = job.result["counts"]
    assert job.status == JobStatus.SUCCEEDED and counts.get("created", 0) >= 1, (counts, _rejected(job))
    again = imports.start_import(
        actor=boss, upload=upload, filename=path.name, options=imports.Options(mapping=first.mapping)
    )
    jobs.run(again.pk)
    again.refresh_from_db()
    assert again.result["counts"].get("created", 0) == 0  # the second run finds them all


def test_a_birthday_without_a_year_becomes_a_yearly_date_and_unknown_values_go_to_the_notes(boss):
    header = ["First", "Last", "Birthday", "Gender", "Owner"]
    mapping = {
        "First": "given_name",
        "Last": "family_name",
        "Birthday": "birth_date",
        "Gender": "gender",
        "Owner": "owner",
    }
    job = _import(
        boss,
        _csv([["Jürgen", "Straßburger", " --11-02", "Sometimes", "Sam Seller"]], header),
        mapping=mapping,
    )
    assert job.result["counts"] == {"created": 1}
    jurgen = Customer.objects.get()
    assert jurgen.birth_date is None and jurgen.owner_id == boss.pk
    assert list(jurgen.special_dates.values_list("kind", "label", "month", "day")) == [
        ("custom", "Birthday", 11, 2)
    ]
    assert "Sometimes" in jurgen.notes and "Sam Seller" in jurgen.notes  # kept, not lost
    again = _import(
        boss,
        _csv([["Jürgen", "Straßburger", " --11-02", "", ""]], header),
        mapping=mapping,
        rules={"exact": "update", "fuzzy": "update"},
    )
    assert again.result["counts"] == {"unchanged": 1} and jurgen.special_dates.count() == 1


def test_a_customer_one_may_not_see_is_no_match_and_is_not_named(boss):
    peer = make_user("peer", "sales_manager")
    hidden = person(peer, family_name="Secret", phones=[{"number": "+49 30 1234567"}])
    upload = _upload(_csv(ROWS[:1]))
    result = imports.preview(actor=boss, upload=upload, options=imports.Options(mapping=MAPPING))
    outcome = result.rows[0][1]
    assert outcome.action == "created" and outcome.match == ""  # as if the number were unknown
    assert hidden.customer_number not in outcome.reason


def test_undo_of_an_import_that_touched_a_customer_twice(boss):
    rows = [ROWS[0], [*ROWS[0][:8], "VIP;Again", "go"]]  # the second row updates the customer the first made
    job = _import(boss, _csv(rows))
    assert job.result["counts"] == {"created": 1, "updated": 1}
    undo = imports.start_undo(actor=boss, job=job)
    jobs.run(undo.pk)
    undo.refresh_from_db()
    assert undo.status == JobStatus.SUCCEEDED and undo.result == {"deleted": 1, "restored": 0, "removed": 0}
    assert not Customer.objects.exists()


def test_the_api_refuses_an_upload_before_writing_it(boss, settings):
    rep = APIClient()
    rep.force_authenticate(make_user("rep", "sales_rep"))
    upload = io.BytesIO(_csv(ROWS))
    upload.name = "people.csv"
    assert (
        rep.post("/api/v1/customers/imports/preview/", {"file": upload}, format="multipart").status_code
        == 403
    )
    uploads = settings.KITH_JOBS_DIR / "uploads"
    assert not uploads.exists() or not any(uploads.iterdir())  # nothing written


def test_a_file_with_unknown_columns_is_mapped_by_hand(client, boss):
    client.force_login(boss)
    upload = io.BytesIO(b"Zeug;Ding\nAnna Berg;+49 30 1234567\n")
    upload.name = "odd.csv"
    response = client.post(reverse("parties:import_upload"), {"file": upload})
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert page.status_code == 200 and "No column was recognised" in page.content.decode()
    form = {"map_0": "full_name", "map_1": "phone", "exact": "update", "fuzzy": "skip", "threshold": "90"}
    form["default_kind"] = "person"
    checked = client.post(response["Location"], {**form, "action": "preview"})
    assert checked.status_code == 200 and 'badge-accent">created' in checked.content.decode()


def test_a_choice_for_one_row_overrides_the_rules(client, boss):
    _import(boss, _csv(ROWS))  # Anna, Acme and Li exist
    again = [list(row) for row in ROWS]
    again[0][9] = "go"  # Anna: a new hobby, which the rule (update) would write
    job = _import(boss, _csv(again), row_actions={"1": "skip", "2": "create"})
    assert job.result["counts"] == {"skipped": 1, "created": 1, "unchanged": 1}
    assert Customer.objects.get(family_name="Berg").custom_data["hobby"] == "chess"  # row 1 skipped
    assert Customer.objects.filter(legal_name="Acme Trading Ltd").count() == 2  # row 2 created anew
    with pytest.raises(ValidationError) as bad:
        imports.check_options(
            imports.Options(mapping=MAPPING, row_actions={"x": "skip", "3": "explode"}), HEADER
        )
    assert set(bad.value.message_dict) == {"row_actions", "row_actions.3"}
    # the wizard: a choice per row of the preview, kept when the preview is checked again
    client.force_login(boss)
    upload = io.BytesIO(_csv(again))
    upload.name = "people.csv"
    location = client.post(reverse("parties:import_upload"), {"file": upload})["Location"]
    form = {f"map_{i}": MAPPING[c] for i, c in enumerate(HEADER)}
    form.update(exact="update", fuzzy="skip", threshold="90", default_kind="")
    page = client.post(location, {**form, "row_1": "skip", "action": "preview"}).content.decode()
    assert 'name="row_1"' in page and '<option value="skip" selected>' in page
    assert page.count('badge">skipped') == 1 and page.count('badge">updated') == 0
    client.post(location, {**form, "row_1": "update", "action": "import"})
    wizard = Job.objects.filter(kind=imports.JOB_KIND).latest("pk")
    assert wizard.params["row_actions"] == {"1": "update"}
    # the API takes them too
    api = APIClient()
    api.force_authenticate(boss)
    made = api.post(
        "/api/v1/customers/imports/",
        {
            "upload": _upload(_csv(again)),
            "filename": "people.csv",
            "mapping": MAPPING,
            "row_actions": {"3": "skip"},
            "dry_run": True,
        },
        format="json",
    )
    assert made.status_code == 202, made.json()
    assert Job.objects.get(pk=made.json()["id"]).params["row_actions"] == {"3": "skip"}
    refused = api.post(
        "/api/v1/customers/imports/",
        {"upload": _upload(_csv(again)), "mapping": MAPPING, "row_actions": {"3": "explode"}},
        format="json",
    )
    assert refused.status_code == 400 and "row_actions.3" in refused.json()["errors"]


def test_a_name_in_another_word_order_is_a_close_match(boss):
    _import(boss, _csv(ROWS[:1]))
    for n in range(15):  # names sorting just before "berg anna": without the other word order they crowd
        person(boss, given_name="Bea", family_name=f"{n:02}")  # "anna berg" out of the neighbours read
    swapped = ["person", "", "Anna", "Berg", "", "", "", "", "", ""]  # family name first: "Berg Anna"
    job = _import(boss, _csv([swapped]), rules={"exact": "update", "fuzzy": "skip"})
    assert job.result["counts"] == {"skipped": 1}
    assert Customer.objects.filter(given_name="Berg").count() == 0
    three = ["person", "", "Maria Berg", "Anna", "", "", "", "", "", ""]  # "Anna Maria Berg" exists
    person(boss, given_name="Maria", family_name="Berg Anna")  # stored as "maria berg anna"
    job = _import(boss, _csv([three]), rules={"exact": "update", "fuzzy": "skip"})
    assert job.result["counts"] == {"skipped": 1}


def test_undo_takes_away_relationships_and_yearly_dates_added_to_customers_already_there(boss):
    from kith.parties.models import Relationship, RelationshipType

    RelationshipType.objects.create(
        code="employs", name="employs", inverse_name="works for", from_kind="company", to_kind="person"
    )
    acme = company(boss, legal_name="Acme Works", phones=[{"number": "+49 30 5550000"}])
    anna = person(boss, family_name="Berg", given_name="Anna", phones=[{"number": "+49 30 1234567"}])
    anna.special_dates.all().delete()
    header = ["Company", "Phone", "Employee", "First", "Last", "Birthday", "Mobile"]
    mapping = {"Company": "legal_name", "Phone": "phone:work", "Employee": "related:employs"}
    rows = [["Acme Works", "+49 30 5550000", anna.customer_number, "", "", "", ""]]
    job = _import(boss, _csv(rows, header), mapping=mapping)
    assert job.result["counts"] == {"unchanged": 1}  # nothing of Acme itself changed: only a relationship
    people = {
        "First": "given_name",
        "Last": "family_name",
        "Birthday": "birth_date",
        "Mobile": "phone:mobile",
    }
    birthday = _import(
        boss, _csv([["", "", "", "Anna", "Berg", "--03-14", "+49 30 1234567"]], header), mapping=people
    )
    assert Relationship.objects.filter(from_customer=acme, to_customer=anna).count() == 1
    assert anna.special_dates.filter(month=3, day=14).count() == 1
    for done in (birthday, job):
        undo = imports.start_undo(actor=boss, job=done)
        jobs.run(undo.pk)
        undo.refresh_from_db()
        assert undo.status == JobStatus.SUCCEEDED and undo.result["removed"] == 1, undo.message
    assert not Relationship.objects.filter(from_customer=acme).exists()
    assert not anna.special_dates.filter(month=3, day=14).exists()
    assert Customer.objects.filter(pk__in=[acme.pk, anna.pk]).count() == 2  # the customers themselves stay


# --- batches: what one batch reads and writes together ----------------------------------------------------


def test_rows_of_one_batch_naming_one_person_make_one_customer(boss):
    rows = [
        ["person", "", "Berg", "Anna", "", "+49 30 1234567", "anna@example.com", "", "", ""],
        ["person", "", "Berg", "Anna", "", "0049 (30) 123-4567", "", "", "VIP", ""],  # the phone, otherwise
        ["person", "", "", "", "", "", "ANNA@EXAMPLE.COM", "", "", "chess"],  # the e-mail in capitals
        ["person", "", "Anna", "Berg", "", "", "", "", "", ""],  # "Berg Anna": a close name, skipped
    ]
    job = _import(boss, _csv(rows))
    assert job.result["counts"] == {"created": 1, "updated": 2, "skipped": 1}
    anna = Customer.objects.get()
    assert [p.number for p in anna.phones.all()] == ["+49301234567"] and anna.emails.count() == 1
    assert list(anna.tags.values_list("name", flat=True)) == ["VIP"] and anna.custom_data["hobby"] == "chess"
    changes = ImportChange.objects.filter(job=job)
    assert sorted(changes.values_list("row", "action")) == [(1, "created"), (2, "updated"), (3, "updated")]
    undo = imports.start_undo(actor=boss, job=job)
    jobs.run(undo.pk)
    assert not Customer.objects.exists()


def test_a_row_with_an_existing_customers_phone_written_otherwise_updates_that_customer(boss):
    existing = person(boss, family_name="Berg", given_name="Anna", phones=[{"number": "+49 30 1234567"}])
    rows = [["person", "", "Berg", "Anna", "", "0049 30 123 4567", "anna@example.com", "", "", ""]]
    job = _import(boss, _csv(rows))
    assert job.result["counts"] == {"updated": 1} and Customer.objects.count() == 1
    assert existing.phones.count() == 1 and existing.emails.get().address == "anna@example.com"


def _distinct_people(count: int, start: int) -> list[list[str]]:
    """People with names far from each other (no close-name match among them), an e-mail and a tag."""
    import hashlib

    rows = []
    for i in range(start, start + count):
        digest = hashlib.sha256(str(i).encode()).hexdigest()
        rows.append(["person", "", digest[:10], digest[10:20], "", "", f"p{i}@example.com", "", "VIP", ""])
    return rows


def test_new_rows_of_a_batch_cost_no_statements_of_their_own(boss):
    """Matching reads a batch's candidates together and new customers are written together, without a
    savepoint a row: ten times the rows, the same statements (give or take a progress write)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def statements(rows: list[list[str]]) -> int:
        job = imports.start_import(
            actor=boss, upload=_upload(_csv(rows)), filename="people.csv", options=imports.Options(MAPPING)
        )
        with CaptureQueriesContext(connection) as run:
            jobs.run(job.pk)
        job.refresh_from_db()
        assert job.result["counts"] == {"created": len(rows)}, job.message
        return len(run)

    few, many = statements(_distinct_people(5, 0)), statements(_distinct_people(50, 100))
    assert many <= few + 3, (few, many)


def test_close_names_are_found_when_their_reads_take_several_statements(boss, monkeypatch):
    monkeypatch.setattr(imports._Matcher, "NEIGHBOUR_READS", 2)  # two names a statement
    names = [("Anna", "Berg"), ("Carl", "Dorn"), ("Emil", "Falk"), ("Greta", "Holm"), ("Ida", "Jung")]
    for given, family in names:
        person(boss, given_name=given, family_name=family)
    rows = [["person", "", f"{family}e", given, "", "", "", "", "", ""] for given, family in names]
    rows.append(["person", "", "Quux", "Zed", "", "", "", "", "", ""])
    job = _import(boss, _csv(rows))
    assert job.result["counts"] == {"skipped": 5, "created": 1}
    assert not Customer.objects.filter(family_name__endswith="e").exists()
    checked = imports.preview(
        actor=boss, upload=_upload(_csv(rows)), options=imports.Options(mapping=dict(MAPPING))
    )
    matched = {
        raw["Family"]: (getattr(outcome.customer, "display_name", ""), outcome.match)
        for raw, outcome in checked.rows[:5]
    }
    assert {family: found for family, (found, _how) in matched.items()} == {
        f"{family}e": f"{given} {family}" for given, family in names
    }
    assert all(how.startswith("name ") for _found, how in matched.values())


def test_a_row_rejected_after_its_update_leaves_the_customer_as_it_was(boss):
    from kith.parties.models import RelationshipType

    RelationshipType.objects.create(
        code="employs", name="employs", inverse_name="works for", from_kind="company", to_kind="person"
    )
    acme = company(boss, legal_name="Acme Works", phones=[{"number": "+49 30 5550000"}])
    header = ["Company", "Phone", "Web", "Employee"]
    mapping = {
        "Company": "legal_name",
        "Phone": "phone:work",
        "Web": "website",
        "Employee": "related:employs",
    }
    rows = [["Acme Works", "+49 30 5550000", "https://acme.example", "C-NO-SUCH-NUMBER"]]
    job = _import(boss, _csv(rows, header), mapping=mapping)
    assert job.result["counts"] == {"rejected": 1} and "C-NO-SUCH-NUMBER" in _rejected(job)[0]["reason"]
    acme.refresh_from_db()
    assert acme.version == 1 and "acme.example" not in acme.notes  # the update was rolled back with the row
    assert not ImportChange.objects.filter(job=job).exists()
    assert not AuditEntry.objects.filter(object_type="parties.customer", action="update").exists()
