"""In a real browser: a person asks for their data in Japanese, confirms it from the email,
watches progress, and downloads the archive."""
import io
import json
from pathlib import Path

import pytest
import pyzipper
from browser_support import CHROMIUM, CHROMIUM_ARGS, LiveServer, screenshot, sync_playwright
from helpers import links_in, run_worker
from test_staff_access import PASSWORD, create_staff
from test_workflows import cli

from app.extensions import db
from app.models import DataRequest
from scripts.devredis import free_port
from workflows.demo import seed


@pytest.fixture
def browser_app(make_app, smtp_server, monkeypatch, tmp_path_factory):
    """The demo company's portal on a live port; emails carry links to that port."""
    start = sync_playwright()
    port = free_port()
    controller, sink = smtp_server
    monkeypatch.setenv("BASE_URL", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("STORES_CONFIG", str(seed(tmp_path_factory.mktemp("demo") / "d", size=1)))
    monkeypatch.setenv("MAIL_SERVER", controller.hostname)
    monkeypatch.setenv("MAIL_PORT", str(controller.port))
    app = make_app()
    with LiveServer(app, port) as server, start() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield app, server, browser, sink
        finally:
            browser.close()


def newest_link(sink, part):
    return next(link for m in reversed(sink.messages) for link in links_in(m) if part in link)


def test_person_requests_access_in_japanese_and_downloads_the_archive(browser_app, tmp_path):
    app, server, browser, sink = browser_app
    page = browser.new_context(locale="ja-JP", timezone_id="Asia/Tokyo",
                               accept_downloads=True).new_page()

    page.goto(server.url + "/")
    assert page.locator("h1").inner_text() == "あなたのデータに関する権利"
    screenshot(page, "01-index-ja")
    page.get_by_role("link", name="リクエストする").click()
    page.get_by_label("開示 — 保有している私のデータの写しがほしい").check()
    page.get_by_label("メールアドレス").fill("alice@example.com")
    page.get_by_label("お名前").fill("Alice Example")
    page.get_by_label("お住まいの地域").select_option("japan")
    screenshot(page, "02-form-ja")
    page.get_by_role("button", name="リクエストを送信").click()
    assert page.locator("h1").inner_text() == "メールをご確認ください"
    screenshot(page, "03-sent-ja")

    run_worker()
    assert "のご確認" in sink.messages[-1]["Subject"]
    page.goto(newest_link(sink, "/verify/"))
    screenshot(page, "04-verify-ja")
    page.get_by_role("button", name="はい、私のリクエストです").click()
    assert "対応中" in page.locator("main").inner_text()
    assert "(Asia/Tokyo)" in page.locator("main").inner_text()  # due date in the person's zone

    run_worker()  # every store but the manual payment processor
    page.reload()
    assert "担当者が手作業で対応します" in page.locator("main").inner_text()
    screenshot(page, "05-status-progress-ja")
    with app.app_context():
        reference = db.session.execute(db.select(DataRequest.reference)).scalar_one()
    cli(app, "requests", "resolve-step", reference, "payment_processor", "--by",
        "agent@craftos.net", "--note", "nothing held at the processor")
    run_worker()
    page.reload()
    assert "完了" in page.locator("main").inner_text()
    screenshot(page, "06-status-done-ja")

    page.goto(newest_link(sink, "/download/"))
    screenshot(page, "07-download-ja")
    page.get_by_role("button", name="パスフレーズを表示する").click()
    passphrase = page.locator("p.passphrase code").inner_text()
    screenshot(page, "08-passphrase-ja")
    with page.expect_download() as info:
        page.get_by_role("button", name="書き留めました — アーカイブをダウンロードする").click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert saved.name == f"dsr-{reference}.zip"
    with pyzipper.AESZipFile(io.BytesIO(saved.read_bytes())) as archive:
        archive.setpassword(passphrase.encode())
        manifest = json.loads(archive.read("manifest.json"))
        assert manifest["reference"] == reference
        users = json.loads(archive.read("data/accounts/users.json"))
        assert [u["email"] for u in users] == ["alice@example.com"]


def test_public_pages_are_usable_without_sight_or_colour(browser_app):
    app, server, browser, sink = browser_app
    page = browser.new_context(locale="en-GB").new_page()
    for path in ("/", "/requests/new", "/requests/new?lang=ja"):
        page.goto(server.url + path)
        landmarks = page.evaluate(
            "['header', 'main', 'footer', 'nav'].map(t => document.querySelectorAll(t).length)")
        assert landmarks == [1, 1, 1, 1], path
        unlabeled = page.evaluate(
            "[...document.querySelectorAll('input:not([type=hidden]), select, textarea')]"
            ".filter(e => e.labels.length === 0).map(e => e.name)")
        assert unlabeled == [], path
    # Submit the empty form: every error is written out and tied to its field.
    page.goto(server.url + "/requests/new?lang=en")
    page.get_by_role("button", name="Send request").click()
    screenshot(page, "09-form-errors-en")
    invalid = page.evaluate(
        "[...document.querySelectorAll('[aria-invalid=true]')].map(e => ["
        "e.name, document.getElementById(e.getAttribute('aria-describedby').split(' ').pop())"
        "?.innerText])")
    messages = dict(invalid)
    assert "Enter the email address you use with us." in messages["email"]
    assert "Enter your name." in messages["name"]
    summary = page.get_by_role("alert").inner_text()
    assert "Please check the form" in summary and "Choose the kind of request." in summary
    # Keyboard users reach the form in reading order: skip link first, then the header.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"


def test_staff_member_approves_a_deletion_and_the_person_gets_the_certificate(browser_app):
    app, server, browser, sink = browser_app
    create_staff(app, "dpo@craftos.net", role="admin")
    person = browser.new_context(locale="en-GB").new_page()
    person.goto(server.url + "/requests/new")
    person.get_by_label("Deletion — erase the data you hold about me").check()
    person.get_by_label("Your email address").fill("alice@example.com")
    person.get_by_label("Your name").fill("Alice Example")
    person.get_by_label("Where do you live?").select_option("eu")
    person.get_by_label("I understand that deletion is permanent and cannot be undone").check()
    person.get_by_role("button", name="Send request").click()
    run_worker()
    person.goto(newest_link(sink, "/verify/"))
    person.get_by_role("button", name="Yes, this is my request").click()
    assert "Confirmed" in person.locator("main").inner_text()  # deletion waits for a person

    staff = browser.new_context(locale="en-GB").new_page()
    staff.goto(server.url + "/staff/")
    assert "/staff/login" in staff.url  # deny by default
    staff.get_by_label("Email").fill("dpo@craftos.net")
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Log in").click()
    screenshot(staff, "10-staff-queue")
    with app.app_context():
        data_request = db.session.execute(db.select(DataRequest)).scalar_one()
    staff.get_by_role("link", name=data_request.reference).click()
    staff.get_by_role("button", name="Scan the stores (preview)").click()
    run_worker()  # the preview is a job: pages never query the company's stores
    staff.reload()
    assert "billing" in staff.locator("main").inner_text()
    screenshot(staff, "11-staff-request-preview")
    staff.get_by_role("button", name="Approve and start").click()
    run_worker()
    staff.reload()
    screenshot(staff, "12-staff-manual-step")
    staff.get_by_label("What was done").fill("Processor confirmed erasure by ticket #4411")
    staff.get_by_role("button", name="Mark payment_processor done").click()
    run_worker()
    staff.reload()
    assert "completed" in staff.locator("main").inner_text()

    erased = next(m for m in reversed(sink.messages) if "erased" in m["Subject"])
    assert "Tax law" in erased.get_body(preferencelist=("plain",)).get_content()
    person.goto(newest_link(sink, "/download/"))
    screenshot(person, "13-certificate-download")
    with person.expect_download() as info:
        person.get_by_role("button", name="Download").click()
    assert info.value.suggested_filename == f"deletion-certificate-{data_request.reference}.pdf"
    assert Path(info.value.path()).read_bytes().startswith(b"%PDF")


def test_forms_work_over_https(make_app, monkeypatch):
    """Over https Flask-WTF also checks that a form POST's Referer is the site itself, so the
    pages' referrer policy must let the browser send it: with `no-referrer` every person's and
    every staff member's form was refused ("The form could not be accepted")."""
    start = sync_playwright()
    port = free_port()
    monkeypatch.setenv("BASE_URL", f"https://127.0.0.1:{port}")
    app = make_app()
    create_staff(app, "dpo@craftos.net", role="admin")
    with LiveServer(app, port, https=True) as server, start() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(locale="en-GB", ignore_https_errors=True)
            person = context.new_page()
            person.goto(server.url + "/requests/new")
            person.get_by_label("Access — a copy of the data you hold about me").check()
            person.get_by_label("Your email address").fill("alice@example.com")
            person.get_by_label("Your name").fill("Alice Example")
            person.get_by_label("Where do you live?").select_option("eu")
            person.get_by_role("button", name="Send request").click()
            assert person.locator("h1").inner_text() == "Check your email"

            staff = context.new_page()
            staff.goto(server.url + "/staff/login")
            staff.get_by_label("Email").fill("dpo@craftos.net")
            staff.get_by_label("Password").fill(PASSWORD)
            staff.get_by_role("button", name="Log in").click()
            assert staff.url.startswith(server.url + "/staff")
            assert "/staff/login" not in staff.url
        finally:
            browser.close()
        with app.app_context():
            assert db.session.execute(db.select(DataRequest.email)).scalar_one() == (
                "alice@example.com")
