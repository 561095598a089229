"""The last step of a request: build what the person receives, complete, tell them.

Each function runs inside the assemble step's job and is safe to run again: the archive and the
certificate are written atomically to a path fixed by the reference, the Delivery row is one per
request and kind, and the state change, the delivery and the email commit together.
"""
import hashlib
import secrets
import shutil
from datetime import timedelta

from flask import current_app

from app.extensions import db
from app.lifecycle import lock, transition
from app.locales import in_locale
from app.mail import deliver_later, queue_mail
from app.models import CROCKFORD_ALPHABET, AuditEvent, Delivery, Step, utcnow
from app.storage import drop_local_copy, private_dir, storage, work_dir, write_atomically
from app.tokens import public_link
from workflows.archive import build_archive
from workflows.archive_scope import left_out_of_export
from workflows.certificate import certificate_facts, deletion_certificate, erasure_mail
from workflows.datamap import DataMapError, load_datamap
from workflows.legal_texts import TRANSFER_TO_JAPAN
from workflows.stores import make_store

from .expiry import minimise
from .store_work import staging_dir, staging_key


def output_dir(data_request):
    """Where this machine writes the request's files before handing them to storage."""
    return private_dir(work_dir() / data_request.reference)  # 0700: the person's data


def publish(path, data_request):
    """Put a finished file in storage; returns its key. Local storage: it is already there."""
    key = f"{data_request.reference}/{path.name}"
    storage().put_file(path, key)
    return key


def store_steps(data_request):
    return db.session.execute(
        db.select(Step).where(Step.request_id == data_request.id, Step.phase == "store")
        .order_by(Step.store)
    ).scalars().all()


def found_for_person(step):
    """What this request's step found in its store, as the statement tells it: records and
    files staged, whether staff handled the store by hand (and what they noted), and whether
    it was searched at all (an export does not read a store with nothing portable)."""
    result = step.result or {}
    return {"records": step.records or 0, "files": step.files or 0,
            "manual": "task" in result, "note": result.get("note"),
            "searched": not result.get("not_portable")}


def statement(data_request, steps=()):
    """The Art. 15(1) facts per store, from the data map (no store is contacted) and in the
    request's language where the map translates them, with what each store's step found for
    the person; for an export, also the names of what it leaves out as not portable."""
    config = current_app.config
    datamap = load_datamap(config["STORES_CONFIG"])
    found = {step.store: found_for_person(step) for step in steps}
    stores = []
    for store_config in datamap.stores:
        store = make_store(store_config)
        try:
            stores.append({**store.describe(data_request.locale),
                           **found.get(store_config.name, {})})
        finally:
            store.close()
    facts = {
        "company": config["COMPANY_NAME"], "contact": config["COMPANY_CONTACT"],
        "reference": data_request.reference, "request_type": data_request.request_type,
        "regime": data_request.regime, "generated_at": utcnow().isoformat(), "stores": stores,
        "timezone": data_request.timezone,
        "transfers": [TRANSFER_TO_JAPAN] if config["COMPANY_COUNTRY"] == "JP" else [],
    }
    if data_request.request_type == "export":
        facts["not_portable"] = left_out_of_export(datamap)
    return facts


def new_passphrase():
    """25 characters of Crockford base32 in groups of five: 125 bits, easy to copy by hand."""
    body = "".join(secrets.choice(CROCKFORD_ALPHABET) for _ in range(25))
    return "-".join(body[i:i + 5] for i in range(0, 25, 5))


def save_delivery(data_request, kind, key, size, sha256, passphrase=None):
    config = current_app.config
    delivery = db.session.execute(
        db.select(Delivery).where(Delivery.request_id == data_request.id, Delivery.kind == kind)
    ).scalar_one_or_none()
    if delivery is None:
        delivery = Delivery(request_id=data_request.id, kind=kind, downloads=0,
                            max_downloads=config["MAX_DOWNLOADS"])
        db.session.add(delivery)
    delivery.path, delivery.bytes, delivery.sha256 = key, size, sha256
    delivery.passphrase = passphrase
    delivery.expires_at = utcnow() + timedelta(seconds=config["DOWNLOAD_TTL_SECONDS"])
    return delivery


