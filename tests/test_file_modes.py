"""Files with the person's data are the portal's user's alone: staged parts (plain JSON, CSV
and their files), archives and every copy to another folder are 0600, their folders 0700,
whatever the umask; and a machine with its own WORK_DIR keeps no staged part once uploaded."""
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, csrf_token, run_worker, submit
from test_links import verify_path
from test_workflows import confirm, resolve_manual, the_request

from app.extensions import db
from app.models import Step
from app.storage import LocalStorage
from workflows.demo import seed
from workflows.steps import run_step


@pytest.fixture(autouse=True)
def usual_umask():
    """The common 022, under which a file made without a mode is world-readable."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def modes(root):
    """{path: mode} of every file and folder under ``root`` (``root`` itself included)."""
    root = Path(root)
    found = {root: stat.S_IMODE(root.stat().st_mode)}
    for path in root.rglob("*"):
        found[path] = stat.S_IMODE(path.lstat().st_mode)
    return found


def assert_private(root):
    loose = {str(p): oct(m) for p, m in modes(root).items()
             if m != (0o700 if p.is_dir() else 0o600)}
    assert loose == {}


def files_under(root):
    return sorted(p for p in Path(root).rglob("*") if p.is_file())


def test_a_real_archive_build_leaves_only_private_files_under_archive_dir(demo_app):
    archive_dir = Path(demo_app.config["ARCHIVE_DIR"])
    client = demo_app.test_client()
    submit(client, email="alice@example.com")
    confirm(client, demo_app)
    run_worker()  # every store staged; the manual one waits for staff
    staged = files_under(archive_dir / "staging")
    assert any(p.name == "users.json" for p in staged)
    assert_private(archive_dir)

    resolve_manual(demo_app, the_request(demo_app).reference)
    run_worker()
    reference = the_request(demo_app).reference
    assert the_request(demo_app).state == "completed"
    assert (archive_dir / reference / f"dsr-{reference}.zip").is_file()
    assert_private(archive_dir)


def test_copies_to_another_folder_are_private_whatever_the_source_mode(tmp_path):
    part = tmp_path / "work" / "accounts"
    (part / "data").mkdir(parents=True)
    (part / "data" / "users.json").write_text('[{"email": "alice@example.com"}]')
    (part / "staged.json").write_text("{}")
    archive = tmp_path / "work" / "dsr-R1.zip"
    archive.write_bytes(b"PK-bytes")
    for path in (part, part / "data", part / "data" / "users.json", archive):
        path.chmod(0o755 if path.is_dir() else 0o644)

    files = LocalStorage(tmp_path / "shared")
    files.put_tree(part, "staging/R1/accounts")
    files.put_file(archive, "R1/dsr-R1.zip")
    files.get_tree("staging/R1", tmp_path / "machine-2" / "staging" / "R1")
    assert (tmp_path / "shared" / "R1" / "dsr-R1.zip").read_bytes() == b"PK-bytes"
    assert len(files_under(tmp_path / "machine-2")) == 2
    assert_private(tmp_path / "shared")
    assert_private(tmp_path / "machine-2")


def start_worker(work_dir):
    env = dict(os.environ, WORK_DIR=str(work_dir))
    return subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def test_machines_with_their_own_work_dir_keep_no_staged_part_after_uploading_it(
        make_app, smtp_server, monkeypatch, tmp_path):
    controller, _ = smtp_server
    monkeypatch.setenv("STORES_CONFIG", str(seed(tmp_path / "demo", size=1)))
    monkeypatch.setenv("MAIL_SERVER", controller.hostname)
    monkeypatch.setenv("MAIL_PORT", str(controller.port))
    shared = tmp_path / "shared"
    monkeypatch.setenv("STORAGE_URL", f"file://{shared}")
    monkeypatch.setenv("ARCHIVE_ENCRYPTION", "none")  # a plain zip: its mode is all it has
    app = make_app()
    client = app.test_client()
    submit(client, email="alice@example.com")
    path = verify_path(app)
    client.post(path, data={"csrf_token": csrf_token(client, path)})
    with app.app_context():
        discover = db.session.execute(db.select(Step.id).where(Step.phase == "discover"))
        run_step(discover.scalar_one())

    machines = [tmp_path / f"machine-{n}" for n in (1, 2)]
    for worker in [start_worker(folder) for folder in machines]:
        assert worker.wait(timeout=300) == 0, worker.stderr.read()[-2000:]
    reference = the_request(app).reference
    # Uploaded: the shared folder has every part, the machines that staged them nothing.
    assert any(p.name == "users.json" for p in files_under(shared / "staging" / reference))
    for folder in machines:
        assert files_under(folder) == [], folder

    resolve_manual(app, reference)
    assert start_worker(machines[0]).wait(timeout=300) == 0
    assert the_request(app).state == "completed"
    assert files_under(shared) == [shared / reference / f"dsr-{reference}.zip"]
    assert_private(shared)
    for folder in machines:
        # Nothing left on the machines, in a folder only the portal's user can open.
        assert files_under(folder) == [] and modes(folder)[folder] == 0o700
        assert_private(folder / "staging")
        # The assembling machine built the archive in <WORK_DIR>/<reference>/ (0700) and
        # removed the emptied folder once storage held the file.
        assert not (folder / reference).exists()
