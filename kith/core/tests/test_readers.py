"""Reading uploaded tables: the real export samples in ../shared/data/formats, encodings written at test time
(UTF-16, GBK, cp1252), delimiters, preambles, XLSX typed cells, vCards (every card, a broken one reported),
and a 200,000-row file read without holding it in memory."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import re
import tracemalloc
from pathlib import Path

import pytest

from kith.core.readers import ERROR_KEY, EXTRA_KEY, ReadError, Table, open_table


def _rows(table: Table) -> list[dict[str, str]]:
    return list(table.rows())


# --- the real samples ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "encoding", "width", "count"),
    [
        ("google_contacts.csv", "utf-8", 40, 5),
        ("google_contacts_legacy.csv", "utf-8", 54, 2),
        ("outlook_desktop.csv", "cp1252", 92, 3),
        ("outlook_com.csv", "utf-8-sig", 61, 2),
        ("hubspot_contacts_export.csv", "utf-8", 15, 3),
        ("salesforce_Contact.csv", "utf-8", 57, 2),
        ("salesforce_Account.csv", "utf-8", 55, 2),
        ("linkedin_connections.csv", "utf-8", 7, 2),
    ],
)
def test_every_sample_csv_opens_with_its_header_and_rows(
    formats: Path, name: str, encoding: str, width: int, count: int
) -> None:
    table = open_table(formats / name)
    assert (table.format, table.encoding, table.delimiter) == ("csv", encoding, ",")
    assert len(table.columns) == width
    rows = _rows(table)
    assert len(rows) == count == table.row_count_estimate()
    assert all(set(row) == set(table.columns) for row in rows)  # none too long, none short
    assert all(isinstance(value, str) for row in rows for value in row.values())


def test_outlook_desktop_is_cp1252_with_crlf_inside_fields(formats: Path) -> None:
    table = open_table(formats / "outlook_desktop.csv")
    first, second, exchange = _rows(table)
    assert first["Notes"] == "Prefers email; café meetings"
    assert first["Business Street"] == "1 Example Street\nUnit 4"  # the CRLF inside the quotes
    assert first["Business City"] == "Leeds"
    assert first["Birthday"] == "3/15/1984"
    assert (second["First Name"], second["Last Name"]) == ("Jürgen", "Straßburger")
    assert exchange["E-mail Type"] == "EX"


def test_the_utf8_byte_order_mark_is_not_part_of_the_first_column(formats: Path) -> None:
    table = open_table(formats / "outlook_com.csv")
    assert table.columns[0] == "First Name"
    assert _rows(table)[1]["First Name"] == "美咲"


def test_google_address_keeps_its_newlines(formats: Path) -> None:
    first = _rows(open_table(formats / "google_contacts.csv"))[0]
    assert first["Address 1 - Formatted"] == "1 Example Street\nUnit 4\nLeeds LS1 4AP\nUnited Kingdom"
    assert first["Phone 2 - Value"] == "+44 20 7946 0018 ::: +44 20 7946 0019"
    assert first["Birthday"] == "1984-03-15"


def test_linkedin_preamble_is_skipped_up_to_the_real_header(formats: Path) -> None:
    table = open_table(formats / "linkedin_connections.csv")
    assert table.columns == [
        "First Name",
        "Last Name",
        "URL",
        "Email Address",
        "Company",
        "Position",
        "Connected On",
    ]
    first, second = _rows(table)
    assert first["Connected On"] == "17 May 2024"
    assert second["Email Address"] == "sean.obrien@example.ie"


def test_rows_stream_again_from_the_start_on_each_call(formats: Path) -> None:
    table = open_table(formats / "hubspot_contacts_export.csv")
    assert _rows(table) == _rows(table)
    assert [row["Record ID"] for row in table.rows()][:1] == ["51234567801"]


VCARDS = [
    "vcards/rfc2426_section7_examples.vcf",
    "vcards/rfc6350_section8_example.vcf",
    "vcards/synthetic_mixed_versions.vcf",
    "vcards/vobject_tests/radicale-1587.vcf",
    "vcards/vobject_tests/vcard40_full.vcf",
    "vcards/vobject_tests/vcard40_group.vcf",
    "vcards/vobject_tests/vcard40_location.vcf",
    "vcards/vobject_tests/vcard40_multilang.vcf",
    "vcards/vobject_tests/vcard40_org.vcf",
    "vcards/vobject_tests/vcard40_simple.vcf",
]


def test_the_list_of_vcards_is_every_vcf_in_the_folder(formats: Path) -> None:
    assert sorted(str(p.relative_to(formats)) for p in formats.glob("vcards/**/*.vcf")) == sorted(VCARDS)


@pytest.mark.parametrize("name", VCARDS)
def test_every_vcard_file_gives_one_row_per_card(formats: Path, name: str) -> None:
    path = formats / name
    cards = len(re.findall(rb"(?im)^begin:vcard\s*$", path.read_bytes()))
    table = open_table(path)
    rows = _rows(table)
    assert table.format == "vcard"
    assert len(rows) == cards == table.row_count_estimate()
    assert not [row[ERROR_KEY] for row in rows if ERROR_KEY in row]
    assert all(row.get("FN") or row.get("N:family") or row.get("ORG") for row in rows)


def test_vcard_versions_and_quirks_are_read(formats: Path) -> None:
    table = open_table(formats / "vcards/synthetic_mixed_versions.vcf")
    qp21, apple, google, company, v40 = _rows(table)
    # 2.1 quoted-printable with a soft line break
    assert (qp21["N:family"], qp21["N:given"], qp21["N:prefix"]) == ("Straßburger", "Jürgen", "Dr.")
    assert qp21["NOTE"] == (
        "First line\nSecond line with a very long text that is soft-wrapped by the quoted-printable encoder"
    )
    assert (qp21["TEL#1:type"], qp21["TEL#2:type"]) == ("work,voice", "cell")
    assert qp21["ADR#1:street"] == "Beispielstraße 1"
    # Apple: item groups, folded PHOTO (ignored), pref in TYPE
    assert apple["TEL#1"] == "+44 7700 900123"
    assert apple["TEL#1:type"] == "cell,voice,pref"
    assert (apple["ADR#1:street"], apple["ADR#1:extended"], apple["ADR#1:code"]) == (
        "1 Example Street",
        "Unit 4",
        "LS1 4AP",
    )
    assert apple["CATEGORIES"] == "Customers ::: VIP"
    assert apple["ORG"] == "Fictional Widgets Ltd"
    assert apple["NOTE"] == 'Met at trade fair, "very keen"; follow up in Q3\nSecond line'
    # CJK
    assert (google["FN"], google["N:family"], google["ORG"]) == ("美咲 高橋", "高橋", "架空商事株式会社")
    # company-only card: escaped comma, X-ABShowAs
    assert (company["FN"], company["KIND"], company["N:family"]) == ("ACME Holdings, Inc.", "org", "")
    # 4.0: tel: URI, PREF=1, RELATED, year-less BDAY
    assert (v40["TEL#1"], v40["EMAIL#1:type"]) == ("+353-1-555-0147", "home,pref")
    assert (v40["BDAY"], v40["RELATED#1:type"]) == ("--0429", "colleague")
    assert v40["UID"] == "urn:uuid:6f0a4b8e-1c1e-4c5a-9b7e-3d7a1c2b0001"


def test_mixed_case_begin_and_cards_without_n(formats: Path) -> None:
    frank, tim = _rows(open_table(formats / "vcards/rfc2426_section7_examples.vcf"))
    assert frank["FN"] == "Frank Dawson"
    assert "N:family" not in frank  # no card of the file has an N, so there is no such column
    assert frank["EMAIL#1:type"] == "internet,pref"
    assert (tim["ADR#1:city"], tim["ADR#1:code"]) == ("Mountain View", "94043")


def test_vcard40_tel_uri_with_extension(formats: Path) -> None:
    (simon,) = _rows(open_table(formats / "vcards/rfc6350_section8_example.vcf"))
    assert simon["TEL#1"] == "+1-418-656-9254 ext. 102"
    assert simon["TEL#1:type"] == "work,voice,pref"  # TYPE="work,voice" quoted, PREF=1


# --- encodings written at test time -------------------------------------------------------------------

CHINESE_ROWS = [
    ["姓名", "电话", "邮箱"],
    ["张伟", "13800138000", "zhang.wei@example.cn"],
    ["欧阳娜娜", "021-6234 5678", ""],
]


def _write(path: Path, text: str, encoding: str) -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def test_gbk_csv_is_read_as_gb18030(tmp_path: Path) -> None:
    text = "\r\n".join(",".join(row) for row in CHINESE_ROWS) + "\r\n"
    table = open_table(_write(tmp_path / "客户.csv", text, "gbk"))
    assert table.encoding == "gb18030"
    assert table.columns == ["姓名", "电话", "邮箱"]
    assert _rows(table) == [
        {"姓名": "张伟", "电话": "13800138000", "邮箱": "zhang.wei@example.cn"},
        {"姓名": "欧阳娜娜", "电话": "021-6234 5678", "邮箱": ""},
    ]


def test_cp1252_is_chosen_over_gbk_for_western_text(tmp_path: Path) -> None:
    text = "Name,City,Notes\r\nJürgen Straßburger,München,Café ‘Größe’ – naïve\r\nFrançoise,Zürich,€ 12\r\n"
    table = open_table(_write(tmp_path / "contacts.csv", text, "cp1252"))
    assert table.encoding == "cp1252"
    assert _rows(table)[0] == {
        "Name": "Jürgen Straßburger",
        "City": "München",
        "Notes": "Café ‘Größe’ – naïve",
    }


def test_a_legacy_byte_far_into_the_file_still_decides_the_encoding(tmp_path: Path) -> None:
    lines = ["name,city"] + [f"Person {i},Leeds" for i in range(20_000)] + ["Jürgen,Köln"]
    table = open_table(_write(tmp_path / "late.csv", "\n".join(lines) + "\n", "cp1252"))
    assert table.encoding == "cp1252"
    assert _rows(table)[-1] == {"name": "Jürgen", "city": "Köln"}


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_and_without_byte_order_mark(tmp_path: Path, encoding: str) -> None:
    text = "Name\tPhone\tCity\r\nJürgen Straßburger\t+49 30 901820\tBerlin\r\n张伟\t13800138000\t北京\r\n"
    table = open_table(_write(tmp_path / "export.txt", text, encoding))
    assert table.encoding in ("utf-16", encoding)
    assert table.delimiter == "\t"
    assert _rows(table) == [
        {"Name": "Jürgen Straßburger", "Phone": "+49 30 901820", "City": "Berlin"},
        {"Name": "张伟", "Phone": "13800138000", "City": "北京"},
    ]


def test_utf8_with_bom_and_chinese(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + "姓名,手机\n王芳,13900000000\n".encode())
    table = open_table(path)
    assert (table.encoding, table.columns) == ("utf-8-sig", ["姓名", "手机"])
    assert _rows(table) == [{"姓名": "王芳", "手机": "13900000000"}]


# --- CSV shapes ------------------------------------------------------------------------------------------


def test_semicolon_delimited_with_commas_in_values(tmp_path: Path) -> None:
    text = 'Name;Email;Amount;Notes\nMüller, Anna;anna@example.de;1,50;"a; b"\nLee;lee@example.com;2,75;\n'
    table = open_table(_write(tmp_path / "excel-de.csv", text, "utf-8"))
    assert table.delimiter == ";"
    assert _rows(table) == [
        {"Name": "Müller, Anna", "Email": "anna@example.de", "Amount": "1,50", "Notes": "a; b"},
        {"Name": "Lee", "Email": "lee@example.com", "Amount": "2,75", "Notes": ""},
    ]


def test_pipe_delimited(tmp_path: Path) -> None:
    table = open_table(_write(tmp_path / "x.txt", "a|b|c\n1|2|3\n4|5|6\n", "utf-8"))
    assert table.delimiter == "|"
    assert _rows(table)[1] == {"a": "4", "b": "5", "c": "6"}


def test_quoted_newlines_short_and_long_rows_duplicate_headers(tmp_path: Path) -> None:
    text = (
        'Name,Phone,Phone,Notes\r\n"Ann","1","2","line one\r\nline two"\r\nBob,3\r\n\r\nCy,4,5,x,EXTRA,\r\n'
    )
    table = open_table(_write(tmp_path / "shapes.csv", text, "utf-8"))
    assert table.columns == ["Name", "Phone", "Phone (2)", "Notes"]
    ann, bob, cy = _rows(table)  # the blank line is no row
    assert ann["Notes"] == "line one\nline two"
    assert bob == {"Name": "Bob", "Phone": "3", "Phone (2)": "", "Notes": ""}
    assert EXTRA_KEY not in bob
    assert cy[EXTRA_KEY] == "EXTRA"
    assert cy["Notes"] == "x"


def test_a_preamble_with_commas_before_the_header(tmp_path: Path) -> None:
    text = "Exported contacts\nGenerated on 2024-05-17\n\nName,Email,City\nAnn,ann@example.com,Leeds\nBob,,York\n"
    table = open_table(_write(tmp_path / "pre.csv", text, "utf-8"))
    assert table.columns == ["Name", "Email", "City"]
    assert [row["Name"] for row in table.rows()] == ["Ann", "Bob"]


def test_header_only_file_has_no_rows(tmp_path: Path) -> None:
    table = open_table(_write(tmp_path / "empty-body.csv", "Name,Email\n", "utf-8"))
    assert (table.columns, _rows(table), table.row_count_estimate()) == (["Name", "Email"], [], 0)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("blank.csv", b"\r\n  \n", "empty"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, ".xls"),
        ("image.csv", bytes(range(256)) * 40, "cannot be read"),
        ("fake.xlsx", b"Name,Email\nAnn,ann@example.com\n", "not one"),
        ("broken.xlsx", b"PK\x03\x04" + b"\x00" * 100, "Excel"),
        ("nothing.vcf", b"FN:no card here\n", "no vCard"),
    ],
)
def test_unreadable_files_raise_a_read_error_with_a_message(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ReadError) as caught:
        open_table(path)
    assert isinstance(caught.value, ValueError)
    assert message in caught.value.message


def test_the_uploaded_name_is_a_hint_for_a_temporary_file(tmp_path: Path) -> None:
    path = tmp_path / "upload-1234"
    path.write_bytes(b"VERSION:3.0\r\nBEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann\r\nEND:VCARD\r\n")
    assert open_table(path, filename="contacts.vcf").format == "vcard"
    assert open_table(path).format == "csv"  # without the hint it is just text


# --- XLSX --------------------------------------------------------------------------------------------------


def test_xlsx_cells_come_out_as_text_with_iso_dates(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append([])  # a blank first row: the header is the first row with something in it
    sheet.append(["Name", "Birthday", "Created", "Employees", "Phone", "Rate", "Active", "Notes", None])
    sheet.append(
        [
            "Ann",
            dt.date(1984, 3, 15),
            dt.datetime(2024, 5, 17, 16, 2, 11),
            12,
            447700900123.0,
            1.5,
            True,
            None,
        ]
    )
    sheet.append(["Bob", None, None, None, None, None, False, "two\nlines", "spill"])
    book.create_sheet("Second").append(["ignored"])
    path = tmp_path / "customers.xlsx"
    book.save(path)

    table = open_table(path)
    assert (table.format, table.encoding, table.delimiter) == ("xlsx", "", "")
    assert table.columns == ["Name", "Birthday", "Created", "Employees", "Phone", "Rate", "Active", "Notes"]
    assert table.row_count_estimate() == 2
    ann, bob = _rows(table)
    assert ann == {
        "Name": "Ann",
        "Birthday": "1984-03-15",
        "Created": "2024-05-17T16:02:11",
        "Employees": "12",
        "Phone": "447700900123",
        "Rate": "1.5",
        "Active": "true",
        "Notes": "",
    }
    assert (bob["Birthday"], bob["Notes"], bob[EXTRA_KEY]) == ("", "two\nlines", "spill")
    assert _rows(table) == [ann, bob]


# --- vCards written at test time ---------------------------------------------------------------------------


def test_a_broken_card_is_reported_and_the_others_are_read(tmp_path: Path) -> None:
    cards = (
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ann Able\r\nN:Able;Ann;;;\r\nTEL;TYPE=CELL:+44 7700 900001\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Broken\r\nPHOTO;ENCODING=b;TYPE=PNG:iVBORw0K!!!x\r\nEND:VCARD\r\n"
        "garbage between cards\r\n"
        "begin:vcard\r\nversion:3.0\r\nfn:Cy Case\r\nitem1.TEL:+44 7700 900003\r\n"
        "item1.X-ABLabel:_$!<Mobile>!$_\r\nitem2.EMAIL;type=INTERNET:cy@example.com\r\nitem2.X-ABLabel:Büro\r\n"
        "end:vcard\r\n"
    )
    path = _write(tmp_path / "contacts.vcf", cards, "utf-8")
    table = open_table(path)
    ann, broken, cy = _rows(table)
    assert (ann["FN"], ann["TEL#1:type"]) == ("Ann Able", "cell")
    assert ERROR_KEY not in ann and ERROR_KEY not in cy
    assert "Card 2 (line 7)" in broken[ERROR_KEY]
    assert broken["FN"] == ""
    assert (cy["FN"], cy["TEL#1"], cy["TEL#1:type"]) == ("Cy Case", "+44 7700 900003", "mobile")
    assert cy["EMAIL#1:type"] == "büro,internet"


def test_vcard_21_in_a_legacy_charset(tmp_path: Path) -> None:
    text = (
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:M=FCller;J=F6rg\r\n"
        "TEL;HOME;FAX:+49 30 1234\r\nEND:VCARD\r\n"
    )
    (row,) = _rows(open_table(_write(tmp_path / "old.vcf", text, "ascii")))
    assert (row["N:family"], row["N:given"], row["TEL#1:type"]) == ("Müller", "Jörg", "home,fax")


# --- streaming ---------------------------------------------------------------------------------------------


def test_two_hundred_thousand_rows_stream_in_little_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Customer number", "Name", "Phone", "Email", "Notes"])
        for i in range(200_000):
            writer.writerow(
                [f"C-{i:06d}", f"Person {i}", f"+44 7700 {i:06d}", f"p{i}@example.com", "café, ok"]
            )
    size = path.stat().st_size

    tracemalloc.start()
    try:
        table = open_table(path)
        count = 0
        last: dict[str, str] = {}
        for row in table.rows():
            count += 1
            last = row
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert count == 200_000
    assert last["Customer number"] == "C-199999"
    assert 150_000 < (table.row_count_estimate() or 0) < 250_000
    assert peak < size * 0.2, f"peak {peak} bytes for a file of {size} bytes"


def test_a_workbook_that_inflates_far_beyond_its_size_is_refused(tmp_path: Path) -> None:
    """A "zip bomb" .xlsx: 64 MB of shared strings squeezed into ~64 KB is refused before openpyxl reads it."""
    import zipfile

    from openpyxl import Workbook

    path = tmp_path / "bomb.xlsx"
    book = Workbook()
    book.active.append(["sku", "name"])
    book.save(path)
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/padding.xml", b" " * (64 * 1024**2))
    with pytest.raises(ReadError) as refused:
        open_table(path)
    assert "unpacks to far more data" in refused.value.message
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    assert open_table(plain).columns == ["sku", "name"]
