"""`make run`: migrate, seed the demo, then serve the portal with a worker and the cron.

Every piece is also an operator command of its own (SPEC): this only starts them together and
stops them together. A private Redis is started when REDIS_URL is unset.
"""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scripts import devredis  # noqa: E402

BIN = Path(sys.executable).parent


def flask(*args):
    return [str(BIN / "flask"), "--app", "wsgi", *args]


def main():
    env = dict(os.environ)
    env.setdefault("DSR_ENV", "development")
    instance = Path(env.setdefault("INSTANCE_DIR", str(ROOT / "instance")))
    port = env.setdefault("PORT", "5000")
    children = []
    if not env.get("REDIS_URL"):
        redis_process, env["REDIS_URL"] = devredis.start(instance / "redis")
        children.append(redis_process)
        print(f"private Redis at {env['REDIS_URL']} (files in {instance / 'redis'})")

    subprocess.run(flask("db", "upgrade"), env=env, cwd=ROOT, check=True)
    stores = env.get("STORES_CONFIG") or str(instance / "demo" / "stores.toml")
    if not Path(stores).exists():
        subprocess.run(flask("demo", "seed"), env=env, cwd=ROOT, check=True)

    children.append(subprocess.Popen(flask("worker"), env=env, cwd=ROOT))
    children.append(subprocess.Popen(flask("cron"), env=env, cwd=ROOT))
    children.append(subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4",
         "wsgi:app"], env=env, cwd=ROOT))
    print(f"DSR Portal on http://127.0.0.1:{port}/  (dev mailbox: /dev/mailbox)  Ctrl-C stops")

    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    try:
        while not stopping and all(c.poll() is None for c in children):
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    code = 0 if stopping or all(c.poll() is None for c in children) else 1
    for child in reversed(children):
        if child.poll() is None:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
    sys.exit(code)


if __name__ == "__main__":
    main()
