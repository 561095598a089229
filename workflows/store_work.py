"""What a store step does for each request type. Each returns True when staff must finish it."""
from app.extensions import db
from app.storage import drop_local_copy, storage, work_dir
from workflows.archive_scope import export_part
from workflows.archive_staging import stage_store
from workflows.archive_values import safe_segment
from workflows.stores import StoreError, make_store


def staging_dir(data_request):
    """This machine's staging folder for the request (the shared one with local storage)."""
    return work_dir() / "staging" / data_request.reference


def staging_key(data_request):
    return f"staging/{data_request.reference}"


def publish_staged(data_request, store_name):
    """Hand one store's staged part to the shared storage, where the assembler finds it.

    With a WORK_DIR of its own, this machine then drops its copy: the uploaded part is what
    the assembler reads and a retry stages afresh, so the person's plain data would only wait
    here, on every machine that ran a step, for a sweep that might run elsewhere.
    """
    segment = safe_segment(store_name)
    local, key = staging_dir(data_request) / segment, f"{staging_key(data_request)}/{segment}"
    storage().put_tree(local, key)
    drop_local_copy(local, key)


def task_info(task):
    return {"action": task.action, "instructions": task.instructions}


def stage(step, data_request, store, identities):
    """Access and export: stream the store's records and files into the staging folder.

    An export covers only the portable part of the store: the rest is never read, and a store
    with nothing portable is done at once with zero records (no staging, no staff task).
    """
    if data_request.request_type != "export":
        return stage_found(step, data_request, store, identities)
    part = export_part(store.config)
    if part is None:
        step.result = {"records": {}, "not_portable": True}
        return False
    if part is store.config:
        return stage_found(step, data_request, store, identities)
    narrowed = make_store(part)
    try:
        return stage_found(step, data_request, narrowed, identities)
    finally:
        narrowed.close()


def stage_found(step, data_request, store, identities):
    """Stage everything ``store`` finds for the person; True when staff must add to it."""
    staged = stage_store(staging_dir(data_request), store.name, store.find(identities))
    publish_staged(data_request, store.name)
    step.records, step.files, step.bytes = sum(staged.records.values()), staged.files, staged.bytes
    step.result = {"records": dict(staged.records)}
    if staged.tasks:
        step.result = {**step.result, "task": task_info(staged.tasks[0])}
        return True
    return False


def erase(step, data_request, store, identities):
    """Deletion: count first (kept across retries), erase by each table's rule, re-scan."""
    if not (step.result or {}).get("before"):
        # Counted once, before anything is erased: a retry after a crash mid-erasure would
        # otherwise report only what was left for its second pass.
        step.result = {"before": store.count(identities)}
        db.session.commit()
    before = step.result["before"]
    result = store.erase(identities)
    if result.task is not None:
        step.result = {**step.result, "task": task_info(result.task)}
        return True
    after = store.count(identities)
    # Every table the re-scan still finds the person in, not only those the store reported
    # on: a store that leaves a table out of its answer must not be certified empty.
    retained = {o.table for o in result.outcomes if o.action == "retained"}
    leftovers = {table: n for table, n in after.items() if n and table not in retained}
    if leftovers:
        raise StoreError(f"{store.name}: data still found after erasure in {sorted(leftovers)}")
    outcomes = [
        {"table": o.table, "action": o.action, "reason": o.reason,
         "count": o.count if o.action == "retained" else max(o.count, before.get(o.table, 0))}
        for o in result.outcomes
    ]
    step.result = {"before": before, "outcomes": outcomes, "verified_empty": True}
    step.records = sum(o["count"] for o in outcomes if o["action"] != "retained")
    return False


def field_key(name):
    """A field name as compared with the data map: "Name" finds ``name``, "VAT number"
    finds ``vat_number`` (the person types the field in free text)."""
    return name.strip().lower().replace(" ", "_")


def named_columns(fields, correctable):
    """{the person's field: the correctable column it names}, for the fields that name one.
    The correction job and the staff preview both match with it."""
    columns = {field_key(c): c for c in correctable}
    return {f: columns[field_key(f)] for f in fields if field_key(f) in columns}


def correct(step, data_request, store, identities):
    """Correction: set the approved values on the correctable fields this store holds.

    The result names the person's fields that changed a row here (``applied``), so the
    assembly can tell a field that changed nowhere from one that did.
    """
    proposed = {c["field"]: c["proposed"] for c in data_request.corrections or []}
    known = named_columns(proposed, [c for t in store.config.tables for c in t.correctable])
    named = {field: known.get(field, field) for field in proposed}
    result = store.correct(identities, {named[f]: value for f, value in proposed.items()})
    if result.task is not None:
        step.result = {"task": task_info(result.task)}
        return True
    step.result = {"changed": dict(result.counts),
                   "applied": applied_fields(store.config, named, result.counts)}
    step.records = sum(result.counts.values())
    return False


def applied_fields(config, named, counts):
    """The person's fields (as they wrote them) that changed at least one row of the store."""
    if not config.tables:
        # A remote (http) store applies what it allows and counts rows per table, not per
        # field: any change it reports counts for every field it was sent.
        return sorted(named) if any(counts.values()) else []
    changed = {c for t in config.tables if counts.get(t.table) for c in t.correctable}
    return sorted(field for field, column in named.items() if column in changed)


WORK = {"access": stage, "export": stage, "deletion": erase, "correction": correct}
