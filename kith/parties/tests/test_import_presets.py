"""Known export layouts are recognised and turned into canonical records: the first record of every sample
in ../shared/data/formats has the right names, phones, e-mails, address, tags and birthday; unknown headers
(English or Chinese) get a best-effort mapping; dates, names and labels are read the way exports write them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kith.core.readers import ERROR_KEY, EXTRA_KEY, open_table
from kith.parties.imports.presets import PRESETS, detect, is_valid_target, suggest_mapping, targets
from kith.parties.imports.records import (
    DateProblem,
    Record,
    email_label,
    parse_date,
    phone_label,
    split_full_name,
    to_record,
)


def _records(path: Path) -> tuple[str | None, list[Record]]:
    table = open_table(path)
    code, mapping = suggest_mapping(table.columns)
    assert set(mapping) == set(table.columns)
    assert all(is_valid_target(target) for target in mapping.values())
    return code, [to_record(row, mapping) for row in table.rows()]


def _phones(record: Record) -> list[tuple[str, str, bool]]:
    return [(p["number"], p["label"], p["primary"]) for p in record["phones"]]


def _emails(record: Record) -> list[tuple[str, str, bool]]:
    return [(e["address"], e["label"], e["primary"]) for e in record["emails"]]


LEEDS = {
    "label": "work",
    "line1": "1 Example Street",
    "line2": "Unit 4",
    "city": "Leeds",
    "region": "",
    "postal_code": "LS1 4AP",
    "country": "United Kingdom",
}


# --- the samples -----------------------------------------------------------------------------------------


def test_google_contacts(formats: Path) -> None:
    code, (maribel, jurgen, misaki, acme, sean) = _records(formats / "google_contacts.csv")
    assert code == "google"
    assert (maribel["kind"], maribel["given_name"], maribel["family_name"]) == (
        "person",
        "Maribel Q.",  # the middle name goes with the given name: Kith has no field of its own for it
        "Okonkwo-Duarte",
    )
    assert (maribel["company_name"], maribel["job_title"]) == ("Fictional Widgets Ltd", "Buyer")
    assert _phones(maribel) == [
        ("+44 7700 900123", "mobile", True),
        ("+44 20 7946 0018", "work", False),  # two numbers in one cell, separated by " ::: "
        ("+44 20 7946 0019", "work", False),
    ]
    assert _emails(maribel) == [
        ("maribel.okonkwo@example.com", "work", True),
        ("mqod@example.net", "home", False),
    ]
    assert maribel["addresses"] == [LEEDS]
    assert maribel["tags"] == ["Customers"]  # "* myContacts" and "* starred" are Google's own
    assert maribel["birth_date"] == "1984-03-15"
    assert maribel["website"] == "https://example.com/maribel"
    assert maribel["notes"] == 'Met at trade fair, "very keen"; follow up in Q3'
    assert maribel["problems"] == {}
    # " --11-02": a birthday without a year
    assert jurgen["birth_date"] == ""
    assert jurgen["birthday_without_year"] == "11-02" and jurgen["problems"] == {}
    assert _emails(jurgen) == [("j.strassburger@example.de", "other", True)]
    assert (misaki["given_name"], misaki["family_name"]) == ("美咲", "高橋")
    # only an organisation (and "File As" repeating it): a company
    assert (acme["kind"], acme["legal_name"], acme["tags"]) == (
        "company",
        "ACME Holdings, Inc.",
        ["Suppliers"],
    )
    assert _phones(sean) == [("(555) 010-4477", "mobile", True)]


def test_google_legacy(formats: Path) -> None:
    code, (maribel, sean) = _records(formats / "google_contacts_legacy.csv")
    assert code == "google_legacy"
    assert (maribel["given_name"], maribel["family_name"]) == ("Maribel", "Okonkwo-Duarte")
    assert maribel["display_name"] == "Maribel Okonkwo-Duarte"
    assert _emails(maribel) == [
        ("maribel.okonkwo@example.com", "work", True),
        ("mqod@example.net", "home", False),
    ]
    assert _phones(maribel) == [("+44 7700 900123", "mobile", True)]
    assert (maribel["company_name"], maribel["job_title"], maribel["tags"]) == (
        "Fictional Widgets Ltd",
        "Buyer",
        ["Customers"],
    )
    assert sean["given_name"] == "Seán"


def test_outlook_desktop(formats: Path) -> None:
    code, (maribel, jurgen, exchange) = _records(formats / "outlook_desktop.csv")
    assert code == "outlook"
    assert (maribel["given_name"], maribel["family_name"], maribel["gender"]) == (
        "Maribel",
        "Okonkwo-Duarte",
        "female",
    )
    assert maribel["birth_date"] == "1984-03-15"  # 3/15/1984
    assert maribel["notes"] == "Prefers email; café meetings"
    assert _phones(maribel) == [("+44 20 7946 0018", "work", True), ("+44 7700 900123", "mobile", False)]
    assert _emails(maribel) == [("maribel.okonkwo@example.com", "other", True)]
    assert maribel["addresses"] == [LEEDS]
    assert maribel["tags"] == ["Customers", "VIP"]
    assert maribel["problems"] == {}
    # cp1252 accents; 0/0/00 is no date; "Unspecified" is no gender
    assert (jurgen["given_name"], jurgen["family_name"]) == ("Jürgen", "Straßburger")
    assert (jurgen["birth_date"], jurgen["gender"], jurgen["problems"]) == ("", "", {})
    # an Exchange (EX) entry carries an X.500 name, not an e-mail address
    assert exchange["emails"] == []
    assert "Exchange" in exchange["notices"]["E-mail Address"] and exchange["problems"] == {}


def test_outlook_title_is_the_courtesy_title_not_the_job(formats: Path) -> None:
    columns = open_table(formats / "outlook_desktop.csv").columns
    mapping = suggest_mapping(columns)[1]
    assert (mapping["Title"], mapping["Job Title"], mapping["Government ID Number"]) == ("", "job_title", "")


def test_outlook_com(formats: Path) -> None:
    code, (maribel, misaki) = _records(formats / "outlook_com.csv")
    assert code == "outlook_com"
    assert (maribel["given_name"], maribel["family_name"], maribel["birth_date"]) == (
        "Maribel",
        "Okonkwo-Duarte",
        "1984-03-15",
    )
    assert _phones(maribel) == [("+44 7700 900123", "mobile", True)]
    assert _emails(maribel) == [("maribel.okonkwo@example.com", "other", True)]
    assert maribel["addresses"] == [{**LEEDS, "line2": ""}]
    assert (misaki["given_name"], misaki["family_name"], misaki["company_name"]) == (
        "美咲",
        "高橋",
        "架空商事株式会社",
    )


def test_hubspot(formats: Path) -> None:
    code, (maribel, jurgen, unnamed) = _records(formats / "hubspot_contacts_export.csv")
    assert code == "hubspot"
    assert (maribel["given_name"], maribel["family_name"], maribel["company_name"]) == (
        "Maribel",
        "Okonkwo-Duarte",
        "Fictional Widgets Ltd",
    )
    assert (maribel["external_id"], maribel["customer_number"]) == ("51234567801", "")
    assert (maribel["owner"], maribel["job_title"]) == ("Sam Seller", "Buyer")
    assert _phones(maribel) == [("+44 7700 900123", "other", True)]
    assert _emails(maribel) == [("maribel.okonkwo@example.com", "other", True)]
    assert maribel["addresses"] == []  # a country alone is no address
    assert jurgen["family_name"] == "Straßburger"
    assert (unnamed["kind"], _emails(unnamed)) == ("", [("MIXEDCASE@Example.COM", "other", True)])


def test_salesforce_contact(formats: Path) -> None:
    code, (maribel, jurgen) = _records(formats / "salesforce_Contact.csv")
    assert code == "salesforce_contact"
    assert (maribel["external_id"], maribel["customer_number"]) == ("0035g00000AbCdEAAV", "")
    assert (maribel["given_name"], maribel["family_name"], maribel["job_title"]) == (
        "Maribel",
        "Okonkwo-Duarte",
        "Buyer",
    )
    assert _phones(maribel) == [("+44 20 7946 0018", "work", True), ("+44 7700 900123", "mobile", False)]
    assert _emails(maribel) == [("maribel.okonkwo@example.com", "other", True)]
    assert maribel["addresses"] == [LEEDS]
    assert maribel["birth_date"] == "1984-03-15"
    assert jurgen["given_name"] == "Jürgen"


def test_salesforce_account_is_a_company(formats: Path) -> None:
    code, (widgets, beispiel) = _records(formats / "salesforce_Account.csv")
    assert code == "salesforce_account"
    assert (widgets["kind"], widgets["legal_name"], widgets["customer_number"]) == (
        "company",
        "Fictional Widgets Ltd",
        "",
    )
    assert widgets["external_id"] == "0015g00000XyZabAAB"
    assert _phones(widgets) == [("+44 20 7946 0000", "work", True)]
    assert (widgets["website"], widgets["industry"]) == ("https://widgets.example.com", "Manufacturing")
    assert widgets["addresses"] == [{**LEEDS, "line2": ""}]
    assert (beispiel["kind"], beispiel["legal_name"]) == ("company", "Beispiel GmbH & Co. KG")
    assert beispiel["addresses"][0]["city"] == "Berlin"


def test_linkedin(formats: Path) -> None:
    code, (maribel, sean) = _records(formats / "linkedin_connections.csv")
    assert code == "linkedin"
    assert (maribel["given_name"], maribel["family_name"], maribel["company_name"], maribel["job_title"]) == (
        "Maribel",
        "Okonkwo-Duarte",
        "Fictional Widgets Ltd",
        "Buyer",
    )
    assert maribel["emails"] == []
    assert maribel["birth_date"] == ""  # "Connected On" is not a birthday
    assert maribel["website"] == "https://www.linkedin.com/in/example-maribel"
    assert _emails(sean) == [("sean.obrien@example.ie", "other", True)]


def test_vcards_of_every_version(formats: Path) -> None:
    code, (jurgen, maribel, misaki, acme, sean) = _records(formats / "vcards/synthetic_mixed_versions.vcf")
    assert code == "vcard"
    assert (jurgen["given_name"], jurgen["family_name"], jurgen["display_name"]) == (
        "Jürgen",
        "Straßburger",
        "Dr. Jürgen Straßburger",
    )
    assert _phones(jurgen) == [("+49 30 901820", "work", True), ("+49 151 00000000", "mobile", False)]
    assert jurgen["addresses"][0]["line1"] == "Beispielstraße 1"
    assert (maribel["given_name"], maribel["family_name"]) == ("Maribel Q.", "Okonkwo-Duarte")
    assert _phones(maribel) == [("+44 7700 900123", "mobile", True)]
    assert _emails(maribel) == [
        ("maribel.okonkwo@example.com", "work", True),
        ("mqod@example.net", "home", False),
    ]
    assert maribel["addresses"] == [LEEDS]
    assert (maribel["tags"], maribel["birth_date"]) == (["Customers", "VIP"], "1984-03-15")
    assert (misaki["family_name"], misaki["given_name"], misaki["tags"]) == ("高橋", "美咲", [])
    assert (acme["kind"], acme["legal_name"], acme["given_name"]) == ("company", "ACME Holdings, Inc.", "")
    assert sean["external_id"] == "urn:uuid:6f0a4b8e-1c1e-4c5a-9b7e-3d7a1c2b0001"
    assert _emails(sean) == [("sean.obrien@example.ie", "home", True)]
    assert sean["birthday_without_year"] == "04-29" and "birth_date" not in sean["problems"]


def test_vcard_without_n_splits_the_formatted_name(formats: Path) -> None:
    code, (frank, _tim) = _records(formats / "vcards/rfc2426_section7_examples.vcf")
    assert code == "vcard"
    assert (frank["given_name"], frank["family_name"], frank["kind"]) == ("Frank", "Dawson", "person")
    assert _phones(frank) == [("+1-919-676-9515", "work", True), ("+1-919-676-9564", "fax", False)]
    assert _emails(frank)[0] == ("Frank_Dawson@Lotus.com", "other", True)


def test_vcard40_organisation_and_full_card(formats: Path) -> None:
    _code, (org,) = _records(formats / "vcards/vobject_tests/vcard40_org.vcf")
    assert (org["kind"], org["legal_name"], org["display_name"]) == ("company", "ABC, Inc.", "ABC Marketing")
    _code, (john,) = _records(formats / "vcards/vobject_tests/vcard40_full.vcf")
    assert (john["birth_date"], john["gender"], john["job_title"]) == ("1985-04-15", "male", "CEO")
    assert _emails(john) == [
        ("john.public@example.com", "work", False),
        ("johnny@personal.example.org", "home", True),
    ]
    assert [a["label"] for a in john["addresses"]] == ["work", "home"]


def test_a_broken_card_becomes_a_problem_of_its_row(tmp_path: Path) -> None:
    path = tmp_path / "cards.vcf"
    path.write_text(
        "BEGIN:VCARD\nVERSION:3.0\nFN:Ann Able\nEND:VCARD\n"
        "BEGIN:VCARD\nVERSION:3.0\nFN:Bad\nBEGIN:VEVENT\nEND:VCARD\n",
        encoding="utf-8",
    )
    code, (ann, bad) = _records(path)
    assert code == "vcard"
    assert (ann["family_name"], ann["problems"]) == ("Able", {})
    assert ERROR_KEY in bad["problems"]


# --- detection and suggestions ---------------------------------------------------------------------------


def test_repeating_groups_are_mapped_whatever_their_number() -> None:
    columns = ["First Name", "Last Name", "Labels", "Organization Name", "Phone 7 - Label", "Phone 7 - Value"]
    columns += ["E-mail 12 - Value", "Address 3 - City", "Address 3 - PO Box", "Website 2 - Value"]
    code, mapping = suggest_mapping(columns)
    assert code == "google"
    assert mapping["Phone 7 - Label"] == "phone_label#7"
    assert mapping["Phone 7 - Value"] == "phone#7"
    assert mapping["E-mail 12 - Value"] == "email#12"
    assert mapping["Address 3 - City"] == "address#3:city"
    assert (mapping["Address 3 - PO Box"], mapping["Website 2 - Value"]) == ("", "")
    assert all(is_valid_target(t) for t in mapping.values())


def test_the_other_systems_ids_are_never_customer_numbers() -> None:
    for columns in (
        ["Record ID", "First Name", "Last Name"],
        ["Id", "FirstName", "LastName", "AccountId"],
        ["Id", "Name", "BillingStreet", "BillingCity", "BillingCountry"],
    ):
        code, mapping = suggest_mapping(columns)
        assert code in PRESETS
        assert "customer_number" not in mapping.values()
        assert mapping[columns[0]] == "external_id"


def test_detection_picks_the_most_specific_layout() -> None:
    linkedin = ["First Name", "Last Name", "URL", "Email Address", "Company", "Position", "Connected On"]
    preset = detect(linkedin)
    assert preset is not None and preset.code == "linkedin"
    assert detect(["First Name", "Last Name", "Email"]) is None
    vcard = detect(["N:family", "N:given", "TEL#1", "TEL#1:type"])  # a vCard file with no FN at all
    assert vcard is not None and vcard.code == "vcard"


def test_unknown_chinese_headers_get_synonyms() -> None:
    columns = ["姓名", "手机", "电话", "邮箱", "公司", "生日", "备注", "地址", "会员等级", "喜欢的颜色"]
    code, mapping = suggest_mapping(columns, custom_fields=[("membership_level", "会员等级")])
    assert code is None
    assert mapping == {
        "姓名": "full_name",
        "手机": "phone:mobile",
        "电话": "phone",
        "邮箱": "email",
        "公司": "company_name",
        "生日": "birth_date",
        "备注": "notes",
        "地址": "address:other:formatted",
        "会员等级": "custom:membership_level",
        "喜欢的颜色": "",
    }


def test_unknown_english_headers_get_synonyms_and_custom_keys() -> None:
    columns = [
        "Name",
        "Telephone",
        "E-mail",
        "Company",
        "Birthday",
        "Tags",
        "vip_code",
        "Phone (2)",
        "Colour",
    ]
    code, mapping = suggest_mapping(columns, custom_fields=[("vip_code", "VIP code")])
    assert code is None
    assert mapping == {
        "Name": "full_name",
        "Telephone": "phone",
        "E-mail": "email",
        "Company": "company_name",
        "Birthday": "birth_date",
        "Tags": "tags",
        "vip_code": "custom:vip_code",
        "Phone (2)": "phone",
        "Colour": "",
    }


def test_a_chinese_file_end_to_end(tmp_path: Path) -> None:
    path = tmp_path / "客户.csv"
    path.write_bytes(
        "姓名,手机,邮箱,生日\r\n张伟,13800138000,zhang.wei@example.cn,1984/3/15\r\n".encode("gbk")
    )
    table = open_table(path)
    _code, mapping = suggest_mapping(table.columns)
    (record,) = [to_record(row, mapping, default_region="CN") for row in table.rows()]
    assert (record["kind"], record["family_name"], record["given_name"]) == ("person", "张", "伟")
    assert _phones(record) == [("13800138000", "mobile", True)]
    assert record["birth_date"] == "1984-03-15"


def test_targets_are_grouped_valid_and_include_custom_fields_and_relationships() -> None:
    groups = targets(custom_keys=[("vip_code", "VIP code")], relationship_types=[("employs", "employs")])
    flat = dict(choice for _label, choices in groups for choice in choices)
    assert all(isinstance(label, str) and isinstance(choices, list) for label, choices in groups)
    assert all(is_valid_target(target) for target in flat)
    for target in (
        "",
        "full_name",
        "external_id",
        "phone:fax",
        "phone#5",
        "email_label#5",
        "address#5:country",
    ):
        assert target in flat
    assert "address_label#1" in flat and "address:home:postal_code" in flat and "roles" in flat
    assert flat["custom:vip_code"] == "VIP code"
    assert "employs" in flat["related:employs"]
    assert "phone#6" not in flat  # the form offers five of each group


@pytest.mark.parametrize(
    "target",
    ["", "given_name", "phone", "phone:mobile", "email:home", "address:other:formatted", "phone#12", "tags",
     "custom:vip_code", "related:employs", "address#2:line2"],
)  # fmt: skip
def test_valid_targets(target: str) -> None:
    assert is_valid_target(target)


@pytest.mark.parametrize(
    "target",
    ["nickname", "phone:car", "email:billing", "address:work:planet", "address:office:city", "phone#0",
     "phone#x", "custom:", "custom:two words", "related:", "Tags", "address#1"],
)  # fmt: skip
def test_invalid_targets(target: str) -> None:
    assert not is_valid_target(target)


# --- records --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "region", "expected"),
    [
        ("1984-03-15", "", "1984-03-15"),
        ("1984/3/15", "", "1984-03-15"),
        ("3/15/1984", "", "1984-03-15"),
        ("3/4/1984", "US", "1984-03-04"),
        ("3/4/1984", "GB", "1984-04-03"),
        ("15/3/1984", "US", "1984-03-15"),
        ("15.03.1984", "", "1984-03-15"),
        ("17 May 2024", "", "2024-05-17"),
        ("02 Jan 2023", "", "2023-01-02"),
        ("May 17, 2024", "", "2024-05-17"),
        ("2024-05-17T16:02:11.000Z", "", "2024-05-17"),
        ("2023-11-02 09:14", "", "2023-11-02"),
        ("19850415", "", "1985-04-15"),
        ("1984年3月15日", "", "1984-03-15"),
        ("0/0/00", "", ""),
        ("  ", "", ""),
    ],
)
def test_dates_in_export_formats(text: str, region: str, expected: str) -> None:
    assert parse_date(text, default_region=region) == expected


@pytest.mark.parametrize("text", [" --11-02", "--0203", "2/30/1984", "next week", "1984", "13/13/1984"])
def test_dates_that_cannot_be_kept(text: str) -> None:
    with pytest.raises(DateProblem):
        parse_date(text)


@pytest.mark.parametrize(
    ("full", "given", "family"),
    [
        ("张伟", "伟", "张"),
        ("王小明", "小明", "王"),
        ("欧阳娜娜", "娜娜", "欧阳"),
        ("Maribel Okonkwo-Duarte", "Maribel", "Okonkwo-Duarte"),
        ("Okonkwo-Duarte, Maribel", "Maribel", "Okonkwo-Duarte"),
        ("Dr. John Q. Public, III", "John Q.", "Public"),
        ("Ludwig van Beethoven", "Ludwig", "van Beethoven"),
        ("Madonna", "", "Madonna"),
    ],
)
def test_full_names_are_split(full: str, given: str, family: str) -> None:
    assert split_full_name(full) == (given, family)


@pytest.mark.parametrize(
    ("text", "phone", "email"),
    [
        ("* Work", "work", "work"),
        ("Mobile", "mobile", "other"),
        ("cell,voice,pref", "mobile", "other"),
        ("fax,work", "fax", "work"),
        ("Business", "work", "work"),
        ("home,internet", "home", "home"),
        ("手机", "mobile", "other"),
        ("工作", "work", "work"),
        ("家庭", "home", "home"),
        ("homepage", "other", "other"),
        ("", "other", "other"),
    ],
)
def test_labels_as_other_systems_write_them(text: str, phone: str, email: str) -> None:
    assert (phone_label(text), email_label(text)) == (phone, email)


def test_kind_is_inferred_from_the_names() -> None:
    mapping = {"Name": "full_name", "Company": "company_name", "Kind": "kind"}
    company = to_record({"Name": "", "Company": "Beispiel GmbH", "Kind": ""}, mapping)
    assert (company["kind"], company["legal_name"]) == ("company", "Beispiel GmbH")
    person = to_record({"Name": "Ann Able", "Company": "Beispiel GmbH", "Kind": ""}, mapping)
    assert (person["kind"], person["given_name"], person["family_name"]) == ("person", "Ann", "Able")
    assert person["legal_name"] == ""
    nobody = to_record({"Name": "", "Company": "", "Kind": ""}, mapping)
    assert nobody["kind"] == ""
    said = to_record({"Name": "Ann Able", "Company": "", "Kind": "公司"}, mapping)
    assert (said["kind"], said["legal_name"], said["given_name"]) == ("company", "Ann Able", "")


def test_lists_custom_values_and_relations() -> None:
    mapping = {
        "Tags": "tags",
        "Cats": "categories",
        "Roles": "roles",
        "Level": "custom:level",
        "Parent": "related:subsidiary_of",
        "Mobile": "phone:mobile",
        "Mobile again": "phone",
        "Email": "email:work",
        "Email 2": "email",
    }
    row = {
        "Tags": "VIP; Customers ::: vip",
        "Cats": "Retail;Wholesale",
        "Roles": "buyer; payer",
        "Level": " gold ",
        "Parent": "C-0001",
        "Mobile": "+44 7700 900123",
        "Mobile again": "+447700900123",
        "Email": "",
        "Email 2": "Ann@Example.com ::: ann@example.com",
    }
    record = to_record(row, mapping)
    assert record["tags"] == ["VIP", "Customers"]
    assert record["categories"] == ["Retail", "Wholesale"]
    assert record["roles"] == ["buyer", "payer"]
    assert record["custom"] == {"level": "gold"}
    assert record["related"] == [("subsidiary_of", "C-0001")]
    assert _phones(record) == [("+44 7700 900123", "mobile", True)]  # the same number twice is kept once
    assert _emails(record) == [("Ann@Example.com", "other", True)]


def test_address_parts_from_several_columns_and_a_whole_address() -> None:
    mapping = {"S1": "address:work:street", "S2": "address:work:line2", "S3": "address:work:line2"}
    mapping |= {"City": "address:work:city", "Home": "address:home:formatted", "Unused": ""}
    row = {"S1": "1 Example Street", "S2": "Unit 4", "S3": "Floor 2", "City": "Leeds"}
    row |= {"Home": "5 Home Row\nFlat 1\nYork", "Unused": "x"}
    work, home = to_record(row, mapping)["addresses"]
    assert (work["line1"], work["line2"], work["city"]) == ("1 Example Street", "Unit 4, Floor 2", "Leeds")
    assert (home["label"], home["line1"], home["line2"], home["city"]) == (
        "home",
        "5 Home Row",
        "Flat 1, York",
        "",
    )


def test_malformed_rows_and_unknown_targets_are_problems() -> None:
    record = to_record({"A": "x", "B": "1", EXTRA_KEY: "surplus"}, {"A": "nickname", "B": "given_name"})
    assert set(record["problems"]) == {"A", EXTRA_KEY}
    assert "surplus" in record["problems"][EXTRA_KEY]


def test_the_starred_google_label_is_the_primary_even_when_not_first() -> None:
    mapping = {"L1": "email_label#1", "V1": "email#1", "L2": "email_label#2", "V2": "email#2"}
    mapping |= {"P1": "phone_label#1", "N1": "phone#1", "P2": "phone_label#2", "N2": "phone#2"}
    row = {"L1": "Home", "V1": "ann@home.example", "L2": "* Work", "V2": "ann@work.example"}
    row |= {
        "P1": "Mobile",
        "N1": "+44 7700 900001",
        "P2": "* Main",
        "N2": "+44 20 7946 0001 ::: +44 20 7946 0002",
    }
    record = to_record(row, mapping)
    assert _emails(record) == [("ann@home.example", "home", False), ("ann@work.example", "work", True)]
    assert _phones(record) == [
        ("+44 7700 900001", "mobile", False),
        ("+44 20 7946 0001", "work", True),
        ("+44 20 7946 0002", "work", False),
    ]
