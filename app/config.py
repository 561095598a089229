"""Settings from the environment, in one place.

Every name an operator sets is read here and nowhere else; the rest of the code reads
`current_app.config`. Defaults are the embedded development set-up SPEC describes: SQLite under the
instance folder, mail to an outbox folder, a private Redis started by `make run`.
"""
import os
import secrets
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent


def _bool(value, default=False):
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(env, name, default):
    raw = env.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, got {raw!r}") from exc


def _secret_key(env, instance_dir, env_name):
    """SECRET_KEY from the environment; in development a random key kept in the instance folder.

    Production refuses to start without one: a key made up at start-up would invalidate every link
    already emailed the next time the process restarts.
    """
    if env.get("SECRET_KEY"):
        return env["SECRET_KEY"]
    if env_name == "production":
        raise RuntimeError("SECRET_KEY must be set in production (DSR_ENV=production)")
    path = Path(instance_dir) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


# In INSTANCE_DIR while `make run` (scripts/serve.py) has its private Redis up: its URL.
RUNNING_REDIS_FILE = "redis-url"


def _running_redis(instance_dir):
    """The private Redis of a running `make run`, so that operator commands in another shell
    use it; otherwise a local Redis on the default port."""
    path = instance_dir / RUNNING_REDIS_FILE
    if path.is_file():
        return path.read_text().strip()
    return "redis://127.0.0.1:6379/0"


