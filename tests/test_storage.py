"""Storage for staged parts and archives: a local folder, or an S3-compatible bucket (moto's real
HTTP server here) shared by workers that each have their own working folder."""
import io
import json
import os
import subprocess
import sys
import urllib.request
import zipfile

import boto3
import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, LiveServer, screenshot, sync_playwright
from helpers import ROOT, csrf_token, links_in, submit
from moto.server import ThreadedMotoServer
from rq.job import Job
from rq.registry import FinishedJobRegistry
from test_downloads import completed_with_archive, post
from test_links import verify_path
from test_workflows import the_request

from app.extensions import db
from app.models import Delivery, Step
from app.queue import queue, redis_connection
from app.storage import SUMMARY, LocalStorage, S3Storage, storage
from scripts.devredis import free_port
from workflows.demo import seed
from workflows.steps import run_step

BUCKET = "dsr-test"


@pytest.fixture(scope="module")
def s3_endpoint():
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_env(s3_endpoint, monkeypatch):
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    client = boto3.client("s3", endpoint_url=s3_endpoint)
    if BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
        client.create_bucket(Bucket=BUCKET)
    return s3_endpoint


def fill(folder):
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "users.json").write_text('[{"id": 1}]')
    (folder / SUMMARY).write_text('{"store": "accounts"}')


@pytest.mark.parametrize("kind", ["local", "s3"])
def test_trees_and_files_round_trip_and_delete(kind, tmp_path, request):
    if kind == "s3":
        files = S3Storage(BUCKET, f"unit-{os.getpid()}", request.getfixturevalue("s3_env"))
    else:
        files = LocalStorage(tmp_path / "root")
    fill(tmp_path / "part")
    files.put_tree(tmp_path / "part", "staging/R1/accounts")
    files.get_tree("staging/R1", tmp_path / "copy")
    assert (tmp_path / "copy" / "accounts" / "data" / "users.json").read_text() == '[{"id": 1}]'
    (tmp_path / "archive.zip").write_bytes(b"PK-bytes")
    files.put_file(tmp_path / "archive.zip", "R1/dsr-R1.zip")
    with files.open("R1/dsr-R1.zip") as stream:
        assert stream.read() == b"PK-bytes"
    assert files.exists("R1/dsr-R1.zip") and not files.exists("R1/other.zip")
    assert not files.exists("staging/R1")  # a tree is not a finished file
    files.delete("staging/R1")
    files.get_tree("staging/R1", tmp_path / "after")
    assert not (tmp_path / "after").exists()
    for bad in ("../escape", "/etc/passwd", "a/../../b"):
        with pytest.raises(ValueError):
            files.put_file(tmp_path / "archive.zip", bad)


def start_worker(work_dir):
    env = dict(os.environ, WORK_DIR=str(work_dir))
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def test_workers_with_separate_folders_share_one_bucket(make_app, smtp_server, s3_env,
                                                        monkeypatch, tmp_path):
    controller, sink = smtp_server
    monkeypatch.setenv("STORES_CONFIG", str(seed(tmp_path / "demo", size=1)))
    monkeypatch.setenv("MAIL_SERVER", controller.hostname)
    monkeypatch.setenv("MAIL_PORT", str(controller.port))
    monkeypatch.setenv("STORAGE_URL", f"s3://{BUCKET}/fanout-{os.getpid()}")
    monkeypatch.setenv("S3_ENDPOINT_URL", s3_env)
    monkeypatch.setenv("ARCHIVE_ENCRYPTION", "none")
    app = make_app()
    client = app.test_client()
    submit(client, email="alice@example.com")
    path = verify_path(app)
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    with app.app_context():
        discover = db.session.execute(db.select(Step.id).where(Step.phase == "discover"))
        run_step(discover.scalar_one())  # here: its store steps then wait for two workers

    # Two "machines": two workers, each with a working folder of its own, drain the steps.
    workers = [start_worker(tmp_path / f"machine-{n}") for n in (1, 2)]
    for worker in workers:
        assert worker.wait(timeout=300) == 0, worker.stderr.read()[-2000:]
    with app.app_context():
        registry = FinishedJobRegistry(queue=queue())
        names = {Job.fetch(job_id, connection=redis_connection()).worker_name
                 for job_id in registry.get_job_ids() if job_id.startswith("step-")}
    assert len(names) == 2, names  # the store steps fanned out across both workers

    # A third machine assembles: it has none of the staged parts but what the bucket holds.
    reference = the_request(app).reference
    result = app.test_cli_runner().invoke(args=[
        "requests", "resolve-step", reference, "payment_processor", "--by", "agent@craftos.net",
        "--note", "nothing at the processor"])
    assert result.exit_code == 0, result.output
    assert start_worker(tmp_path / "machine-3").wait(timeout=300) == 0
    assert the_request(app).state == "completed"
    assert not (tmp_path / "machine-3" / "staging").exists() or not any(
        (tmp_path / "machine-3" / "staging").iterdir())  # cleaned up after assembly

    with app.app_context():
        delivery = db.session.execute(db.select(Delivery)).scalar_one()
        assert storage().local_path(delivery.path) is None  # it lives in the bucket
    worker = start_worker(tmp_path / "machine-1")
    worker.wait(timeout=120)  # deliver the completion email
    link = next(x for m in reversed(sink.messages) for x in links_in(m) if "/download/" in x)
    download = link.split("/download/", 1)[1]
    response = client.post(f"/download/{download}",
                           data={"csrf_token": csrf_token(client, "/requests/new")})
    assert response.status_code == 303  # counted here, fetched from the bucket
    with urllib.request.urlopen(response.headers["Location"]) as fetched:
        archive = zipfile.ZipFile(io.BytesIO(fetched.read()))
    manifest = json.loads(archive.read("manifest.json"))
    assert manifest["reference"] == reference
    assert len(manifest["stores"]) >= 10  # every store's part made it, whoever staged it
    users = json.loads(archive.read("data/accounts/users.json"))
    assert [u["email"] for u in users] == ["alice@example.com"]


