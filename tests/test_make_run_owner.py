"""One `make run` per instance folder: a second one refuses to start and leaves the first's
Redis alone; a run whose Redis exits stops everything; a killed run's Redis is an orphan that
the next run stops."""
import os
import signal
import subprocess
import sys
import time

import redis
from test_make_run import ROOT, answers

from scripts.devredis import free_port


def start(tmp_path, port):
    env = {k: v for k, v in os.environ.items() if k not in (
        "REDIS_URL", "DATABASE_URL", "MAIL_SERVER", "SECRET_KEY", "DSR_ENV", "STORES_CONFIG",
        "ARCHIVE_DIR", "WORK_DIR", "STORAGE_URL", "BASE_URL")}
    env.update({"INSTANCE_DIR": str(tmp_path / "instance"), "PORT": str(port)})
    return subprocess.Popen([sys.executable, "scripts/serve.py"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def wait_healthy(run, port):
    deadline = time.monotonic() + 120
    while answers(f"http://127.0.0.1:{port}/healthz") != 200:
        assert run.poll() is None, run.stdout.read()[-3000:]
        assert time.monotonic() < deadline, "make run did not answer within 120 s"
        time.sleep(0.5)


def group_alive(pid):
    try:
        os.killpg(pid, 0)
    except ProcessLookupError:
        return False
    return True


def redis_url(tmp_path):
    return (tmp_path / "instance" / "redis-url").read_text().strip()


def shutdown(url):
    try:
        redis.Redis.from_url(url, socket_timeout=5).shutdown()
    except redis.ConnectionError:
        pass  # gone, or gone while answering


def test_a_second_run_refuses_and_a_run_whose_redis_exits_stops(tmp_path):
    first_port, second_port = free_port(), free_port()
    first = start(tmp_path, first_port)
    urls, runs = [], [first]
    try:
        wait_healthy(first, first_port)
        urls.append(redis_url(tmp_path))
        second = start(tmp_path, second_port)
        runs.append(second)
        output, _ = second.communicate(timeout=60)
        assert second.returncode != 0
        assert "make run is already running" in output, output[-3000:]
        assert f"pid {first.pid}, port {first_port}" in output
        assert redis.Redis.from_url(urls[0]).ping()  # the first run's Redis is untouched
        assert answers(f"http://127.0.0.1:{first_port}/healthz") == 200
        assert redis_url(tmp_path) == urls[0]
        assert answers(f"http://127.0.0.1:{second_port}/healthz") is None

        shutdown(urls[0])  # its Redis goes: the run stops everything rather than limp on
        output, _ = first.communicate(timeout=60)
        assert first.returncode == 1
        assert "the private Redis exited" in output
        assert not group_alive(first.pid)
        assert answers(f"http://127.0.0.1:{first_port}/healthz") is None
    finally:
        for run in runs:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()
        if (tmp_path / "instance" / "redis-url").exists():  # whichever run wrote it last
            urls.append(redis_url(tmp_path))
        for url in urls:
            shutdown(url)


def test_a_killed_runs_redis_is_an_orphan_the_next_run_stops(tmp_path):
    port = free_port()
    killed = start(tmp_path, port)
    urls, runs = [], [killed]
    try:
        wait_healthy(killed, port)
        urls.append(redis_url(tmp_path))
        os.killpg(killed.pid, signal.SIGKILL)  # everything but Redis, in its own session
        killed.wait()
        assert redis.Redis.from_url(urls[0]).ping()

        runs.append(start(tmp_path, port))
        wait_healthy(runs[1], port)
        urls.append(redis_url(tmp_path))
        assert urls[1] != urls[0]
        try:
            redis.Redis.from_url(urls[0], socket_timeout=2).ping()
            orphan_alive = True
        except redis.ConnectionError:
            orphan_alive = False
        assert not orphan_alive
        os.killpg(runs[1].pid, signal.SIGINT)
        assert runs[1].wait(timeout=60) == 0
    finally:
        for run in runs:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()
        for url in urls:
            shutdown(url)
