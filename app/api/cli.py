"""`flask --app wsgi api-key create|revoke|list`: keys are made by admins, shown once."""
import click
from flask.cli import AppGroup

from ..audit import record_admin
from ..extensions import db
from ..models import MAX_ROW_ID, ApiKey
from .auth import create_api_key, revoke_api_key

api_key_cli = AppGroup("api-key", help="API keys for the JSON API (OpenDSR).")


@api_key_cli.command("create")
@click.argument("name")
@click.option("--scope", "scopes", required=True,
              help="Comma-separated: submit, read, vouch (vouch: requests count as verified).")
@click.option("--by", "created_by", default="cli", show_default=True,
              help="Who creates it (kept with the key).")
def create(name, scopes, created_by):
    """Create a key for NAME and print it once; only its SHA-256 is stored."""
    try:
        api_key, plaintext = create_api_key(name, scopes, created_by)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc
    record_admin("cli", "created api key", f"api_key:{api_key.id}", f"scopes {api_key.scopes}")
    db.session.commit()
    click.echo(f"key {api_key.id} ({api_key.prefix}) for {api_key.name}, scopes {api_key.scopes}")
    click.echo("Store it now; it cannot be shown again:", err=True)
    click.echo(plaintext)


@api_key_cli.command("revoke")
# Bounded like the column: a larger number overflowed the database driver with a traceback
# instead of "no API key".
@click.argument("key_id", type=click.IntRange(1, MAX_ROW_ID))
def revoke(key_id):
    """Revoke key KEY_ID (the number `api-key list` shows); it stops working at once."""
    api_key = revoke_api_key(key_id)
    if api_key is None:
        raise click.ClickException(f"no API key with id {key_id}")
    record_admin("cli", "revoked api key", f"api_key:{api_key.id}")
    db.session.commit()
    click.echo(f"key {api_key.id} ({api_key.prefix}) revoked")


@api_key_cli.command("list")
def list_keys():
    """Every key: id, prefix, name, scopes, last use, revoked or not (never the key itself)."""
    for api_key in db.session.execute(db.select(ApiKey).order_by(ApiKey.id)).scalars():
        used = api_key.last_used_at.isoformat(timespec="minutes") if api_key.last_used_at else "-"
        state = "revoked" if api_key.revoked_at else "active"
        click.echo(f"{api_key.id}\t{api_key.prefix}\t{api_key.name}\t{api_key.scopes}\t"
                   f"{used}\t{state}")
