"""What an imported column can become (the target vocabulary) and the column layouts of known exports.

A mapping says, for each source column, which *target* it fills: ``given_name``, ``phone:mobile``,
``email#2`` (the second e-mail of a repeating group, whose label comes from ``email_label#2``),
``address:work:city``, ``custom:<key>``, ``related:<relationship type code>`` … or ``""`` (ignored).
``detect`` recognises the exports of Google, Outlook, HubSpot, Salesforce, LinkedIn and vCard files read by
``kith.core.readers``; ``suggest_mapping`` proposes a mapping for any header, known or not.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kith.core.readers import is_vcard_column

IGNORE = ""
GROUPED_SLOTS = 5  # phone#1 … phone#5 etc. offered in the mapping form

SCALARS: dict[str, Promise] = {
    "customer_number": _("Customer number"),
    "external_id": _("ID in the other system"),
    "kind": _("Kind (person or company)"),
    "display_name": _("Display name"),
    "full_name": _("Full name (split into given and family name)"),
    "given_name": _("Given name"),
    "middle_name": _("Middle name"),
    "family_name": _("Family name"),
    "legal_name": _("Legal name (company)"),
    "company_name": _("Company (employer)"),
    "job_title": _("Job title"),
    "birth_date": _("Birthday"),
    "gender": _("Gender"),
    "notes": _("Notes"),
    "status": _("Status"),
    "source": _("Source"),
    "industry": _("Industry"),
    "owner": _("Account manager"),
    "founded_date": _("Founded"),
    "registration_number": _("Registration number"),
    "website": _("Web site"),
}
PHONE_LABELS: dict[str, Promise] = {
    "mobile": _("Mobile"),
    "work": _("Work"),
    "home": pgettext_lazy("phone or address", "Home"),
    "fax": _("Fax"),
    "other": _("Other"),
}
EMAIL_LABELS: dict[str, Promise] = {
    "work": _("Work"),
    "home": pgettext_lazy("phone or address", "Home"),
    "other": _("Other"),
}
ADDRESS_LABELS = EMAIL_LABELS
ADDRESS_PARTS: dict[str, Promise] = {
    "street": _("street"),
    "line2": _("address line 2"),
    "city": _("city"),
    "region": _("region / province"),
    "postal_code": _("postal code"),
    "country": _("country"),
    "formatted": _("whole address"),
}
LISTS: dict[str, Promise] = {
    "tags": _("Tags"),
    "categories": _("Categories"),
    "roles": _("Roles"),
}

_SLOT = re.compile(r"(?P<kind>phone|email|phone_label|email_label|address_label)#(?P<n>[1-9]\d{0,2})\Z")
_ADDRESS_SLOT = re.compile(r"address#(?P<n>[1-9]\d{0,2}):(?P<part>[a-z_0-9]+)\Z")
_KEYED = re.compile(r"(?P<kind>custom|related):(?P<key>[-a-zA-Z0-9_]+)\Z")


def is_valid_target(target: str) -> bool:
    """Whether ``target`` is written right (the custom field keys and relationship codes are checked by
    the importer, which knows which exist)."""
    if target == IGNORE or target in SCALARS or target in LISTS:
        return True
    kind, _sep, rest = target.partition(":")
    if kind == "phone":
        return rest in PHONE_LABELS or target == "phone"
    if kind == "email":
        return rest in EMAIL_LABELS or target == "email"
    if kind == "address":
        label, _sep, part = rest.partition(":")
        return label in ADDRESS_LABELS and part in ADDRESS_PARTS
    if _SLOT.match(target):
        return True
    match = _ADDRESS_SLOT.match(target)
    if match:
        return match["part"] in ADDRESS_PARTS
    return bool(_KEYED.match(target))


def targets(
    custom_keys: Iterable[tuple[str, str]] = (),
    relationship_types: Iterable[tuple[str, str]] = (),
) -> list[tuple[str, list[tuple[str, str]]]]:
    """The choices of the mapping form, grouped: ``[(group label, [(target, label), …]), …]``.
    ``custom_keys`` are the custom fields' (key, label), ``relationship_types`` the types' (code, name)."""
    names = ("display_name", "full_name", "given_name", "middle_name", "family_name", "gender", "birth_date")
    company = ("legal_name", "company_name", "job_title", "industry", "founded_date", "registration_number")
    record = ("customer_number", "external_id", "kind", "status", "source", "owner", "website", "notes")
    groups: list[tuple[str, list[tuple[str, str]]]] = [
        (str(_("Skip")), [(IGNORE, str(_("Do not import")))]),
        (str(_("Names")), [(t, str(SCALARS[t])) for t in names]),
        (str(_("Company and work")), [(t, str(SCALARS[t])) for t in company]),
        (str(_("Customer record")), [(t, str(SCALARS[t])) for t in record]),
    ]
    phones = [("phone", str(_("Phone (label: other)")))]
    phones += [
        (f"phone:{code}", str(_("Phone: %(label)s") % {"label": label}))
        for code, label in PHONE_LABELS.items()
        if code != "other"
    ]
    emails = [("email", str(_("E-mail (label: other)")))]
    emails += [
        (f"email:{code}", str(_("E-mail: %(label)s") % {"label": label}))
        for code, label in EMAIL_LABELS.items()
    ]
    addresses = [
        (
            f"address:{code}:{part}",
            str(_("Address (%(label)s): %(part)s") % {"label": label, "part": part_label}),
        )
        for code, label in ADDRESS_LABELS.items()
        for part, part_label in ADDRESS_PARTS.items()
    ]
    for n in range(1, GROUPED_SLOTS + 1):
        phones += [
            (f"phone#{n}", str(_("Phone %(n)d: number") % {"n": n})),
            (f"phone_label#{n}", str(_("Phone %(n)d: label") % {"n": n})),
        ]
        emails += [
            (f"email#{n}", str(_("E-mail %(n)d: address") % {"n": n})),
            (f"email_label#{n}", str(_("E-mail %(n)d: label") % {"n": n})),
        ]
        addresses += [
            (f"address#{n}:{part}", str(_("Address %(n)d: %(part)s") % {"n": n, "part": part_label}))
            for part, part_label in ADDRESS_PARTS.items()
        ]
        addresses.append((f"address_label#{n}", str(_("Address %(n)d: label") % {"n": n})))
    groups += [
        (str(_("Phones")), phones),
        (str(_("E-mails")), emails),
        (str(_("Addresses")), addresses),
        (str(_("Lists")), [(t, str(label)) for t, label in LISTS.items()]),
    ]
    custom = [(f"custom:{key}", str(label)) for key, label in custom_keys]
    if custom:
        groups.append((str(_("Custom fields")), custom))
    related = [
        (f"related:{code}", str(_("Related customer's number: %(type)s") % {"type": name}))
        for code, name in relationship_types
    ]
    if related:
        groups.append((str(_("Relationships")), related))
    return groups


# --- presets -------------------------------------------------------------------------------------------

Rule = tuple[re.Pattern[str], Callable[[re.Match[str]], str]]


def _mapper(fixed: dict[str, str], rules: Iterable[Rule] = ()) -> Callable[[list[str]], dict[str, str]]:
    """A mapping function: ``fixed`` headers, then ``rules`` for repeating groups ("Phone 3 - Value")."""
    rule_list = list(rules)

    def mapping(columns: list[str]) -> dict[str, str]:
        result: dict[str, str] = {}
        for column in columns:
            if column in fixed:
                result[column] = fixed[column]
                continue
            for pattern, target in rule_list:
                match = pattern.fullmatch(column)
                if match:
                    result[column] = target(match)
                    break
        return result

    return mapping


@dataclass(frozen=True)
class Preset:
    code: str
    label: str | Promise
    signature: frozenset[str]  # headers that identify the layout (all present)
    mapping: Callable[[list[str]], dict[str, str]]  # column → target, for the known columns present


def _slot(target: str) -> Callable[[re.Match[str]], str]:
    return lambda match: target.replace("N", match["n"])


def _first_only(target: str) -> Callable[[re.Match[str]], str]:
    return lambda match: target if match["n"] == "1" else IGNORE


_GOOGLE_ADDRESS_PARTS = {
    "Label": "address_label#N",
    "Type": "address_label#N",
    "Formatted": "address#N:formatted",
    "Street": "address#N:street",
    "Extended Address": "address#N:line2",
    "City": "address#N:city",
    "Region": "address#N:region",
    "Postal Code": "address#N:postal_code",
    "Country": "address#N:country",
    "PO Box": IGNORE,
}


def _google_rules() -> list[Rule]:
    return [
        (re.compile(r"E-mail (?P<n>\d+) - (Label|Type)"), _slot("email_label#N")),
        (re.compile(r"E-mail (?P<n>\d+) - Value"), _slot("email#N")),
        (re.compile(r"Phone (?P<n>\d+) - (Label|Type)"), _slot("phone_label#N")),
        (re.compile(r"Phone (?P<n>\d+) - Value"), _slot("phone#N")),
        (
            re.compile(r"Address (?P<n>\d+) - (?P<part>.+)"),
            lambda m: _GOOGLE_ADDRESS_PARTS.get(m["part"], IGNORE).replace("N", m["n"]),
        ),
        (re.compile(r"Website (?P<n>\d+) - Value"), _first_only("website")),
        (re.compile(r"(Website|Event|Relation|Custom Field|IM|Organization) \d+ - .*"), lambda m: IGNORE),
    ]


GOOGLE = Preset(
    "google",
    _("Google Contacts"),
    frozenset({"First Name", "Last Name", "Labels", "Organization Name"}),
    _mapper(
        {
            "First Name": "given_name",
            "Middle Name": "middle_name",
            "Last Name": "family_name",
            "File As": "display_name",
            "Organization Name": "company_name",
            "Organization Title": "job_title",
            "Birthday": "birth_date",
            "Notes": "notes",
            "Labels": "tags",
            **dict.fromkeys(
                (
                    "Phonetic First Name",
                    "Phonetic Middle Name",
                    "Phonetic Last Name",
                    "Name Prefix",
                    "Name Suffix",
                    "Nickname",
                    "Organization Department",
                    "Photo",
                ),
                IGNORE,
            ),
        },
        _google_rules(),
    ),
)

GOOGLE_LEGACY = Preset(
    "google_legacy",
    _("Google Contacts (old format)"),
    frozenset({"Name", "Given Name", "Family Name", "Group Membership"}),
    _mapper(
        {
            "Name": "full_name",
            "Given Name": "given_name",
            "Additional Name": "middle_name",
            "Family Name": "family_name",
            "Birthday": "birth_date",
            "Gender": "gender",
            "Notes": "notes",
            "Group Membership": "tags",
            "Organization 1 - Name": "company_name",
            "Organization 1 - Title": "job_title",
        },
        _google_rules(),
    ),
)

_OUTLOOK_PHONES = {
    "Business Phone": "phone:work",
    "Business Phone 2": "phone:work",
    "Company Main Phone": "phone:work",
    "Home Phone": "phone:home",
    "Home Phone 2": "phone:home",
    "Mobile Phone": "phone:mobile",
    "Car Phone": "phone",
    "Other Phone": "phone",
    "Primary Phone": "phone",
    "Pager": "phone",
    "Radio Phone": "phone",
    "ISDN": "phone",
    "TTY/TDD Phone": "phone",
    "Business Fax": "phone:fax",
    "Home Fax": "phone:fax",
    "Other Fax": "phone:fax",
}
_OUTLOOK_ADDRESSES = {
    f"{prefix} {part}": f"address:{label}:{target}"
    for prefix, label in (("Business", "work"), ("Home", "home"), ("Other", "other"))
    for part, target in (
        ("Street", "street"),
        ("Street 2", "line2"),
        ("Street 3", "line2"),
        ("City", "city"),
        ("State", "region"),
        ("Postal Code", "postal_code"),
        ("Country/Region", "country"),
    )
}
_OUTLOOK = {
    "First Name": "given_name",
    "Middle Name": "middle_name",
    "Last Name": "family_name",
    "Company": "company_name",
    "Job Title": "job_title",
    "Birthday": "birth_date",
    "Gender": "gender",
    "Notes": "notes",
    "Categories": "tags",
    "E-mail Address": "email",
    "E-mail 2 Address": "email",
    "E-mail 3 Address": "email",
    "Web Page": "website",
    "Personal Web Page": "website",
    **_OUTLOOK_PHONES,
    **_OUTLOOK_ADDRESSES,
    # "Title" is the courtesy title (Mr., Dr.), not the job title; the rest has no place in Kith
    **dict.fromkeys(
        (
            "Title",
            "Suffix",
            "Nickname",
            "Initials",
            "Given Yomi",
            "Surname Yomi",
            "Company Yomi",
            "Department",
            "Office Location",
            "Manager's Name",
            "Assistant's Name",
            "Assistant's Phone",
            "Callback",
            "Telex",
            "IMAddress",
            "Spouse",
            "Children",
            "Schools",
            "Hobby",
            "Location",
            "Anniversary",
            "Account",
            "Billing Information",
            "Business Address PO Box",
            "Home Address PO Box",
            "Other Address PO Box",
            "Directory Server",
            "E-mail Type",
            "E-mail Display Name",
            "E-mail 2 Type",
            "E-mail 2 Display Name",
            "E-mail 3 Type",
            "E-mail 3 Display Name",
            "Government ID Number",
            "Organizational ID Number",
            "Internet Free Busy",
            "Keywords",
            "Language",
            "Mileage",
            "Priority",
            "Private",
            "Profession",
            "Referred By",
            "Sensitivity",
            "User 1",
            "User 2",
            "User 3",
            "User 4",
        ),
        IGNORE,
    ),
}

OUTLOOK_DESKTOP = Preset(
    "outlook",
    _("Outlook (Windows)"),
    frozenset({"First Name", "Last Name", "E-mail Address", "E-mail Type", "Business Street", "Categories"}),
    _mapper(_OUTLOOK),
)

OUTLOOK_COM = Preset(
    "outlook_com",
    _("Outlook.com"),
    frozenset({"First Name", "Last Name", "E-mail Address", "Business Street", "IMAddress"}),
    _mapper(_OUTLOOK),
)


def _hubspot_mapping(columns: list[str]) -> dict[str, str]:
    mapping = _mapper(
        {
            "Record ID": "external_id",
            "First Name": "given_name",
            "Last Name": "family_name",
            "Email": "email",
            "Phone Number": "phone",
            "Mobile Phone Number": "phone:mobile",
            "Fax Number": "phone:fax",
            "Contact owner": "owner",
            "Primary Company": "company_name",
            "Associated Company": "company_name",
            "Company Name": "company_name",
            "Job Title": "job_title",
            "Website URL": "website",
            "Industry": "industry",
            **dict.fromkeys(
                ("Associated Company IDs", "Lifecycle Stage", "Lead Status", "Marketing contact status"),
                IGNORE,
            ),
            **dict.fromkeys(("Create Date", "Last Activity Date", "Last Modified Date"), IGNORE),
        }
    )(columns)
    # a country alone is not an address Kith can keep: take it only with a street or a city
    if {"Street Address", "City"} & set(columns):
        parts = {
            "Street Address": "street",
            "City": "city",
            "State/Region": "region",
            "Postal Code": "postal_code",
            "Country/Region": "country",
        }
        mapping.update({c: f"address:work:{parts[c]}" for c in columns if c in parts})
    elif "Country/Region" in columns:
        mapping["Country/Region"] = IGNORE
    return mapping


HUBSPOT = Preset(
    "hubspot",
    _("HubSpot contacts"),
    frozenset({"Record ID", "First Name", "Last Name"}),
    _hubspot_mapping,
)

_SALESFORCE_SYSTEM = dict.fromkeys(
    (
        "IsDeleted",
        "MasterRecordId",
        "OwnerId",
        "CreatedDate",
        "CreatedById",
        "LastModifiedDate",
        "LastModifiedById",
        "SystemModstamp",
        "LastActivityDate",
        "LastViewedDate",
        "LastReferencedDate",
        "PhotoUrl",
        "Jigsaw",
        "JigsawContactId",
        "JigsawCompanyId",
        "CleanStatus",
        "IndividualId",
        "EmailBouncedReason",
        "EmailBouncedDate",
        "IsEmailBounced",
        "LastCURequestDate",
        "LastCUUpdateDate",
    ),
    IGNORE,
)


def _salesforce_address(prefix: str, label: str) -> dict[str, str]:
    parts = {
        "Street": "street",
        "City": "city",
        "State": "region",
        "PostalCode": "postal_code",
        "Country": "country",
    }
    mapping = {f"{prefix}{part}": f"address:{label}:{target}" for part, target in parts.items()}
    mapping.update(
        dict.fromkeys((f"{prefix}Latitude", f"{prefix}Longitude", f"{prefix}GeocodeAccuracy"), IGNORE)
    )
    return mapping


SALESFORCE_CONTACT = Preset(
    "salesforce_contact",
    _("Salesforce contacts"),
    frozenset({"Id", "FirstName", "LastName", "AccountId"}),
    _mapper(
        {
            "Id": "external_id",
            "FirstName": "given_name",
            "LastName": "family_name",
            "Name": IGNORE,
            "Salutation": IGNORE,
            "AccountId": IGNORE,
            "ReportsToId": IGNORE,
            "Phone": "phone:work",
            "Fax": "phone:fax",
            "MobilePhone": "phone:mobile",
            "HomePhone": "phone:home",
            "OtherPhone": "phone",
            "AssistantPhone": IGNORE,
            "AssistantName": IGNORE,
            "Email": "email",
            "Title": "job_title",
            "Department": IGNORE,
            "LeadSource": IGNORE,
            "Birthdate": "birth_date",
            "Description": "notes",
            **_salesforce_address("Mailing", "work"),
            **_salesforce_address("Other", "other"),
            **_SALESFORCE_SYSTEM,
        }
    ),
)

SALESFORCE_ACCOUNT = Preset(
    "salesforce_account",
    _("Salesforce accounts"),
    frozenset({"Id", "Name", "BillingStreet", "BillingCity", "BillingCountry"}),
    _mapper(
        {
            "Id": "external_id",
            "Name": "legal_name",
            "Type": IGNORE,
            "ParentId": IGNORE,
            "Phone": "phone:work",
            "Fax": "phone:fax",
            "Website": "website",
            "Industry": "industry",
            "Description": "notes",
            **_salesforce_address("Billing", "work"),
            **_salesforce_address("Shipping", "other"),
            **_SALESFORCE_SYSTEM,
        }
    ),
)

LINKEDIN = Preset(
    "linkedin",
    _("LinkedIn connections"),
    frozenset({"First Name", "Last Name", "URL", "Company", "Position", "Connected On"}),
    _mapper(
        {
            "First Name": "given_name",
            "Last Name": "family_name",
            "URL": "website",
            "Email Address": "email",
            "Company": "company_name",
            "Position": "job_title",
            "Connected On": IGNORE,
        }
    ),
)

_VCARD_ADDRESS_PARTS = {
    "street": "street",
    "extended": "line2",
    "city": "city",
    "region": "region",
    "code": "postal_code",
    "country": "country",
}


def _vcard_address(match: re.Match[str]) -> str:
    n, part = match["n"], match["part"]
    if part == "type":
        return f"address_label#{n}"
    return f"address#{n}:{_VCARD_ADDRESS_PARTS[part]}" if part in _VCARD_ADDRESS_PARTS else IGNORE


VCARD = Preset(
    "vcard",
    _("vCard"),
    frozenset({"FN"}),
    _mapper(
        {
            "FN": "full_name",
            "N:family": "family_name",
            "N:given": "given_name",
            "N:additional": "middle_name",
            "KIND": "kind",
            "ORG": "company_name",
            "TITLE": "job_title",
            "BDAY": "birth_date",
            "GENDER": "gender",
            "NOTE": "notes",
            "CATEGORIES": "tags",
            "UID": "external_id",
            **dict.fromkeys(("N:prefix", "N:suffix", "NICKNAME", "ORG:unit", "ROLE", "ANNIVERSARY"), IGNORE),
        },
        [
            (re.compile(r"TEL#(?P<n>\d+)"), _slot("phone#N")),
            (re.compile(r"TEL#(?P<n>\d+):type"), _slot("phone_label#N")),
            (re.compile(r"EMAIL#(?P<n>\d+)"), _slot("email#N")),
            (re.compile(r"EMAIL#(?P<n>\d+):type"), _slot("email_label#N")),
            (re.compile(r"ADR#(?P<n>\d+):(?P<part>[a-z]+)"), _vcard_address),
            (re.compile(r"URL#(?P<n>\d+)"), _first_only("website")),
            (re.compile(r"(URL|RELATED)#\d+(:type)?"), lambda m: IGNORE),
        ],
    ),
)

PRESETS: dict[str, Preset] = {
    preset.code: preset
    for preset in (
        GOOGLE,
        GOOGLE_LEGACY,
        OUTLOOK_DESKTOP,
        OUTLOOK_COM,
        HUBSPOT,
        SALESFORCE_CONTACT,
        SALESFORCE_ACCOUNT,
        LINKEDIN,
        VCARD,
    )
}


def detect(columns: list[str]) -> Preset | None:
    """The known layout these columns come from: the preset whose signature is all there (the most
    specific one when several are), or None."""
    present = set(columns)
    matching = [preset for preset in PRESETS.values() if preset.signature <= present]
    if matching:
        return max(matching, key=lambda preset: len(preset.signature))
    if columns and all(is_vcard_column(column) for column in columns):
        return VCARD  # a vCard file whose cards have no FN
    return None


# --- any other header: common names in English and Chinese ---------------------------------------------

_SYNONYMS: dict[str, tuple[str, ...]] = {
    "full_name": ("name", "full name", "contact name", "contact", "姓名", "名字", "联系人", "联系人姓名"),
    "display_name": ("display name", "显示名称"),
    "given_name": ("first name", "given name", "forename", "名"),
    "middle_name": ("middle name",),
    "family_name": ("last name", "family name", "surname", "姓"),
    "legal_name": ("legal name", "company legal name", "公司全称", "企业名称"),
    "company_name": (
        "company",
        "company name",
        "organization",
        "organisation",
        "organization name",
        "employer",
        "account name",
        "公司",
        "公司名称",
        "单位",
        "工作单位",
        "企业",
    ),
    "job_title": ("job title", "title", "position", "职位", "职务", "头衔"),
    "customer_number": ("customer number", "customer no", "customer no.", "客户编号", "客户号", "编号"),
    "external_id": ("id", "record id", "external id"),
    "kind": ("kind", "customer type", "客户类型"),
    "phone": ("phone", "telephone", "tel", "phone number", "电话", "联系电话", "电话号码"),
    "phone:mobile": (
        "mobile",
        "mobile phone",
        "cell",
        "cell phone",
        "手机",
        "手机号",
        "手机号码",
        "移动电话",
    ),
    "phone:work": ("work phone", "business phone", "office phone", "办公电话", "工作电话", "座机"),
    "phone:home": ("home phone", "家庭电话", "住宅电话"),
    "phone:fax": ("fax", "传真"),
    "email": (
        "email",
        "e-mail",
        "email address",
        "e-mail address",
        "mail",
        "邮箱",
        "电子邮件",
        "电子邮箱",
        "邮件",
    ),
    "birth_date": ("birthday", "birth date", "birthdate", "date of birth", "dob", "生日", "出生日期"),
    "gender": ("gender", "sex", "性别"),
    "notes": ("notes", "note", "comments", "comment", "remarks", "description", "备注", "说明"),
    "website": ("website", "web site", "web page", "url", "homepage", "网站", "网址", "主页"),
    "status": ("status", "状态", "客户状态"),
    "source": ("source", "lead source", "来源", "客户来源"),
    "industry": ("industry", "行业"),
    "owner": ("owner", "account manager", "负责人", "客户经理"),
    "founded_date": ("founded", "founded date", "成立日期", "成立时间"),
    "registration_number": ("registration number", "company number", "统一社会信用代码", "注册号"),
    "tags": ("tags", "tag", "labels", "标签"),
    "categories": ("category", "categories", "分类", "类别"),
    "roles": ("roles", "role", "角色"),
    "address:other:formatted": ("address", "地址", "住址", "通讯地址", "联系地址"),
    "address:other:street": ("street", "street address", "街道"),
    "address:other:city": ("city", "town", "城市", "市"),
    "address:other:region": ("state", "province", "region", "省", "省份"),
    "address:other:postal_code": ("zip", "zip code", "postcode", "postal code", "邮编", "邮政编码"),
    "address:other:country": ("country", "国家", "国家/地区"),
}
_DUPLICATE_SUFFIX = re.compile(r" \(\d+\)\Z")


def _key(header: str) -> str:
    """Header text compared loosely: case, spaces, "_" and "-" do not matter ("E-mail" = "email")."""
    return re.sub(r"[\s_\-:：]+", "", _DUPLICATE_SUFFIX.sub("", header)).casefold()


_SYNONYM_INDEX = {_key(name): target for target, names in _SYNONYMS.items() for name in names}


def suggest_mapping(
    columns: list[str], custom_fields: Iterable[tuple[str, str]] = ()
) -> tuple[str | None, dict[str, str]]:
    """(the detected preset's code or None, a target for every column): the preset's mapping, and for
    the other columns a custom field whose key or label is the header, or a common name for a target."""
    preset = detect(columns)
    mapping = preset.mapping(columns) if preset else {}
    custom: dict[str, str] = {}
    for key, label in custom_fields:
        custom.setdefault(_key(key), f"custom:{key}")
        custom.setdefault(_key(str(label)), f"custom:{key}")
    result: dict[str, str] = {}
    for column in columns:
        if column in mapping:
            result[column] = mapping[column]
            continue
        key = _key(column)
        result[column] = custom.get(key) or _SYNONYM_INDEX.get(key, IGNORE)
    return (preset.code if preset else None), result