def database_url(raw):
    """Accept the usual postgresql:// spelling and use the psycopg 3 driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if raw.startswith(prefix):
            return "postgresql+psycopg://" + raw[len(prefix):]
    return raw


def from_env(env=None):
    """Build the config mapping from environment variables (os.environ by default)."""
    env = os.environ if env is None else env
    env_name = env.get("DSR_ENV", "production" if env.get("SECRET_KEY") else "development")
    instance_dir = Path(env.get("INSTANCE_DIR") or ROOT / "instance").resolve()
    base_url = env.get("BASE_URL", "http://127.0.0.1:%s" % env.get("PORT", "5000")).rstrip("/")
    https = urlparse(base_url).scheme == "https"
    return {
        "ENV_NAME": env_name,
        "INSTANCE_DIR": str(instance_dir),
        "SECRET_KEY": _secret_key(env, instance_dir, env_name),
        # Rotation: the old key(s), comma-separated, still verify links, sessions and email
        # hashes made before the change; everything new is signed with SECRET_KEY.
        "SECRET_KEY_FALLBACKS": [key.strip() for key in
                                 env.get("SECRET_KEY_FALLBACKS", "").split(",") if key.strip()],
        "SQLALCHEMY_DATABASE_URI": database_url(
            env.get("DATABASE_URL") or f"sqlite:///{instance_dir / 'dsr.db'}"),
        "REDIS_URL": env.get("REDIS_URL") or _running_redis(instance_dir),
        "STORES_CONFIG": env.get("STORES_CONFIG") or str(instance_dir / "demo" / "stores.toml"),
        "ARCHIVE_DIR": env.get("ARCHIVE_DIR") or str(instance_dir / "archives"),
        # Shared storage for staged parts and archives: unset = ARCHIVE_DIR on this machine;
        # s3://bucket/prefix (S3_ENDPOINT_URL for MinIO etc.) when workers run on several.
        "STORAGE_URL": env.get("STORAGE_URL") or None,
        "S3_ENDPOINT_URL": env.get("S3_ENDPOINT_URL") or None,
        # Downloads from a bucket: the portal counts the download, then sends the browser to a
        # presigned URL valid this long, so archives do not stream through the web process.
        # 0 streams them through the portal instead.
        "S3_DOWNLOAD_URL_SECONDS": _int(env, "S3_DOWNLOAD_URL_SECONDS", 60),
        # This machine's scratch folder; unset = ARCHIVE_DIR (no copies with local storage).
        "WORK_DIR": env.get("WORK_DIR") or None,
        "BASE_URL": base_url,
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": _int(env, "MAIL_PORT", 25),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS")),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_FROM": env.get("MAIL_FROM", "privacy@localhost"),
        "OUTBOX_DIR": str(instance_dir / "outbox"),
        "COMPANY_NAME": env.get("COMPANY_NAME", "CraftOS"),
        "COMPANY_CONTACT": env.get("COMPANY_CONTACT", "info@craftos.net"),
        # Where the company processes data; "JP" adds the transfer-to-Japan notice (policy s.10).
        "COMPANY_COUNTRY": env.get("COMPANY_COUNTRY", "JP"),
        # The company's own promise, applied on top of every regime (policy sections 5 and 6).
        "PROMISE_DAYS": _int(env, "PROMISE_DAYS", 30),
        "VERIFY_TTL_SECONDS": _int(env, "VERIFY_TTL_SECONDS", 24 * 3600),
        "STATUS_TTL_SECONDS": _int(env, "STATUS_TTL_SECONDS", 400 * 24 * 3600),
        "UNVERIFIED_EXPIRY_DAYS": _int(env, "UNVERIFIED_EXPIRY_DAYS", 7),
        # Closed requests keep who asked for this long, then only a keyed hash of the email:
        # 24 months is the CCPA's minimum for records of consumer requests (Regs. 7101).
        "CLOSED_REQUEST_RETENTION_DAYS": _int(env, "CLOSED_REQUEST_RETENTION_DAYS", 730),
        "DOWNLOAD_TTL_SECONDS": _int(env, "DOWNLOAD_TTL_SECONDS", 7 * 24 * 3600),
        "MAX_DOWNLOADS": _int(env, "MAX_DOWNLOADS", 5),
        # "aes256": archives are AES-256 zips whose passphrase the download page shows once
        # (policy: AES-256 at rest); "none": plain zips that any unzip tool opens.
        "ARCHIVE_ENCRYPTION": env.get("ARCHIVE_ENCRYPTION", "aes256"),
        # Policy section 5: encrypted backups are destroyed 180 days after deletion.
        "BACKUP_ROLLOFF_DAYS": _int(env, "BACKUP_ROLLOFF_DAYS", 180),
        "STEP_MAX_ATTEMPTS": _int(env, "STEP_MAX_ATTEMPTS", 4),
        # Seconds between RQ retries of a failed step (the reconciler is the backstop).
        "STEP_RETRY_INTERVALS": [int(v) for v in
                                 env.get("STEP_RETRY_INTERVALS", "5,30,120").split(",")],
        "STEP_TIMEOUT_SECONDS": _int(env, "STEP_TIMEOUT_SECONDS", 3600),
        # A started job with no heartbeat for this long has lost its worker (RQ beats every 30 s).
        "STALE_JOB_SECONDS": _int(env, "STALE_JOB_SECONDS", 120),
        "AUTO_START_TYPES": tuple(env.get("AUTO_START_TYPES", "access,export").split(",")),
        "RATE_LIMITS": {
            # (requests, window seconds) per client address; resend also per request.
            "intake": (_int(env, "RATE_INTAKE", 10), 3600),
            # Per email address, from anywhere: the portal must not mail-bomb an address.
            "recipient": (_int(env, "RATE_RECIPIENT", 5), 3600),
            "verify": (_int(env, "RATE_VERIFY", 30), 600),
            "resend": (_int(env, "RATE_RESEND", 3), 3600),
            "status": (_int(env, "RATE_STATUS", 120), 600),
        },
        # hide_parameters: a failed statement's message would otherwise carry emails into logs.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True, "hide_parameters": True},
        "WTF_CSRF_TIME_LIMIT": 3600 * 4,
        "MAX_CONTENT_LENGTH": 64 * 1024,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Secure cookies whenever the portal is served over https; a production deployment on
        # plain http gets a warning at start-up (see create_app).
        "SESSION_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_SECURE": https,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "RQ_QUEUE": env.get("RQ_QUEUE", "dsr"),
        # Proxy hops in front of the app whose X-Forwarded-For/-Proto to believe (0: none).
        # Behind nginx set 1, or every person shares the proxy's address and its rate limits.
        "TRUSTED_PROXIES": _int(env, "TRUSTED_PROXIES", 0),
        # Bearer token for scraping /metrics from another host; unset: loopback only.
        "METRICS_TOKEN": env.get("METRICS_TOKEN") or None,
        # OpenDSR signing: key and X.509 certificate files. Outside production a self-signed
        # pair is generated at these default paths (app/api/signing.py); production refuses.
        "OPENDSR_SIGNING_KEY": env.get("OPENDSR_SIGNING_KEY")
        or str(instance_dir / "opendsr" / "signing_key.pem"),
        "OPENDSR_CERTIFICATE": env.get("OPENDSR_CERTIFICATE")
        or str(instance_dir / "opendsr" / "certificate.pem"),
        # Hosts status callbacks may go to (comma-separated); empty allows any host, which is
        # only sensible in development: callbacks are server-side requests (SSRF).
        "OPENDSR_CALLBACK_HOSTS": tuple(
            h.strip().lower() for h in env.get("OPENDSR_CALLBACK_HOSTS", "").split(",")
            if h.strip()),
        "OPENDSR_CALLBACK_RETRY_INTERVALS": [
            int(v) for v in env.get("OPENDSR_CALLBACK_RETRY_INTERVALS",
                                    "10,60,300,1800,7200").split(",")],
        # Attempts in all (RQ retries, then the reconciler) before a callback is given up.
        "OPENDSR_CALLBACK_MAX_ATTEMPTS": _int(env, "OPENDSR_CALLBACK_MAX_ATTEMPTS", 12),
    }
