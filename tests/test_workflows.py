"""End to end with a real RQ worker and real Redis on the CraftOS demo data: access, deletion,
correction — the archive matches the stores, erasure keeps what the law requires."""
import hashlib
import io
import json
import re
import zipfile

import pytest
import pyzipper
from helpers import csrf_token, links_in, run_worker, submit
from test_links import verify_path

from app.extensions import db
from app.models import AuditEvent, DataRequest, Delivery, Step
from workflows.datamap import load_datamap
from workflows.scan import scan
from workflows.stores import make_store


def confirm(client, app):
    path = verify_path(app)
    return client.post(path, data={"csrf_token": csrf_token(client, path)})


def the_request(app):
    with app.app_context():
        data_request = db.session.execute(db.select(DataRequest)).scalar_one()
        db.session.expunge(data_request)
        return data_request


def cli(app, *args):
    result = app.test_cli_runner().invoke(args=list(args))
    assert result.exit_code == 0, result.output
    return result.output


def resolve_manual(app, reference):
    cli(app, "requests", "resolve-step", reference, "payment_processor", "--by",
        "agent@craftos.net", "--note", "processor holds no extra data for this person")


def approved_and_run(app, client, **fields):
    """A request from the form to its end: confirmed, approved by staff, run (the demo's
    manual processor step resolved); returns the request."""
    submit(client, **fields)
    confirm(client, app)
    reference = the_request(app).reference
    cli(app, "requests", "approve", reference, "--by", "dpo@craftos.net")
    run_worker()
    resolve_manual(app, reference)
    run_worker()
    return the_request(app)


def erase(app, client, email, **fields):
    """A deletion from the form to its end; returns the request."""
    return approved_and_run(app, client, email=email, request_type="deletion", confirm="y",
                            **fields)


def test_access_request_produces_an_archive_matching_the_stores(demo_app, smtp_server):
    _, sink = smtp_server
    client = demo_app.test_client()
    submit(client, email="alice@example.com")
    confirm(client, demo_app)
    run_worker()
    data_request = the_request(demo_app)
    assert data_request.state == "in_progress"
    with demo_app.app_context():
        waiting = db.session.execute(db.select(Step).where(Step.state == "waiting")).scalars()
        assert [s.store for s in waiting] == ["payment_processor"]
    resolve_manual(demo_app, data_request.reference)
    run_worker()

    data_request = the_request(demo_app)
    assert data_request.state == "completed"
    ready = [m for m in sink.messages if "ready to download" in m["Subject"]]
    assert len(ready) == 1
    download_link = next(link for link in links_in(ready[0]) if "/download/" in link)
    path = download_link.removeprefix("http://portal.test")

    page = client.get(path)
    assert page.status_code == 200 and b"Downloads left" in page.data
    # The first press shows the AES-256 passphrase, once; the second downloads.
    shown = client.post(path, data={"csrf_token": csrf_token(client, path)})
    passphrase = re.search(r'class="passphrase"><code>([A-Z0-9-]+)</code>',
                           shown.get_data(as_text=True)).group(1)
    assert passphrase.encode() not in client.get(path).data
    response = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/zip"
    with pytest.raises(RuntimeError, match="password required"):
        zipfile.ZipFile(io.BytesIO(response.data)).read("manifest.json")
    archive = pyzipper.AESZipFile(io.BytesIO(response.data))
    archive.setpassword(passphrase.encode())
    assert archive.getinfo("manifest.json").flag_bits & 0x1  # every member is encrypted

    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["reference"] == data_request.reference
    for entry in manifest["files"]:
        assert hashlib.sha256(archive.read(entry["path"])).hexdigest() == entry["sha256"]
        assert archive.getinfo(entry["path"]).file_size == entry["bytes"]
    names = set(archive.namelist())
    assert {"index.html", "report.pdf", "manifest.json"} <= names

    # The archive holds exactly what a scan of the live stores finds for Alice.
    with demo_app.app_context():
        expected = scan(load_datamap(demo_app.config["STORES_CONFIG"]), "alice@example.com")
    for store, tables in expected.items():
        for table, count in tables.items():
            if table == "files":
                assert manifest["stores"][store]["files"] == count, store
            else:
                rows = json.loads(archive.read(f"data/{store}/{table}.json"))
                assert len(rows) == count == manifest["stores"][store]["records"][table]
    users = json.loads(archive.read("data/accounts/users.json"))
    assert [u["email"] for u in users] == ["alice@example.com"]
    assert "password_hash" not in users[0]

    with demo_app.app_context():
        delivery = db.session.execute(db.select(Delivery)).scalar_one()
        assert delivery.downloads == 1
        actions = [e.action for e in db.session.execute(
            db.select(AuditEvent).order_by(AuditEvent.seq)).scalars()]
        assert actions[-4:] == ["manual_step_resolved", "completed", "passphrase_shown",
                                "downloaded"]
        delivery = db.session.execute(db.select(Delivery)).scalar_one()
        assert delivery.passphrase is None and delivery.passphrase_shown_at is not None
    assert "1 chain(s) checked, 0 broken" in cli(demo_app, "audit", "verify",
                                                 data_request.reference)


