"""`make run` itself (scripts/serve.py): on embedded defaults it serves the portal with a
worker, a cron and a private Redis that other shells can find, and Ctrl-C stops all of it."""
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from scripts.devredis import free_port

ROOT = Path(__file__).resolve().parent.parent


def answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - 127.0.0.1 only
            return response.status
    except OSError:
        return None


def start_make_run(tmp_path):
    """scripts/serve.py on embedded defaults in its own process group, as a terminal runs it."""
    env = {k: v for k, v in os.environ.items() if k not in (
        "REDIS_URL", "DATABASE_URL", "MAIL_SERVER", "SECRET_KEY", "DSR_ENV", "STORES_CONFIG",
        "ARCHIVE_DIR", "WORK_DIR", "STORAGE_URL", "BASE_URL")}
    env.update({"INSTANCE_DIR": str(tmp_path / "instance"), "PORT": str(free_port()),
                "PYTHONUNBUFFERED": "1"})
    run = subprocess.Popen([sys.executable, "scripts/serve.py"], cwd=ROOT, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           start_new_session=True)
    return run, int(env["PORT"])


def ctrl_c(run):
    """Ctrl-C to the whole foreground group; the output once everything stopped."""
    try:
        os.killpg(run.pid, signal.SIGINT)
        output, _ = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    return output


def assert_stopped_cleanly(run, output, tmp_path):
    assert run.returncode == 0, output[-3000:]
    # No child died of KeyboardInterrupt, and Redis outlived everything that used it.
    assert "Traceback" not in output and "KeyboardInterrupt" not in output, output[-3000:]
    assert not (tmp_path / "instance" / "redis-url").exists()
    try:
        os.killpg(run.pid, 0)
        left = True
    except ProcessLookupError:
        left = False
    assert not left, "a process of make run's group is still running"


def test_make_run_serves_on_embedded_defaults_and_ctrl_c_stops_everything(tmp_path):
    run, port = start_make_run(tmp_path)
    try:
        deadline = time.monotonic() + 120
        while answers(f"http://127.0.0.1:{port}/healthz") != 200:
            assert run.poll() is None, run.stdout.read()[-3000:]
            assert time.monotonic() < deadline, "make run did not answer within 120 s"
            time.sleep(0.5)
        assert answers(f"http://127.0.0.1:{port}/requests/new") == 200
        url_file = tmp_path / "instance" / "redis-url"
        redis_port = int(url_file.read_text().strip().rsplit(":", 1)[1].split("/")[0])
    finally:
        output = ctrl_c(run)
    assert_stopped_cleanly(run, output, tmp_path)
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", redis_port)) != 0  # the private Redis is gone


def test_ctrl_c_while_the_children_start_stops_cleanly_without_a_traceback(tmp_path):
    """Ctrl-C the moment the worker, cron and web server have been started (they are still
    importing) reaches every process of the group: the supervisor stops them in order and no
    child dies of KeyboardInterrupt with a traceback (seen: three runs in four before they
    left Ctrl-C to the supervisor)."""
    run, _ = start_make_run(tmp_path)
    try:
        for line in run.stdout:
            if line.startswith("DSR Portal on"):
                break
    finally:
        output = ctrl_c(run)
    assert_stopped_cleanly(run, output, tmp_path)
