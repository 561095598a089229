"""Operator commands: `flask --app wsgi <group> <command>`. Each one can run on its own."""
import itertools
import logging
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from rq import Worker
from rq.cron import CronScheduler

from workflows.datamap import load_datamap
from workflows.demo import seed
from workflows.expiry import (
    expire_unverified,
    minimise_closed_requests,
    purge_expired_deliveries,
    remove_restored_files,
)
from workflows.leftovers import sweep_leftover_files
from workflows.reconcile import reconcile
from workflows.scan import check_datamap, scan
from workflows.sla import sweep as sla_sweep
from workflows.steps import resolve_manual_step
from workflows.stores import warm_up

from .audit import verify_admin_chain, verify_all, verify_chain
from .extensions import db
from .lifecycle import TransitionError, begin_workflow, lock
from .models import DataRequest, Step
from .queue import enqueue_step, queue, redis_connection
from .staff.rules import approval_refusal

audit_cli = AppGroup("audit", help="Check the tamper-evident audit trail.")
requests_cli = AppGroup("requests", help="Housekeeping of data requests.")
demo_cli = AppGroup("demo", help="Demo data for the first company (CraftOS).")
stores_cli = AppGroup("stores", help="The data map: where people's data lives.")


@audit_cli.command("verify")
@click.argument("reference", required=False)
def audit_verify(reference):
    """Verify one request's chain (REFERENCE) or every chain, the admin chain of staff and
    API-key changes included; exit 1 if any is broken."""
    if reference:
        reports = [verify_chain(find_request(reference))]
    else:
        reports = itertools.chain(verify_all(), [verify_admin_chain()])
    checked = broken = 0
    for report in reports:
        checked += 1
        if not report.ok:
            broken += 1
            click.echo(f"BROKEN {report.reference}: {report.problem}")
    click.echo(f"{checked} chain(s) checked, {broken} broken")
    sys.exit(1 if broken else 0)


@requests_cli.command("expire")
def requests_expire():
    """Expire unconfirmed requests, delete old downloads, minimise old closed requests, and
    sweep the work files of recently closed ones."""
    click.echo(f"{expire_unverified()} request(s) expired and purged")
    click.echo(f"{purge_expired_deliveries()} download(s) past their window deleted")
    click.echo(f"{minimise_closed_requests()} closed request(s) past retention minimised")
    click.echo(f"{sweep_leftover_files()} recently closed request(s) swept of work files")
    # After a restore of ARCHIVE_DIR: what the backup brought back of closed requests.
    click.echo(f"{remove_restored_files()} closed request(s) checked for restored files")


def find_request(reference):
    data_request = db.session.execute(
        db.select(DataRequest).where(DataRequest.reference == reference)
    ).scalar_one_or_none()
    if data_request is None:
        raise click.ClickException(f"no request with reference {reference}")
    return data_request


@requests_cli.command("approve")
@click.argument("reference")
@click.option("--by", "actor", required=True, help="Who approves (recorded on the audit trail).")
@click.option("--reason", default="approved", show_default=True)
def requests_approve(reference, actor, reason):
    """Approve a verified request (deletion, correction) and start its workflow."""
    data_request = lock(find_request(reference).id)
    refusal = approval_refusal(data_request)
    if refusal:
        db.session.rollback()
        raise click.ClickException(refusal)
    try:
        step_id = begin_workflow(data_request, actor, reason)
    except TransitionError as exc:
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    enqueue_step(step_id)
    click.echo(f"{reference} approved; workflow started")


@requests_cli.command("resolve-step")
@click.argument("reference")
@click.argument("store")
@click.option("--by", "actor", required=True, help="Who did the manual work.")
@click.option("--note", required=True,
              help="What was done (on the audit trail; for a deletion, on the certificate).")
@click.option("--file", "upload", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="An export received from the store, added to the person's archive.")
def requests_resolve_step(reference, store, actor, note, upload):
    """Mark a manual store's step done (for example the payment processor's export)."""
    data_request = find_request(reference)
    step = db.session.execute(
        db.select(Step).where(Step.request_id == data_request.id, Step.store == store)
    ).scalar_one_or_none()
    if step is None:
        raise click.ClickException(f"{reference} has no step for store {store!r}")
    try:
        resolve_manual_step(step, actor, note, upload)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"{reference}: {store} resolved")


@demo_cli.command("seed")
@click.option("--size", default=1, show_default=True, type=click.IntRange(1, 100000),
              help="Scale factor: more people, rows and file bytes for benchmarks.")
def demo_seed(size):
    """Create the demo company stores under INSTANCE_DIR/demo and write their data map."""
    target = Path(current_app.config["INSTANCE_DIR"]) / "demo"
    path = seed(target, size=size)
    click.echo(f"demo stores written to {target}; data map: {path}")


@stores_cli.command("check")
@click.option("--config", "path", default=None, help="Data map file (default STORES_CONFIG).")
def stores_check(path):
    """Validate the data map and the live schema of every store; exit 1 on any error."""
    path = path or current_app.config["STORES_CONFIG"]
    problems = check_datamap(path)
    for problem in problems:
        click.echo(f"error: {problem}")
    if problems:
        sys.exit(1)
    click.echo(f"{path}: data map OK")


@stores_cli.command("scan")
@click.argument("email")
def stores_scan(email):
    """Count what each store holds for EMAIL (counts only, never the data itself)."""
    counts = scan(load_datamap(current_app.config["STORES_CONFIG"]), email.strip().lower())
    for store, tables in counts.items():
        for table, count in tables.items():
            click.echo(f"{store}\t{table}\t{count}")


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit once the queue is empty.")
def worker(burst):
    """An RQ worker with the scheduler on the portal's queue (retries with back-off need it)."""
    logging.basicConfig(level=logging.INFO)
    warm_up()
    Worker([queue()], connection=redis_connection()).work(burst=burst, with_scheduler=True)


@click.command("cron")
def cron():
    """RQ cron: the reconciler every minute; expiry, old downloads and the SLA sweep hourly."""
    name = current_app.config["RQ_QUEUE"]
    scheduler = CronScheduler(connection=redis_connection())
    scheduler.register(reconcile, queue_name=name, interval=60)
    scheduler.register(expire_unverified, queue_name=name, interval=3600)
    scheduler.register(purge_expired_deliveries, queue_name=name, interval=3600)
    scheduler.register(minimise_closed_requests, queue_name=name, interval=3600)
    scheduler.register(sweep_leftover_files, queue_name=name, interval=3600)
    # Hourly: each reminder, escalation and digest is sent once however often this runs.
    scheduler.register(sla_sweep, queue_name=name, interval=3600)
    scheduler.start()


def init_app(app):
    for command in (audit_cli, requests_cli, demo_cli, stores_cli, worker, cron):
        app.cli.add_command(command)