@pytest.mark.parametrize("seconds", [60, 0])
def test_bucket_downloads_are_counted_then_fetched_from_the_bucket_or_streamed(
        make_app, s3_env, monkeypatch, tmp_path, seconds):
    monkeypatch.setenv("STORAGE_URL", f"s3://{BUCKET}/downloads-{os.getpid()}-{seconds}")
    monkeypatch.setenv("S3_ENDPOINT_URL", s3_env)
    app = make_app(S3_DOWNLOAD_URL_SECONDS=seconds)
    path = completed_with_archive(app, tmp_path, max_downloads=1)
    client = app.test_client()
    csp = client.get(path).headers["Content-Security-Policy"]
    response = post(client, path)
    if seconds:
        # The page's form may lead to the bucket (browsers check form-action on redirects).
        assert f"form-action 'self' {s3_env};" in csp
        assert response.status_code == 303
        url = response.headers["Location"]
        assert url.startswith(s3_env + "/") and "X-Amz-Expires=60" in url
        with urllib.request.urlopen(url) as fetched:
            assert fetched.read().startswith(b"PK")
            assert fetched.headers["Content-Type"] == "application/zip"
            assert "attachment" in fetched.headers["Content-Disposition"]
    else:
        assert "form-action 'self';" in csp
        assert response.status_code == 200 and response.data.startswith(b"PK")
    assert post(client, path).status_code == 410  # counted, whichever way it was handed over


def test_in_a_browser_the_download_button_follows_the_redirect_to_the_bucket(
        make_app, s3_env, monkeypatch, tmp_path):
    """Chromium applies CSP form-action to the redirect that answers a form: if the page did
    not allow the bucket's origin, the download would silently be blocked."""
    start = sync_playwright()
    monkeypatch.setenv("STORAGE_URL", f"s3://{BUCKET}/browser-{os.getpid()}")
    monkeypatch.setenv("S3_ENDPOINT_URL", s3_env)
    app = make_app()
    path = completed_with_archive(app, tmp_path, max_downloads=1)
    with LiveServer(app, free_port()) as server, start() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(accept_downloads=True, locale="en-GB").new_page()
            refused = []
            page.on("console", lambda message: refused.append(message.text)
                    if "Content Security Policy" in message.text else None)
            page.goto(server.url + path)
            screenshot(page, "30-download-from-bucket")
            with page.expect_download() as info:
                page.get_by_role("button", name="Download").click()
            saved = tmp_path / "saved.zip"
            info.value.save_as(saved)
            assert info.value.url.startswith(s3_env + "/")  # fetched from the bucket itself
            assert info.value.suggested_filename.startswith("dsr-")
            assert saved.read_bytes().startswith(b"PK")
            assert refused == []
        finally:
            browser.close()
