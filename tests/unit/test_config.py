"""Settings read from the environment (app.config.from_env): pure, no app built."""
from app.config import from_env


def test_commands_in_another_shell_find_make_runs_private_redis(tmp_path):
    """`make run` starts a private Redis on a free port and writes its URL to the instance
    folder; `flask --app wsgi requests resolve-step ...` in another shell must use that Redis,
    not whatever listens on 6379."""
    base = {"INSTANCE_DIR": str(tmp_path), "SECRET_KEY": "x" * 32}
    assert from_env(base)["REDIS_URL"] == "redis://127.0.0.1:6379/0"  # nothing running
    (tmp_path / "redis-url").write_text("redis://127.0.0.1:54321/0\n")
    assert from_env(base)["REDIS_URL"] == "redis://127.0.0.1:54321/0"
    explicit = {**base, "REDIS_URL": "redis://cache.internal:6379/2"}
    assert from_env(explicit)["REDIS_URL"] == "redis://cache.internal:6379/2"  # REDIS_URL wins


def test_a_secret_key_means_production_unless_said_otherwise(tmp_path):
    base = {"INSTANCE_DIR": str(tmp_path)}
    assert from_env(base)["ENV_NAME"] == "development"
    assert from_env({**base, "SECRET_KEY": "x" * 32})["ENV_NAME"] == "production"
    assert from_env({**base, "SECRET_KEY": "x" * 32, "DSR_ENV": "development"})[
        "ENV_NAME"] == "development"
