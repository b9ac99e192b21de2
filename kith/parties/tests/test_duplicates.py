"""Likely duplicates (found incrementally, with a score and the reasons) and merging two customers."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from kith.audit.models import AuditEntry
from kith.core.errors import ConflictError
from kith.core.models import TimelineEntry
from kith.jobs import services as jobs
from kith.parties import services
from kith.parties.models import Customer, DuplicateCandidate, DuplicateStatus, Relationship, RelationshipType
from kith.parties.selectors import duplicates as selectors
from kith.parties.selectors.search import CustomerFilters, customer_search
from kith.parties.services import catalogues, duplicates
from kith.parties.services.merge import customer_merge
from kith.parties.tests.factories import company, person
from kith.security.testing import make_user, with_clearance

pytestmark = pytest.mark.django_db


@pytest.fixture
def boss(db, settings, tmp_path):
    settings.KITH_JOBS_DIR = tmp_path / "jobs"
    return with_clearance(make_user("boss", "sales_manager"))


def _pair(a: Customer, b: Customer) -> DuplicateCandidate:
    return DuplicateCandidate.objects.get(first_id=min(a.pk, b.pk), second_id=max(a.pk, b.pk))


def test_pairs_are_found_with_a_score_and_reasons(boss):
    anna = person(boss, given_name="Anna", family_name="Berg", phones=[{"number": "+49 30 1234567"}])
    anna2 = person(
        boss, given_name="A.", family_name="Other", phones=[{"number": "030 1234567", "region": "DE"}]
    )
    mail1 = person(boss, given_name="Mo", family_name="One", emails=[{"address": "mo@example.com"}])
    mail2 = person(boss, given_name="Mo", family_name="Two", emails=[{"address": "MO@Example.com"}])
    id1 = person(boss, given_name="Id", family_name="A", id_document_number="110101199003121234")
    id2 = person(
        boss, given_name="Id", family_name="B", id_document_number="１１０１０１１９９００３１２１２３４"
    )
    jon = person(
        boss,
        given_name="Jonathan",
        family_name="Smithers",
        addresses=[{"line1": "1 Main St", "city": "Leeds"}],
    )
    jon2 = person(
        boss,
        given_name="Jonathan",
        family_name="Smither",
        addresses=[{"line1": "9 High St", "city": "Leeds"}],
    )
    acme = company(boss, legal_name="Acme Trading Ltd")
    acme2 = company(boss, legal_name="Acme Trading Ltd.")
    person(
        boss, given_name="Acme Trading", family_name="Ltd"
    )  # a person: never paired with a company by name
    assert duplicates.scan_changed() == 5
    assert _pair(anna, anna2).reasons == ["phone"] and _pair(anna, anna2).score == 90
    assert _pair(mail1, mail2).reasons == ["email"]
    assert _pair(id1, id2).reasons == ["id_number"] and _pair(id1, id2).score == 100
    assert _pair(jon, jon2).reasons == ["name_address"] and _pair(jon, jon2).score == 85
    assert _pair(acme, acme2).reasons == ["name"] and _pair(acme, acme2).score == 70
    assert DuplicateCandidate.objects.count() == 5
    # a second look changes nothing; a pair marked "not the same" stays so
    duplicates.dismiss(actor=boss, candidate=_pair(acme, acme2))
    Customer.objects.filter(pk=acme2.pk).update(updated_at=timezone.now())
    assert duplicates.scan_changed() == 0
    assert _pair(acme, acme2).status == DuplicateStatus.DISMISSED
    assert AuditEntry.objects.filter(object_type="parties.duplicatecandidate").exists()


def test_close_names_are_found_for_a_batch_of_many_name_ranges(
    boss, monkeypatch, django_assert_max_num_queries
):
    """More names than one statement reads (its ranges go in several), and a crowded name range: each
    customer is compared with the first NAME_NEIGHBOURS others of its kind in its range."""
    import random

    monkeypatch.setattr(duplicates, "_RANGES_PER_QUERY", 7)
    rng = random.Random(5)
    stems = sorted({"".join(rng.choice("bcdfghjklmnpqrstvwz") for _ in range(6)) for _ in range(40)})[:30]
    twins = []
    for stem in stems:
        first = person(boss, given_name=stem.title(), family_name="Kowalczyk")
        twins.append((first, person(boss, given_name=stem.title(), family_name="Kowalczik")))
    crowd = [person(boss, given_name="Zzzzz", family_name=f"Crowd{n:02d}") for n in range(35)]
    with django_assert_max_num_queries(40):
        found = duplicates.scan_changed()
    for first, second in twins:
        assert _pair(first, second).reasons == ["name"]
    # "zzzzz crowd00" .. "zzzzz crowd34" are close to each other: everyone is compared with the first 30
    crowd_pairs = DuplicateCandidate.objects.filter(first_id__in=[c.pk for c in crowd])
    assert crowd_pairs.exists() and found == len(twins) + crowd_pairs.count()
    late = {c.pk for c in crowd[31:]}
    assert not DuplicateCandidate.objects.filter(first_id__in=late, second_id__in=late).exists()


def test_only_customers_changed_since_the_last_look_are_compared(boss, django_assert_max_num_queries):
    person(boss, given_name="Eva", family_name="Early", emails=[{"address": "eva@example.com"}])
    duplicates.scan_changed()
    assert not duplicates.changed_since_scan()
    with django_assert_max_num_queries(2):
        assert duplicates.changed_since_scan() is False  # the schedule's check when nothing changed
    late = person(boss, given_name="Eve", family_name="Late", emails=[{"address": "EVA@example.com"}])
    assert duplicates.changed_since_scan()
    assert duplicates.scan_changed() == 1
    assert DuplicateCandidate.objects.get().second_id == late.pk


def test_the_full_look_is_a_job_with_progress(boss):
    for n in range(3):
        person(boss, given_name="Twin", family_name=f"Same{n}", phones=[{"number": f"+49 30 555000{n}"}])
    person(boss, given_name="Twin", family_name="Copy", phones=[{"number": "+49 30 5550001"}])
    job = duplicates.start_scan_all(actor=boss)
    jobs.run(job.pk)
    job.refresh_from_db()
    assert (job.status, job.done, job.total) == ("succeeded", 4, 4) and job.result["new_pairs"] >= 1


def test_the_report_shows_only_pairs_whose_customers_one_sees(boss):
    rep = make_user("rep", "sales_rep", manager=boss)
    peer = make_user("peer", "sales_manager")
    mine = person(rep, given_name="R", family_name="One", phones=[{"number": "+49 30 7777777"}])
    theirs = person(peer, given_name="P", family_name="Two", phones=[{"number": "+49 30 7777777"}])
    mine2 = person(rep, given_name="R", family_name="Three", phones=[{"number": "+49 30 7777777"}])
    duplicates.scan_changed()
    assert DuplicateCandidate.objects.count() == 3
    seen, _more = selectors.open_pairs(rep)
    assert [(p.first.pk, p.second.pk) for p in seen] == [(mine.pk, mine2.pk)]
    assert theirs.pk not in {c for p in selectors.open_pairs(boss)[0] for c in (p.first.pk, p.second.pk)}
    assert (selectors.open_count(rep), selectors.open_count(boss)) == (1, 1)
    admin = make_user("root", "admin")
    admin.is_superuser = True
    admin.save()
    assert selectors.open_count(admin) == 3 and len(selectors.open_pairs(admin)[0]) == 3
    # a pair a scan wrote beside a merge (the merge closes the pairs it sees): not shown
    Customer.objects.filter(pk=theirs.pk).update(merged_into=mine)
    assert selectors.open_count(admin) == 1 and selectors.open_count(rep) == 1
    assert selectors.pair_for(rep, _pair(mine, theirs).pk) is None
    assert selectors.pair_for(rep, _pair(mine, mine2).pk) is not None


def test_the_count_stops_at_a_cap_and_the_page_says_more_than(boss, client, monkeypatch):
    people = [
        person(boss, given_name="Same", family_name=f"Phone{n}", phones=[{"number": "+49 30 6666666"}])
        for n in range(4)
    ]
    duplicates.scan_changed()
    assert DuplicateCandidate.objects.filter(first__in=people).count() == 6
    assert selectors.open_count(boss) == 6
    assert selectors.open_count(boss, cap=3) == 4
    root = make_user("root", "admin")
    root.is_superuser = True
    root.save()
    assert (selectors.open_count(root, cap=3), selectors.open_count(root, cap=10)) == (4, 6)
    client.force_login(boss)
    page = client.get(reverse("parties:duplicates")).content.decode()
    assert "6 open pairs" in page
    monkeypatch.setattr(selectors, "COUNT_CAP", 3)
    assert selectors.open_count(boss) == 4
    page = client.get(reverse("parties:duplicates")).content.decode()
    assert "More than 3 open pairs" in page


@pytest.fixture
def pair(boss):
    catalogues.custom_field_create(actor=None, data={"key": "hobby", "label": "Hobby", "field_type": "text"})
    employs = RelationshipType.objects.create(
        code="employs", name="employs", inverse_name="works for", from_kind="company", to_kind="person"
    )
    knows = RelationshipType.objects.create(code="knows", name="knows", inverse_name="knows")
    keep = person(
        boss,
        given_name="Anna",
        family_name="Berg",
        phones=[{"number": "+49 30 1234567"}],
        notes="",
        custom={},
    )
    gone = person(
        boss,
        given_name="Anne",
        family_name="Berg",
        birth_date="1985-04-12",
        phones=[{"number": "+49 30 1234567"}, {"number": "+49 171 2345678"}],
        emails=[{"address": "anna@example.com"}],
        notes="met at the fair",
        custom={"hobby": "chess"},
    )
    acme = company(boss, legal_name="Acme Ltd")
    services.relationship_add(actor=boss, type=employs, from_customer=acme, to_customer=gone)
    services.relationship_add(actor=boss, type=knows, from_customer=keep, to_customer=gone)
    services.interaction_create(
        actor=boss, customer=gone, data={"kind": "call", "subject": "Asked for prices"}
    )
    services.special_date_add(actor=boss, customer=gone, kind="wedding", month=6, day=1)
    duplicates.scan_changed()
    keep.refresh_from_db()
    gone.refresh_from_db()
    return {"keep": keep, "gone": gone, "acme": acme, "employs": employs}


def test_merging_moves_everything_and_the_old_number_leads_to_the_survivor(boss, pair):
    keep, gone = pair["keep"], pair["gone"]
    survivor = customer_merge(
        actor=boss,
        survivor=keep,
        merged=gone,
        survivor_version=keep.version,
        merged_version=gone.version,
        choices={"given_name": "merged"},
    )
    assert survivor.given_name == "Anne" and survivor.family_name == "Berg"
    assert str(survivor.birth_date) == "1985-04-12"  # empty on the survivor: taken by default
    assert survivor.notes == "met at the fair" and survivor.custom_data["hobby"] == "chess"
    assert sorted(p.number for p in survivor.phones.all()) == ["+491712345678", "+49301234567"]
    assert [e.address for e in survivor.emails.all()] == ["anna@example.com"]
    assert survivor.interactions.get().subject == "Asked for prices"
    assert TimelineEntry.objects.filter(subject_id=survivor.pk, title="Asked for prices").exists()
    assert not TimelineEntry.objects.filter(subject_id=gone.pk).exists()
    assert (
        survivor.special_dates.filter(kind="wedding").exists()
        and survivor.special_dates.filter(kind="birthday").exists()
    )
    employment = Relationship.objects.get(type=pair["employs"])
    assert employment.to_customer_id == survivor.pk
    assert not Relationship.objects.filter(type__code="knows").exists()  # between the two: gone
    tomb = Customer.objects.get(pk=gone.pk)
    assert tomb.merged_into_id == survivor.pk and tomb.status == "archived"
    assert not tomb.phones.exists() and not tomb.special_dates.exists()
    # the old number keeps leading to the survivor: search, page, API
    page = customer_search(user=boss, filters=CustomerFilters(q=gone.customer_number))
    assert [r["id"] for r in page.rows] == [survivor.pk]
    names = customer_search(user=boss, filters=CustomerFilters(q="Berg")).rows
    assert [r["id"] for r in names] == [survivor.pk]  # the tombstone is found by its number only
    listed = customer_search(user=boss, filters=CustomerFilters(status="active")).rows
    assert gone.pk not in [r["id"] for r in listed]  # archived
    assert [
        r["id"] for r in customer_search(user=boss, filters=CustomerFilters(q="+49 171 2345678")).rows
    ] == [survivor.pk]
    event = AuditEntry.objects.get(action="merge")
    assert (
        event.changes["merged"] == gone.customer_number and "given_name" in event.changes["taken_from_merged"]
    )
    assert _pair(keep, gone).status == DuplicateStatus.MERGED


def test_a_merge_is_refused_whole_on_a_stale_version_a_kind_mismatch_or_without_permission(boss, pair):
    keep, gone = pair["keep"], pair["gone"]
    with pytest.raises(ConflictError):
        customer_merge(
            actor=boss,
            survivor=keep,
            merged=gone,
            survivor_version=keep.version,
            merged_version=gone.version - 1,
        )
    gone.refresh_from_db()
    assert gone.merged_into_id is None and gone.phones.count() == 2 and gone.interactions.count() == 1
    with pytest.raises(ValidationError, match="person and a company"):
        customer_merge(
            actor=boss, survivor=keep, merged=pair["acme"], survivor_version=None, merged_version=None
        )
    rep = make_user("rep2", "sales_rep", manager=boss)
    Customer.objects.filter(pk__in=[keep.pk, gone.pk]).update(owner=rep)
    keep.refresh_from_db()
    gone.refresh_from_db()
    with pytest.raises(PermissionDenied):  # reps may not delete, and a merge deletes one of the two
        customer_merge(actor=rep, survivor=keep, merged=gone, survivor_version=None, merged_version=None)


def test_duplicates_page_dismiss_and_merge_in_the_browser_forms(client, boss, pair):
    keep, gone = pair["keep"], pair["gone"]
    client.force_login(boss)
    page = client.get(reverse("parties:duplicates")).content.decode()
    assert keep.customer_number in page and gone.customer_number in page and "same phone" in page
    merge_url = (
        f"{reverse('parties:customer_merge')}?keep={keep.customer_number}&merge={gone.customer_number}"
    )
    form = client.get(merge_url).content.decode()
    assert 'name="choice:given_name"' in form and "met at the fair" in form
    response = client.post(
        reverse("parties:customer_merge"),
        {
            "keep": keep.customer_number,
            "merge": gone.customer_number,
            "keep_version": keep.version,
            "merge_version": gone.version,
            "choice:given_name": "merged",
        },
    )
    assert response.status_code == 302 and response["Location"].endswith(
        f"/customers/{keep.customer_number}/"
    )
    old = client.get(reverse("parties:customer_detail", args=[gone.customer_number]))
    assert old.status_code == 302 and old["Location"].endswith(f"/customers/{keep.customer_number}/")
    assert Customer.objects.get(pk=keep.pk).given_name == "Anne"


def test_duplicates_and_merge_api(boss, pair):
    keep, gone = pair["keep"], pair["gone"]
    api = APIClient()
    api.force_authenticate(boss)
    listed = api.get("/api/v1/duplicates/").json()["results"]
    assert listed and listed[0]["reasons"] == ["phone"] and listed[0]["reason_labels"] == ["same phone"]
    stale = api.post(
        "/api/v1/merges/",
        {"keep": keep.customer_number, "merge": gone.customer_number, "merge_version": 99},
        format="json",
    )
    assert stale.status_code == 409
    done = api.post(
        "/api/v1/merges/",
        {"keep": keep.customer_number, "merge": gone.customer_number, "choices": {"given_name": "merged"}},
        format="json",
    )
    assert done.status_code == 200 and done.json()["customer_number"] == keep.customer_number
    detail = api.get(f"/api/v1/customers/{gone.customer_number}/").json()
    assert detail["customer_number"] == keep.customer_number and detail["given_name"] == "Anne"
    assert api.get("/api/v1/duplicates/").json()["results"] == []
    assert api.post("/api/v1/duplicates/scan/").status_code == 202
    other = person(boss, given_name="X", family_name="Y", emails=[{"address": "anna@example.com"}])
    duplicates.scan_changed()
    candidate = DuplicateCandidate.objects.get(status="open")
    assert {candidate.first_id, candidate.second_id} == {keep.pk, other.pk}
    assert api.post(f"/api/v1/duplicates/{candidate.pk}/dismiss/").status_code == 204
    assert DuplicateCandidate.objects.get(pk=candidate.pk).status == "dismissed"


def test_an_erased_customer_is_not_merged(boss, pair):
    from kith.privacy.models import ErasureRecord

    ErasureRecord.objects.create(customer=pair["gone"], erased_at=timezone.now(), reason="asked")
    with pytest.raises(PermissionDenied, match="erased"):  # the write guard of erased customers
        customer_merge(
            actor=boss, survivor=pair["keep"], merged=pair["gone"], survivor_version=None, merged_version=None
        )
    assert Customer.objects.get(pk=pair["gone"].pk).merged_into_id is None


def test_a_merge_moves_records_at_once_and_keeps_the_survivors_where_they_clash(boss, pair):
    """Consents are moved in one statement; when both customers hold a current consent for the same purpose
    and channel, the survivor's stays and the merged one's goes, and the others still move."""
    from kith.privacy.models import ConsentRecord
    from kith.privacy.tests.factories import consent, privacy_officer

    keep, gone = pair["keep"], pair["gone"]
    dpo = privacy_officer()
    consent(dpo, keep, "given")
    consent(dpo, gone, "withdrawn")  # the same purpose and channel: clashes with the survivor's
    consent(dpo, gone, "given", channel="sms")
    keep.refresh_from_db()
    gone.refresh_from_db()
    customer_merge(
        actor=boss,
        survivor=keep,
        merged=gone,
        survivor_version=keep.version,
        merged_version=gone.version,
        choices={},
    )
    current = ConsentRecord.objects.filter(customer=keep, is_current=True)
    assert sorted(current.values_list("channel", "status")) == [("email", "given"), ("sms", "given")]
    assert not ConsentRecord.objects.filter(customer=gone).exists()


def test_a_name_written_family_name_first_is_a_likely_duplicate(boss):
    anna = person(boss, given_name="Annabel", family_name="Bergström")
    swapped = person(boss, given_name="Bergström", family_name="Annabel")  # "Bergström Annabel"
    other = person(boss, given_name="Annabel", family_name="Lindqvist")
    duplicates.scan_changed()
    pair = _pair(anna, swapped)
    assert pair.reasons == ["name"] and pair.status == DuplicateStatus.OPEN
    assert not DuplicateCandidate.objects.filter(first=anna, second=other).exists()
