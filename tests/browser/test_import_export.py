"""Import and export in a real browser: upload a file, check the columns and the first rows, import, watch
the job's progress page finish, undo; export the filtered list to XLSX and download it.

The job runs in the test process (as a worker would) while the page polls it. Skips without chromium,
except in CI (see test_main_flow). A page that breaks the Content-Security-Policy fails the test.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from tests.browser.test_main_flow import ARTIFACTS, PASSWORD, browser_page, crm_data  # noqa: F401 - fixtures

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

CSV = (
    "First Name,Last Name,Mobile Phone,E-mail Address,Company\r\n"
    "Zoe,Zimmer,+49 30 9876543,zoe@example.com,\r\n"
    "Yan,Yu,not a number,yan@example.cn,\r\n"
    ",,,,Umbrella Corp\r\n"
)


def _run_latest_job(kind: str) -> None:
    """What a worker does: pick the job up (a moment later, so the page shows it queued or running)."""
    from kith.jobs import services
    from kith.jobs.models import Job

    job = Job.objects.filter(kind=kind).order_by("-pk").first()
    assert job is not None
    timer = threading.Timer(1.0, services.run, args=[job.pk])
    timer.start()
    timer.join()


def test_import_then_export(live_server, crm_data, browser_page, settings, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    settings.KITH_JOBS_DIR = tmp_path / "jobs"
    page = browser_page
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # Import: upload, the columns are recognised, the first rows are checked.
    page.goto(f"{live_server.url}/customers/")
    page.get_by_role("link", name="Import", exact=True).click()
    source = tmp_path / "contacts.csv"
    source.write_text(CSV, encoding="utf-8")
    page.set_input_files("#id_file", str(source))
    page.get_by_role("button", name="Upload and check the columns").click()
    expect(page.get_by_role("heading", name="Import contacts.csv")).to_be_visible()
    expect(page.locator("select[name=map_2]")).to_have_value("phone:mobile")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("created")
    expect(rows.nth(1)).to_contain_text("rejected")
    expect(rows.nth(1)).to_contain_text("phones.0.number")
    page.screenshot(path=str(ARTIFACTS / "import-preview.png"), full_page=True)
    page.get_by_role("button", name="Import", exact=True).click()
    expect(page.locator("#job-progress")).to_contain_text("queued")
    _run_latest_job("customers.import")
    progress = page.locator("#job-progress")
    expect(progress).to_contain_text("finished")  # the page polled the job until it was done
    expect(progress).to_contain_text("3 of 3 rows (100%)")
    expect(progress.locator("dl.facts")).to_contain_text("Rejected")
    expect(progress.get_by_role("button", name="Undo this import")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "import-done.png"), full_page=True)
    from kith.parties.models import Customer

    assert (
        Customer.objects.filter(family_name="Zimmer").exists()
        and Customer.objects.filter(legal_name="Umbrella Corp").exists()
    )
    assert not Customer.objects.filter(family_name="Yu").exists()

    # Undo it.
    progress.get_by_role("button", name="Undo this import").click()
    _run_latest_job("customers.import_undo")
    expect(page.locator("#job-progress")).to_contain_text("2 customers deleted, 0 restored.")
    assert not Customer.objects.filter(family_name="Zimmer").exists()

    # Export the filtered list to XLSX and download it.
    page.goto(f"{live_server.url}/customers/?q=acme")
    page.get_by_role("button", name="Export").click()
    expect(page.get_by_role("heading", name="Export customers")).to_be_visible()
    expect(page.locator("input[type=hidden][name=q]")).to_have_value("acme")
    page.get_by_label("Excel workbook (XLSX)").check()
    page.get_by_role("button", name="Start the export").click()
    _run_latest_job("customers.export")
    download_link = page.get_by_role("link", name="Download")
    expect(download_link).to_be_visible()
    with page.expect_download() as info:
        download_link.click()
    saved = Path(tmp_path / "export.xlsx")
    info.value.save_as(saved)
    import openpyxl

    sheet = openpyxl.load_workbook(saved).active
    header, *rows = list(sheet.iter_rows(values_only=True))
    assert [row[header.index("display name")] for row in rows] == ["Acme Trading Ltd"]
    page.screenshot(path=str(ARTIFACTS / "export-done.png"), full_page=True)
    assert problems == [], problems


def test_duplicates_compare_and_merge(live_server, crm_data, browser_page, settings, tmp_path):  # noqa: F811
    from playwright.sync_api import expect

    from kith.parties.models import DuplicateCandidate
    from kith.parties.services import duplicates
    from kith.parties.tests.factories import company

    settings.KITH_JOBS_DIR = tmp_path / "jobs"
    user = crm_data["user"]
    copy = company(user, legal_name="ACME Trading Limited", phones=[{"number": "+1 (415) 555-0100"}])
    twins = [
        company(user, legal_name=name, emails=[{"address": "orders@twin.example"}])
        for name in ("Twin Works North", "Twin Works South")
    ]
    duplicates.scan_changed()
    page = browser_page
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{live_server.url}/customers/")
    page.get_by_role("link", name="Duplicates").click()
    twin_row = page.locator("table tbody tr", has_text="Twin Works North")
    twin_row.get_by_role(
        "button", name="Not the same"
    ).click()  # one form below the table, one button per row
    expect(page.locator("table tbody tr", has_text="Twin Works North")).to_have_count(0)
    assert DuplicateCandidate.objects.get(first__in=twins, second__in=twins).status == "dismissed"
    row = page.locator("table tbody tr").first
    expect(row).to_contain_text("same phone")
    expect(row).to_contain_text("ACME Trading Limited")
    row.get_by_role("link", name="Compare and merge").click()
    expect(page.get_by_role("heading", name="Merge customers")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "merge.png"), full_page=True)
    page.get_by_role("button", name="Merge").click()
    survivor = crm_data["acme"] if crm_data["acme"].pk < copy.pk else copy
    expect(page.get_by_role("heading", name=survivor.display_name)).to_be_visible()
    expect(page.locator(".messages")).to_contain_text("was merged into")
    gone = copy if survivor is crm_data["acme"] else crm_data["acme"]
    page.goto(f"{live_server.url}/customers/{gone.customer_number}/")
    expect(page).to_have_url(f"{live_server.url}/customers/{survivor.customer_number}/")


SAMPLES = [
    "google_contacts.csv",
    "google_contacts_legacy.csv",
    "hubspot_contacts_export.csv",
    "linkedin_connections.csv",
    "outlook_com.csv",
    "outlook_desktop.csv",
    "salesforce_Account.csv",
    "salesforce_Contact.csv",
    "vcards/rfc2426_section7_examples.vcf",
    "vcards/rfc6350_section8_example.vcf",
    "vcards/synthetic_mixed_versions.vcf",
]


def test_each_sample_imports(live_server, crm_data, browser_page, settings, tmp_path, formats):  # noqa: F811
    """Every sample export of another system in ../shared/data/formats: uploaded in the browser, its columns
    recognised and the mapping pre-filled, then imported (a second import of the same file creates no one:
    kith/parties/tests/test_imports.py)."""
    from playwright.sync_api import expect

    from kith.jobs.models import Job

    settings.KITH_JOBS_DIR = tmp_path / "jobs"
    page = browser_page
    problems: list[str] = []
    page.on(
        "response",
        lambda r: (
            problems.append(f"{r.status} {r.url}") if r.status >= 400 and "favicon" not in r.url else None
        ),
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    for name in SAMPLES:
        page.goto(f"{live_server.url}/customers/import/")
        page.set_input_files("#id_file", str(formats / name))
        page.get_by_role("button", name="Upload and check the columns").click()
        expect(page.get_by_role("heading", name=f"Import {Path(name).name}")).to_be_visible()
        expect(page.locator(".badge", has_text="recognised:")).to_be_visible()
        chosen = page.locator("select[name^=map_]").evaluate_all("els => els.filter(e => e.value).length")
        assert chosen >= 2, (name, chosen)  # the mapping is pre-filled
        page.screenshot(path=str(ARTIFACTS / f"import-{Path(name).stem}.png"), full_page=True)
        page.get_by_role("button", name="Import", exact=True).click()
        expect(page.locator("#job-progress")).to_be_visible()
        _run_latest_job("customers.import")
        expect(page.locator("#job-progress")).to_contain_text("finished")
        job = Job.objects.filter(kind="customers.import").latest("pk")
        counts = job.result["counts"]
        assert sum(counts.values()) == job.total, (name, counts)  # every row accounted for
        # several files hold the same people: those rows match customers made from an earlier file
        assert counts.get("rejected", 0) < job.total, (name, counts)
    assert problems == [], problems