def complete(step, data_request, reason, mail_kind, **mail_context):
    """Completed, audited, emailed: one transaction. The email goes out after the commit."""
    data_request = lock(data_request.id)
    transition(data_request, "completed", "system", reason=reason)
    message = queue_mail(data_request, mail_kind,
                         status_url=public_link("status", data_request.reference), **mail_context)
    step.state, step.finished_at = "done", utcnow()
    db.session.flush()
    return data_request, message.id


def deliver_archive(step, data_request):
    """Access and export: one zip of every staged store, then the download link by email."""
    steps = store_steps(data_request)
    target = output_dir(data_request) / f"dsr-{data_request.reference}.zip"
    # Every store's part, staged maybe by other workers on other machines, comes here first.
    storage().get_tree(staging_key(data_request), staging_dir(data_request))
    # A retry makes a new passphrase and a new zip: the old one was never shown to anyone.
    passphrase = new_passphrase() if current_app.config["ARCHIVE_ENCRYPTION"] == "aes256" else None
    # index.html and report.pdf speak the language the request was made in, as its emails do.
    with in_locale(data_request.locale):
        info = build_archive(staging_dir(data_request), target,
                             reference=data_request.reference, generated_at=utcnow(),
                             statement=statement(data_request, steps),
                             password=passphrase.encode() if passphrase else None)
    key = publish(info.path, data_request)
    save_delivery(data_request, "archive", key, info.bytes, info.sha256, passphrase)
    records = sum(s.records for s in steps)
    files = sum(s.files for s in steps)
    _, mail_id = complete(
        step, data_request, f"archive ready: {records} records and {files} files",
        "archive_ready", download_url=public_link("download", data_request.reference, "archive"),
        records=records, files=files, size=info.bytes,
        days=current_app.config["DOWNLOAD_TTL_SECONDS"] // 86400,
        max_downloads=current_app.config["MAX_DOWNLOADS"])
    db.session.commit()
    deliver_later([mail_id])
    # Only once the zip is safely recorded: a retry before this point still finds the staging.
    storage().delete(staging_key(data_request))
    shutil.rmtree(staging_dir(data_request), ignore_errors=True)
    drop_local_copy(info.path, key)


def deliver_certificate(step, data_request):
    """Deletion: the certificate PDF, the email saying what was kept and why, minimisation."""
    steps = store_steps(data_request)
    facts = certificate_facts(data_request, steps, utcnow())
    path = output_dir(data_request) / f"deletion-certificate-{data_request.reference}.pdf"
    with in_locale(data_request.locale):
        write_atomically(path, lambda out: deletion_certificate(out, facts))
    key = publish(path, data_request)
    save_delivery(data_request, "certificate", key, path.stat().st_size,
                  hashlib.sha256(path.read_bytes()).hexdigest())
    mail = erasure_mail(facts, data_request.locale)
    erased = mail["deleted"] + mail["anonymized"]
    data_request, mail_id = complete(
        step, data_request, f"erased {erased} records; kept {len(mail['kept'])} table(s) by law",
        "erasure_done", download_url=public_link("download", data_request.reference,
                                                 "certificate"), **mail)
    minimise(data_request)
    db.session.commit()
    deliver_later([mail_id])
    drop_local_copy(path, key)


def split_fields(data_request, steps):
    """(the person's fields that changed a row somewhere, those that changed nothing), sorted.

    Manual steps do not count: staff confirm a task, not which fields it changed. A request
    whose every store is manual has nothing to check and completes on staff's word.
    """
    proposed = sorted({c["field"] for c in data_request.corrections or []})
    automatic = [s.result or {} for s in steps if "task" not in (s.result or {})]
    if not automatic:
        return proposed, []
    applied = set()
    for result in automatic:
        if "applied" in result:
            applied |= set(result["applied"])
        elif any((result.get("changed") or {}).values()):
            applied |= set(proposed)  # ran before fields were recorded: trust its count
    return ([f for f in proposed if f in applied], [f for f in proposed if f not in applied])


