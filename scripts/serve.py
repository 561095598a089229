"""`make run`: migrate, seed the demo, then serve the portal with a worker and the cron.

Every piece is also an operator command of its own (SPEC): this only starts them together and
stops them together. A private Redis is started when REDIS_URL is unset; its URL is written to
INSTANCE_DIR/redis-url while it runs, so `flask --app wsgi ...` in another shell finds it too
(app/config.py). Stopping stops the web, worker and cron first and Redis last: a worker whose
Redis vanished under it would log connection errors instead of leaving cleanly.

One run per instance folder: a run holds a lock on INSTANCE_DIR/make-run.lock (its pid and port
inside) for as long as it lives, which the system releases however it ends. A second run in the
same folder refuses to start; a Redis found without a live owner is an orphan and is stopped.
"""
import fcntl
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.config import RUNNING_REDIS_FILE  # noqa: E402
from scripts import devredis  # noqa: E402

BIN = Path(sys.executable).parent


def flask(*args):
    return [str(BIN / "flask"), "--app", "wsgi", *args]


def leave_ctrl_c_to_the_supervisor():
    """In each child before it starts: ignore SIGINT. Ctrl-C reaches the whole foreground
    group, and this script stops its children itself, in order; a child still importing (or a
    migration half-way) would otherwise die of KeyboardInterrupt with a traceback. Once up,
    gunicorn, the RQ worker and cron install handlers of their own."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start(args, env):
    return subprocess.Popen(args, env=env, cwd=ROOT,
                            preexec_fn=leave_ctrl_c_to_the_supervisor)


def set_up(args, env, stopping):
    """One set-up step run to its end (never cut short), unless Ctrl-C came before it."""
    if stopping:
        raise KeyboardInterrupt
    if start(args, env).wait() != 0:
        raise subprocess.CalledProcessError(1, args)


def main():
    env = dict(os.environ)  # DSR_ENV: development unless SECRET_KEY is set (app/config.py)
    instance = Path(env.setdefault("INSTANCE_DIR", str(ROOT / "instance"))).resolve()
    port = env.setdefault("PORT", "5000")
    # Ctrl-C (SIGINT) and SIGTERM mean the same, from the first moment (Redis may already be
    # up while the schema migrates): stop everything, exit 0. A child that died by itself, or
    # a failed set-up step, means something is wrong: stop the rest, exit 1.
    stopping = []
    for number in (signal.SIGTERM, signal.SIGINT):
        signal.signal(number, lambda *_: stopping.append(True))
    children, redis_process = [], None
    url_file = instance / RUNNING_REDIS_FILE
    lock = hold_instance(instance, port)  # noqa: F841 - held until this process exits
    try:
        if not env.get("REDIS_URL"):
            stop_orphan(url_file)
            redis_process, env["REDIS_URL"] = devredis.start(instance / "redis",
                                                             own_session=True)
            url_file.write_text(env["REDIS_URL"] + "\n")
            print(f"private Redis at {env['REDIS_URL']} (files in {instance / 'redis'})")

        set_up(flask("db", "upgrade"), env, stopping)
        stores = env.get("STORES_CONFIG") or str(instance / "demo" / "stores.toml")
        if not Path(stores).exists():
            set_up(flask("demo", "seed"), env, stopping)
        if stopping:
            raise KeyboardInterrupt

        children.append(start(flask("worker"), env))
        children.append(start(flask("cron"), env))
        children.append(start(
            # A graceful timeout shorter than stop()'s wait: gunicorn kills a worker that hangs
            # on its way out itself, instead of its master being killed and the worker orphaned.
            [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
             "--threads", "4", "--graceful-timeout", "5", "wsgi:app"], env))
        mailbox = "" if env.get("SECRET_KEY") else "  (dev mailbox: /dev/mailbox)"
        print(f"DSR Portal on http://127.0.0.1:{port}/{mailbox}  Ctrl-C stops")
        running = children + ([redis_process] if redis_process is not None else [])
        while not stopping and all(c.poll() is None for c in running):
            time.sleep(0.5)
        if redis_process is not None and redis_process.poll() is not None and not stopping:
            print(f"make run: the private Redis exited; stopping (see {instance / 'redis'})",
                  file=sys.stderr)
    except subprocess.CalledProcessError as exc:
        if not stopping:
            print(f"make run: `{' '.join(exc.cmd[1:])}` failed", file=sys.stderr)
    except KeyboardInterrupt:
        pass  # Ctrl-C during set-up: stop what has started, exit 0
    finally:
        stop(children)  # web, worker and cron first: they use Redis to the end
        if redis_process is not None:
            url_file.unlink(missing_ok=True)
            stop([redis_process])
    sys.exit(0 if stopping else 1)


def hold_instance(instance, port):
    """Lock the instance folder for this run, or exit saying which run holds it."""
    instance.mkdir(parents=True, exist_ok=True)
    handle = open(instance / "make-run.lock", "a+")  # noqa: SIM115 - open for the run's life
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        pid, owner_port = ((handle.read().split()) + ["?", "?"])[:2]
        handle.close()
        sys.exit(f"make run is already running in {instance} (pid {pid}, port {owner_port}): "
                 "stop it first, or start this one with another INSTANCE_DIR")
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()} {port}\n")
    handle.flush()
    return handle


def stop_orphan(url_file):
    """A run that was killed outright left its Redis running (it is in a session of its own):
    shut it down, saving its queue, before a new one opens the same files. Called with the
    instance lock held, so the run that wrote `url_file` is dead."""
    if not url_file.exists():
        return
    import redis

    client = redis.Redis.from_url(url_file.read_text().strip(), socket_timeout=5)
    try:
        # Only our own: the one whose files are in this instance folder.
        if client.config_get("dir").get("dir") == str(url_file.parent / "redis"):
            client.shutdown()
    except redis.ConnectionError:
        pass  # already gone (or gone while shutting down, which is how SHUTDOWN answers)
    url_file.unlink(missing_ok=True)


def stop(processes):
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


if __name__ == "__main__":
    main()