def test_deletion_erases_everything_erasable_and_keeps_billing(demo_app, smtp_server):
    _, sink = smtp_server
    client = demo_app.test_client()
    submit(client, email="alice@example.com", request_type="deletion", confirm="y")
    confirm(client, demo_app)
    reference = the_request(demo_app).reference
    assert the_request(demo_app).state == "verified"  # deletion waits for a person
    with demo_app.app_context():
        before = scan(load_datamap(demo_app.config["STORES_CONFIG"]), "alice@example.com")
        bob_before = scan(load_datamap(demo_app.config["STORES_CONFIG"]), "bob@example.com")
    cli(demo_app, "requests", "approve", reference, "--by", "dpo@craftos.net")
    run_worker()
    resolve_manual(demo_app, reference)
    run_worker()

    data_request = the_request(demo_app)
    assert data_request.state == "completed"
    assert data_request.email is None and data_request.email_hash  # minimised
    with demo_app.app_context():
        after = scan(load_datamap(demo_app.config["STORES_CONFIG"]), "alice@example.com")
        bob_after = scan(load_datamap(demo_app.config["STORES_CONFIG"]), "bob@example.com")
    assert bob_after == bob_before  # shared ticket and workspace: Bob keeps his data
    retained = {(store.name, table.table) for store in load_datamap(
        demo_app.config["STORES_CONFIG"]).stores for table in store.tables
        if table.on_erase == "retain"}
    assert ("billing", "invoices") in retained and before["billing"]["invoices"] > 0
    for store, tables in after.items():
        for table, count in tables.items():
            expected = before[store][table] if (store, table) in retained else 0
            assert count == expected, (store, table, count)

    erased = next(m for m in sink.messages if "erased" in m["Subject"])
    text = erased.get_body(preferencelist=("plain",)).get_content()
    assert "Tax law" in text and "180 days" in text
    certificate_link = next(link for link in links_in(erased) if "/download/" in link)
    path = certificate_link.removeprefix("http://portal.test")
    pdf = client.post(path, data={"csrf_token": csrf_token(client, path)})
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")


def test_correction_changes_the_named_field_everywhere(demo_app, smtp_server):
    _, sink = smtp_server
    client = demo_app.test_client()
    data_request = approved_and_run(
        demo_app, client, email="alice@example.com", request_type="correction",
        **{"corrections-0-field": "name", "corrections-0-problem": "typo",
           "corrections-0-proposed": "Alice Q. Example"})
    assert data_request.state == "completed"
    with demo_app.app_context():
        config = next(s for s in load_datamap(demo_app.config["STORES_CONFIG"]).stores
                      if s.name == "accounts")
        store = make_store(config)
        rows = [item.row for item in store.find({"email": {"alice@example.com"}})
                if getattr(item, "table", None) == "users"]
        store.close()
    assert [r["name"] for r in rows] == ["Alice Q. Example"]
    assert any("corrected" in m["Subject"] for m in sink.messages)
