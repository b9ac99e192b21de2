"""The web UI: pages, htmx fragments, field errors, conflicts, permissions and query budgets."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from kith.core.models import TimelineEntry
from kith.parties import services
from kith.parties.models import Customer, Interaction, Phone, Relationship, Tag
from kith.parties.services import catalogues
from kith.parties.services.numbering import current_pattern
from kith.parties.tests.factories import company, person
from kith.security.testing import with_clearance

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def detail_url(customer: Customer) -> str:
    return reverse("parties:customer_detail", kwargs={"number": customer.customer_number})


def employs_type():
    return catalogues.relationship_type_create(
        actor=None,
        data={
            "code": "employs",
            "name": "employs",
            "inverse_name": "employed by",
            "from_kind": "company",
            "to_kind": "person",
        },
    )


def person_form(**overrides):
    data = {
        "kind": "person",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "status": "active",
        "phones-TOTAL_FORMS": "2",
        "phones-INITIAL_FORMS": "0",
        "phones-0-label": "mobile",
        "phones-0-number": "+44 20 7946 0958",
        "phones-1-label": "work",
        "phones-1-number": "",
        "emails-TOTAL_FORMS": "1",
        "emails-INITIAL_FORMS": "0",
        "emails-0-label": "work",
        "emails-0-address": "ada@example.com",
        "addresses-TOTAL_FORMS": "1",
        "addresses-INITIAL_FORMS": "0",
        "addresses-0-label": "home",
        "addresses-0-line1": "",
        "tags": "VIP, Mathematics",
    }
    data.update(overrides)
    return data


# --- access -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/customers/",
        "/customers/new/?kind=person",
        "/customers/C1/",
        "/customers/C1/edit/",
        "/anniversaries/",
        "/settings/",
        "/settings/custom-fields/",
        "/customers/autocomplete/?q=a",
    ],
)
def test_pages_require_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_page_and_sign_in(client, user):
    page = client.get(reverse("login"))
    assert page.status_code == 200
    assert b'name="username"' in page.content
    response = client.post(reverse("login"), {"username": "manager", "password": "a-long-Passw0rd!"})
    assert response.status_code == 302
    assert client.get("/").status_code == 200


def test_unknown_customer_number_is_404(signed_in):
    response = signed_in.get("/customers/NOPE123/")
    assert response.status_code == 404
    assert b"Not found" in response.content


# --- list and search ------------------------------------------------------------------------------


def test_list_live_search_and_filters(signed_in, user):
    company(user, legal_name="Acme Trading Ltd", phones=[{"number": "+1 415 555 0100"}])
    company(user, legal_name="Globex Corporation")
    person(user, given_name="Wile", family_name="Coyote")

    page = signed_in.get("/customers/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Acme Trading Ltd" in html and "Globex Corporation" in html and "Wile Coyote" in html
    assert "+1 415-555-0100" in html  # phones are shown formatted

    # The live search asks for the results fragment only.
    fragment = signed_in.get("/customers/?q=acm", HTTP_HX_TARGET="results", **HTMX)
    text = fragment.content.decode()
    assert "<html" not in text
    assert "Acme Trading Ltd" in text and "Globex" not in text
    fragment = signed_in.get("/customers/?q=acm&kind=&status=", HTTP_HX_TARGET="results", **HTMX)
    assert fragment["HX-Push-Url"] == "/customers/?q=acm"  # the address bar keeps only the filters in use

    persons = signed_in.get("/customers/?kind=person").content.decode()
    assert "Wile Coyote" in persons and "Acme" not in persons


def test_bad_filter_values_give_a_message_not_an_error(signed_in, user):
    company(user)
    response = signed_in.get("/customers/?created_from=yesterday&kind=alien&owner=x")
    assert response.status_code == 400
    html = response.content.decode()
    assert "Some filters could not be used" in html
    assert "Enter a valid date" in html and "Choose person or company" in html
    fragment = signed_in.get("/customers/?sort=sideways", HTTP_HX_TARGET="results", **HTMX)
    assert fragment.status_code == 200  # htmx swaps only 2xx answers
    assert "Some filters could not be used" in fragment.content.decode()
    broken = signed_in.get("/customers/?cursor=%%%")
    assert broken.status_code == 400


def test_next_page_follows_the_cursor(signed_in, user):
    for i in range(30):
        company(user, legal_name=f"Company {i:02d}")
    first = signed_in.get("/customers/?sort=name").content.decode()
    names_first = re.findall(r"Company \d\d", first)
    assert len(names_first) == 25
    match = re.search(r'href="([^"]*cursor=[^"]*)"', first)
    assert match, "a Next page link"
    second = signed_in.get(match.group(1).replace("&amp;", "&")).content.decode()
    names_second = re.findall(r"Company \d\d", second)
    assert len(names_second) == 5
    assert not set(names_first) & set(names_second)
    assert 'rel="next"' not in second


# --- create and edit --------------------------------------------------------------------------------


def test_create_person_with_contact_points_custom_fields_and_classification(signed_in, user):
    with_clearance(user)  # the page then shows the personal phones unmasked
    catalogues.custom_field_create(
        actor=None, data={"key": "shoe_size", "label": "Shoe size", "field_type": "integer"}
    )
    role = catalogues.role_create(actor=None, data={"code": "buyer", "name": "Buyer"})
    form = signed_in.get("/customers/new/?kind=person")
    assert b"Shoe size" in form.content and b"Legal name" not in form.content

    response = signed_in.post(
        "/customers/new/?kind=person", person_form(cf_shoe_size="38", roles=[str(role.pk)])
    )
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert response["Location"] == detail_url(customer)
    assert customer.display_name == "Ada Lovelace"
    assert customer.owner == user
    assert customer.custom_data == {"shoe_size": 38}
    assert list(customer.phones.values_list("number", flat=True)) == ["+442079460958"]
    assert list(customer.emails.values_list("address", flat=True)) == ["ada@example.com"]
    assert sorted(customer.tags.values_list("name", flat=True)) == ["Mathematics", "VIP"]
    assert list(customer.roles.all()) == [role]
    page = signed_in.get(response["Location"]).content.decode()
    assert "+44 20 7946 0958" in page and "Shoe size" in page and "Buyer" in page


def test_create_company(signed_in):
    data = {
        "kind": "company",
        "legal_name": "Initech GmbH",
        "status": "prospect",
        "annual_revenue": "1250000.50",
        "annual_revenue_currency": "eur",
        "founded_date": "1999-02-19",
        "phones-TOTAL_FORMS": "1",
        "phones-INITIAL_FORMS": "0",
        "emails-TOTAL_FORMS": "0",
        "emails-INITIAL_FORMS": "0",
        "addresses-TOTAL_FORMS": "1",
        "addresses-INITIAL_FORMS": "0",
        "addresses-0-label": "office",
        "addresses-0-line1": "Hauptstraße 1",
        "addresses-0-city": "Berlin",
        "addresses-0-country": "de",
    }
    response = signed_in.post("/customers/new/?kind=company", data)
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert customer.kind == "company" and customer.display_name == "Initech GmbH"
    assert customer.annual_revenue_currency == "EUR"
    assert customer.addresses.get().country == "DE"
    assert customer.special_dates.get().kind == "founding"


def test_invalid_phone_email_and_custom_value_give_field_errors_and_save_nothing(signed_in):
    catalogues.custom_field_create(
        actor=None, data={"key": "anniversary", "label": "Club anniversary", "field_type": "date"}
    )
    response = signed_in.post(
        "/customers/new/?kind=person",
        person_form(
            **{"phones-0-number": "12", "emails-0-address": "not-an-email", "cf_anniversary": "2020-13-45"}
        ),
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "wrong number of digits" in html  # phones.0.number
    assert "valid email address" in html  # emails.0.address
    assert "Enter a valid date (YYYY-MM-DD)." in html  # custom.anniversary
    assert 'value="not-an-email"' in html  # the input is kept
    assert Customer.objects.count() == 0 and Phone.objects.count() == 0 and Tag.objects.count() == 0


def test_invalid_and_future_dates_are_field_errors(signed_in):
    response = signed_in.post("/customers/new/?kind=person", person_form(birth_date="2020-13-45"))
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()
    future = (timezone.localdate() + dt.timedelta(days=3)).isoformat()
    response = signed_in.post("/customers/new/?kind=person", person_form(birth_date=future))
    assert response.status_code == 400
    assert "This date is in the future." in response.content.decode()
    assert Customer.objects.count() == 0


def test_add_row_button_keeps_input_and_saves_nothing(signed_in):
    response = signed_in.post("/customers/new/?kind=person", person_form(_add="phones"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="phones-2-number"' in html and 'value="Lovelace"' in html
    assert Customer.objects.count() == 0


def edit_form(customer: Customer, **overrides):
    data = {
        "kind": customer.kind,
        "version": str(customer.version),
        "given_name": customer.given_name,
        "family_name": customer.family_name,
        "status": customer.status,
        "owner": str(customer.owner_id or ""),
        "phones-TOTAL_FORMS": "1",
        "phones-INITIAL_FORMS": "1",
        "phones-0-label": "mobile",
        "phones-0-number": "+1 212 555 0101",
        "emails-TOTAL_FORMS": "0",
        "emails-INITIAL_FORMS": "0",
        "addresses-TOTAL_FORMS": "0",
        "addresses-INITIAL_FORMS": "0",
    }
    data.update(overrides)
    return data


def test_edit_saves_with_the_current_version(signed_in, user):
    with_clearance(user)  # a person's phones are sensitive: changing them needs clearance
    customer = person(user, given_name="Grace", family_name="Hopper", phones=[{"number": "+1 212 555 0101"}])
    page = signed_in.get(reverse("parties:customer_edit", kwargs={"number": customer.customer_number}))
    assert page.status_code == 200
    assert f'name="version" value="{customer.version}"' in page.content.decode()
    response = signed_in.post(
        reverse("parties:customer_edit", kwargs={"number": customer.customer_number}),
        edit_form(customer, given_name="Grace B.", **{"phones-0-number": "+1 212 555 0199"}),
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.given_name == "Grace B."
    assert customer.version == 2
    assert list(customer.phones.values_list("number", flat=True)) == ["+12125550199"]


def test_edit_with_a_stale_version_shows_the_conflict_and_overwrites_nothing(signed_in, user):
    customer = person(user, given_name="Grace", family_name="Hopper")
    loaded_version = customer.version
    # Someone else saves first.
    services.customer_update(
        actor=user, customer=customer, expected_version=loaded_version, data={"given_name": "Amazing Grace"}
    )
    stale = Customer.objects.get(pk=customer.pk)
    stale.version = loaded_version
    response = signed_in.post(
        reverse("parties:customer_edit", kwargs={"number": customer.customer_number}),
        edit_form(stale, given_name="Rear Admiral Grace"),
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Someone else changed this customer" in html
    assert 'value="Rear Admiral Grace"' in html  # the user's input is kept
    customer.refresh_from_db()
    assert customer.given_name == "Amazing Grace"
    assert customer.phones.count() == 0


# --- the customer page ------------------------------------------------------------------------------


def test_customer_page_shows_relationship_wording_from_both_sides(signed_in, user):
    rel_type = employs_type()
    acme = company(user, legal_name="Acme Trading Ltd")
    ann = person(user, given_name="Ann", family_name="Lee")
    services.relationship_add(actor=user, type=rel_type, from_customer=acme, to_customer=ann)
    acme_page = signed_in.get(detail_url(acme)).content.decode()
    assert re.search(r"employs</span>\s*<a[^>]*>Ann Lee</a>", acme_page)
    ann_page = signed_in.get(detail_url(ann)).content.decode()
    assert re.search(r"employed by</span>\s*<a[^>]*>Acme Trading Ltd</a>", ann_page)


def test_log_a_visit_with_htmx_prepends_it(signed_in, user):
    customer = company(user)
    url = reverse("parties:interaction_create", kwargs={"number": customer.customer_number})
    response = signed_in.post(
        url,
        {"kind": "visit", "subject": "Quarterly review", "content": "Went well.", "outcome": "positive"},
        **HTMX,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Quarterly review" in html and 'hx-swap-oob="true"' in html
    interaction = Interaction.objects.get()
    assert interaction.actor == user and interaction.kind == "visit"
    assert "Quarterly review" in signed_in.get(detail_url(customer)).content.decode()

    bad = signed_in.post(url, {"kind": "visit", "subject": ""}, **HTMX)
    assert bad.status_code == 200
    assert bad["HX-Retarget"] == "#visit-form"
    assert "This field is required." in bad.content.decode()
    assert Interaction.objects.count() == 1

    plain = signed_in.post(url, {"kind": "call", "subject": "Called back"})
    assert plain.status_code == 302
    assert Interaction.objects.count() == 2


def test_visit_on_archived_customer_is_refused_with_a_message(signed_in, user):
    customer = company(user)
    services.customer_set_status(actor=user, customer=customer, status="archived", expected_version=None)
    url = reverse("parties:interaction_create", kwargs={"number": customer.customer_number})
    response = signed_in.post(url, {"kind": "visit", "subject": "Hello"}, **HTMX)
    assert "archived" in response.content.decode()
    assert Interaction.objects.count() == 0


def test_add_relationship_through_the_autocomplete(signed_in, user):
    rel_type = employs_type()
    acme = company(user, legal_name="Acme Trading Ltd")
    ann = person(user, given_name="Ann", family_name="Lee")
    options = signed_in.get(
        reverse("parties:customer_autocomplete"), {"other_q": "acm", "exclude": ann.customer_number}, **HTMX
    ).content.decode()
    assert f'value="{acme.customer_number}"' in options and "Acme Trading Ltd" in options

    url = reverse("parties:relationship_add", kwargs={"number": ann.customer_number})
    response = signed_in.post(url, {"type": f"{rel_type.pk}:to", "other": acme.customer_number}, **HTMX)
    assert response.status_code == 200
    assert re.search(r"employed by</span>\s*<a[^>]*>Acme Trading Ltd</a>", response.content.decode())
    rel = Relationship.objects.get()
    assert (rel.from_customer, rel.to_customer) == (acme, ann)

    again = signed_in.post(url, {"type": f"{rel_type.pk}:to", "other": acme.customer_number}, **HTMX)
    assert "already recorded" in again.content.decode()
    missing = signed_in.post(url, {"type": f"{rel_type.pk}:to", "other": "NOPE"}, **HTMX)
    assert "Pick the other customer" in missing.content.decode()
    assert Relationship.objects.count() == 1


def test_special_date_add_shows_next_occurrence(signed_in, user):
    customer = person(user)
    url = reverse("parties:special_date_add", kwargs={"number": customer.customer_number})
    soon = timezone.localdate() + dt.timedelta(days=3)
    response = signed_in.post(
        url, {"kind": "wedding", "month": soon.month, "day": soon.day, "year": "2001"}, **HTMX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Wedding anniversary" in html and "in 3 days" in html
    bad = signed_in.post(url, {"kind": "custom", "month": "2", "day": "30"}, **HTMX)
    assert "That month has no day 30." in bad.content.decode()
    assert customer.special_dates.count() == 1


def test_timeline_filter_and_load_more(signed_in, user):
    customer = company(user)
    start = timezone.now() - dt.timedelta(days=60)
    for i in range(25):
        services.interaction_create(
            actor=user,
            customer=customer,
            data={
                "kind": "call" if i % 2 else "visit",
                "subject": f"Contact {i:02d}",
                "occurred_at": start + dt.timedelta(days=i),
            },
        )
    page = signed_in.get(detail_url(customer)).content.decode()
    assert "Contact 24" in page and "Contact 05" in page and "Contact 04" not in page  # newest 20
    more = re.search(r'hx-get="([^"]*cursor=[^"]*)"', page)
    assert more
    rest = signed_in.get(more.group(1).replace("&amp;", "&"), **HTMX).content.decode()
    assert "Contact 04" in rest and "Contact 00" in rest and "Contact 24" not in rest
    calls = signed_in.get(
        reverse("parties:customer_timeline", kwargs={"number": customer.customer_number}),
        {"kind": "parties.call"},
        **HTMX,
    ).content.decode()
    assert "Contact 23" in calls and "Contact 24" not in calls


def test_archive_reactivate_and_delete(signed_in, user):
    customer = company(user)
    status_url = reverse("parties:customer_status", kwargs={"number": customer.customer_number})
    signed_in.post(status_url, {"status": "archived", "version": customer.version})
    customer.refresh_from_db()
    assert customer.status == "archived"
    stale = signed_in.post(status_url, {"status": "active", "version": 1}, follow=True)
    assert "Someone else changed this customer" in stale.content.decode()
    signed_in.post(status_url, {"status": "active", "version": customer.version})
    customer.refresh_from_db()
    assert customer.status == "active"

    services.interaction_create(actor=user, customer=customer, data={"kind": "call", "subject": "Hi"})
    delete_url = reverse("parties:customer_delete", kwargs={"number": customer.customer_number})
    assert signed_in.get(delete_url).status_code == 200
    refused = signed_in.post(delete_url, follow=True)
    assert "has business records" in refused.content.decode()
    assert Customer.objects.filter(pk=customer.pk).exists()

    empty = company(user, legal_name="Empty Shell Ltd")
    response = signed_in.post(reverse("parties:customer_delete", kwargs={"number": empty.customer_number}))
    assert response.status_code == 302
    assert not Customer.objects.filter(pk=empty.pk).exists()


# --- home and anniversaries ----------------------------------------------------------------------------


def test_home_and_anniversaries_pages(signed_in, user):
    soon = timezone.localdate() + dt.timedelta(days=2)
    birthday = dt.date(1980, soon.month, 28 if (soon.month, soon.day) == (2, 29) else soon.day)
    celebrant = person(user, given_name="Bea", family_name="Birthday", birth_date=birthday)
    services.interaction_create(
        actor=user,
        customer=celebrant,
        data={"kind": "call", "subject": "Send the offer", "follow_up_date": timezone.localdate()},
    )
    home = signed_in.get("/").content.decode()
    assert "Bea Birthday" in home and "Send the offer" in home

    upcoming = signed_in.get("/anniversaries/?days=7")
    assert upcoming.status_code == 200
    assert "Bea Birthday" in upcoming.content.decode()
    on_day = signed_in.get(f"/anniversaries/?date={soon.isoformat()}").content.decode()
    assert "Bea Birthday" in on_day or (soon.month, soon.day) == (2, 29)
    bad = signed_in.get("/anniversaries/?date=31.12.&days=999")
    assert bad.status_code == 400
    assert "is not a date" in bad.content.decode()


# --- settings ---------------------------------------------------------------------------------------------


SETTINGS_URLS = [
    "/settings/",
    "/settings/custom-fields/",
    "/settings/classification/",
    "/settings/relationship-types/",
    "/settings/roles/",
    "/settings/tags/",
]


@pytest.mark.parametrize("url", SETTINGS_URLS)
def test_settings_are_forbidden_for_non_admins(signed_in, url):
    response = signed_in.get(url)
    assert response.status_code == 403
    assert signed_in.post(url, {"name": "x", "pattern": "X{seq}"}).status_code == 403


def test_settings_work_for_admins(client, admin_user):
    client.force_login(admin_user)
    for url in SETTINGS_URLS:
        assert client.get(url).status_code == 200, url

    # custom field: create, refuse a bad one, edit, retire
    response = client.post(
        "/settings/custom-fields/",
        {
            "key": "segment",
            "label": "Segment",
            "field_type": "choice",
            "applies_to": "any",
            "choices": "Gold\nSilver",
        },
    )
    assert response.status_code == 302
    bad = client.post(
        "/settings/custom-fields/",
        {"key": "Bad Key!", "label": "X", "field_type": "text", "applies_to": "any"},
    )
    assert bad.status_code == 400 and "Use lower-case letters" in bad.content.decode()
    from kith.parties.models import CategoryTree, CustomFieldDefinition, PartyRole, RelationshipType

    definition = CustomFieldDefinition.objects.get()
    response = client.post(
        f"/settings/custom-fields/{definition.pk}/",
        {"label": "Value segment", "choices": "Gold\nSilver\nBronze"},
    )
    assert response.status_code == 302
    definition.refresh_from_db()
    assert definition.label == "Value segment" and definition.choices == ["Gold", "Silver", "Bronze"]
    client.post(f"/settings/custom-fields/{definition.pk}/retire/")
    definition.refresh_from_db()
    assert not definition.is_active

    # classification: tree, child category, rename, retire
    client.post("/settings/classification/", {"name": "Industry", "allow_multiple": "on"})
    tree = CategoryTree.objects.get()
    client.post(f"/settings/classification/{tree.pk}/", {"action": "add", "name": "Telecom"})
    telecom = tree.categories.get()
    client.post(
        f"/settings/classification/{tree.pk}/", {"action": "add", "name": "Mobile", "parent": telecom.pk}
    )
    client.post(f"/settings/categories/{telecom.pk}/rename/", {"name": "Telco"})
    assert sorted(tree.categories.values_list("path", flat=True)) == ["Telco", "Telco/Mobile"]
    client.post(f"/settings/categories/{telecom.pk}/retire/")
    telecom.refresh_from_db()
    assert not telecom.is_active
    page = client.get(f"/settings/classification/{tree.pk}/").content.decode()
    assert "Mobile" in page

    # relationship types, roles, tags
    client.post(
        "/settings/relationship-types/",
        {
            "code": "parent",
            "name": "parent of",
            "inverse_name": "child of",
            "from_kind": "any",
            "to_kind": "any",
            "is_active": "on",
        },
    )
    rel_type = RelationshipType.objects.get()
    client.post(
        f"/settings/relationship-types/{rel_type.pk}/",
        {"name": "parent company of", "inverse_name": "subsidiary of", "from_kind": "any", "to_kind": "any"},
    )
    rel_type.refresh_from_db()
    assert rel_type.name == "parent company of" and not rel_type.is_active
    client.post("/settings/roles/", {"code": "payer", "name": "Payer", "is_active": "on"})
    assert PartyRole.objects.get().name == "Payer"
    client.post("/settings/tags/", {"name": "Key account", "color": "#1f6feb"})
    tag = Tag.objects.get()
    client.post(f"/settings/tags/{tag.pk}/delete/")
    assert not Tag.objects.exists()

    # numbering
    response = client.post("/settings/", {"pattern": "K{year}-{seq:05}"})
    assert response.status_code == 302
    assert current_pattern() == "K{year}-{seq:05}"
    bad = client.post("/settings/", {"pattern": "K{year}"})
    assert bad.status_code == 400 and "exactly once" in bad.content.decode()


# --- query budgets ------------------------------------------------------------------------------------


def test_list_query_count_does_not_grow_with_rows(signed_in, user, django_assert_max_num_queries):
    for i in range(3):
        company(user, legal_name=f"Small {i}", phones=[{"number": f"+1 415 555 01{i:02d}"}])
    signed_in.get("/customers/")  # warm: the user's permissions and reach come from the cache
    with django_assert_max_num_queries(13):  # + the security generation, read once per request
        signed_in.get("/customers/")
    for i in range(22):
        person(user, given_name=f"P{i}", family_name="Many", emails=[{"address": f"p{i}@example.com"}])
    with django_assert_max_num_queries(13):
        response = signed_in.get("/customers/")
    assert response.content.decode().count("@example.com</a>") == 22


def test_customer_page_query_count_is_flat(signed_in, user, django_assert_max_num_queries):
    rel_type = employs_type()
    acme = company(user, phones=[{"number": "+1 415 555 0100"}], emails=[{"address": "info@acme.example"}])
    for i in range(8):
        employee = person(user, given_name=f"E{i}", family_name="Worker", birth_date=dt.date(1990, 1, i + 1))
        services.relationship_add(actor=user, type=rel_type, from_customer=acme, to_customer=employee)
        services.interaction_create(
            actor=user, customer=acme, data={"kind": "visit", "subject": f"Visit {i}"}
        )
    services.special_date_add(actor=user, customer=acme, kind="custom", month=5, day=1, label="Anniversary")
    assert TimelineEntry.objects.count() == 8
    signed_in.get(detail_url(acme))  # warm: permissions and reach cached
    with django_assert_max_num_queries(19):  # + the security generation, read once per request
        response = signed_in.get(detail_url(acme))
    html = response.content.decode()
    assert html.count("E0 Worker") == 1 and "Visit 7" in html