def as_written(data_request):
    """{the field a correction now names: the person's own words for it}, for the fields
    staff matched to a correctable field (``"Full legal name"`` -> ``name``), from the
    audit trail's ``correction_matched`` events (reason ``"<as written>" means <field>``)."""
    events = db.session.execute(
        db.select(AuditEvent.reason).where(AuditEvent.request_id == data_request.id,
                                           AuditEvent.action == "correction_matched")
        .order_by(AuditEvent.seq)
    ).scalars()
    written = {}
    for reason in events:
        quoted, sep, field = (reason or "").rpartition('" means ')
        if sep and quoted.startswith('"'):
            before = quoted[1:]
            written[field] = written.pop(before, before)  # matched twice: the first words
    return written


def store_titles(language):
    """{store: its name as a person reads it, in ``language``}; empty (the ids) when the
    data map cannot be read: the correction is done and must still be reported."""
    try:
        datamap = load_datamap(current_app.config["STORES_CONFIG"])
    except (DataMapError, OSError) as err:
        current_app.logger.warning("correction mail: store ids for titles (data map: %s)", err)
        return {}
    return {store.name: store.title_for(language) for store in datamap.stores}


def corrected_fields(data_request, steps, fields, written, titles):
    """What the correction email tells per changed field: the person's words for it, the
    value it holds now (the one they proposed) and the stores (titled) where it changed."""
    proposed = {c["field"]: c["proposed"] for c in data_request.corrections or []}
    where = {f: [] for f in fields}
    for s in steps:
        result = s.result or {}
        if "task" in result:
            continue
        applied = result.get("applied")
        if applied is None and any((result.get("changed") or {}).values()):
            applied = fields  # ran before fields were recorded: its count covers them all
        for f in applied or []:
            if f in where:
                where[f].append(titles.get(s.store, s.store))
    return [{"field": written.get(f, f), "value": proposed.get(f), "stores": where[f]}
            for f in fields]


def hold_for_staff(step, data_request, reason):
    """needs_attention instead of completed: the reason goes on the audit trail and on the
    failed assembly step, where staff see it; no email goes to the person."""
    data_request = lock(data_request.id)
    step.state, step.finished_at, step.error = "failed", utcnow(), reason
    transition(data_request, "needs_attention", "system", reason=reason)
    db.session.commit()


def report_correction(step, data_request):
    """Correction: tell the person where each field changed, and which of the fields they
    named matched nothing of theirs (a name the data map does not know, or no row holding
    it). When none changed anything, staff decide: explain, or close with a reason."""
    steps = store_steps(data_request)
    fields, unmatched = split_fields(data_request, steps)
    if not fields:
        hold_for_staff(step, data_request,
                       f"correction changed nothing for {', '.join(unmatched)}: no correctable "
                       "field of that name holds the person's data")
        return
    changed = {s.store: s.records for s in steps if s.records}
    reason = f"corrected {', '.join(fields)} in {len(changed)} store(s)"
    if unmatched:
        reason += f"; nothing of theirs called {', '.join(unmatched)}"
    written = as_written(data_request)
    titles = store_titles(data_request.locale)
    _, mail_id = complete(
        step, data_request, reason, "correction_done",
        corrected=corrected_fields(data_request, steps, fields, written, titles),
        by_staff=[titles.get(s.store, s.store) for s in steps if "task" in (s.result or {})],
        not_found=[written.get(f, f) for f in unmatched])
    db.session.commit()
    deliver_later([mail_id])


ASSEMBLE = {"access": deliver_archive, "export": deliver_archive,
            "deletion": deliver_certificate, "correction": report_correction}
