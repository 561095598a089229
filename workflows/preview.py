"""The preview staff read before approving: what each store holds, and for a correction the
values the person's rows hold now. A job writes it to the request; the page only reads it,
because pages never query a company's store themselves.
"""
import logging

from flask import current_app

from app.audit import record
from app.extensions import db
from app.lifecycle import lock
from app.models import DataRequest, utcnow
from workflows.datamap import load_datamap
from workflows.scan import resolve_identities, scan
from workflows.stores import Record, make_store

from .context import job
from .steps import describe_error, safe_for_rq
from .store_work import named_columns

log = logging.getLogger(__name__)
MAX_VALUES = 20  # per field: enough to see every copy, not a dump of the store


def current_values(data_map, email, fields):
    """{field: [{store, table, value}]} from the rows whose table lists the field correctable.

    Fields are matched as the correction job matches them (`named_columns`: "Name" is
    `name`), so staff see the values the job would change.
    """
    found = {name: [] for name in fields}
    stores = [make_store(config) for config in data_map.stores]
    try:
        identities = resolve_identities(data_map, email, stores)
        for store in stores:
            tables = {}  # table -> {the person's field: its column}
            for table in store.config.tables:
                named = named_columns(fields, table.correctable)
                if named:
                    tables[table.table] = named
            if not tables:
                continue
            for item in store.find(identities):
                if not isinstance(item, Record) or item.table not in tables:
                    continue
                for name, column in tables[item.table].items():
                    if column in item.row and len(found[name]) < MAX_VALUES:
                        found[name].append({"store": store.name, "table": item.table,
                                            "value": "" if item.row[column] is None
                                            else str(item.row[column])})
    finally:
        for store in stores:
            store.close()
    return found


def scanned_fields(data_request):
    """The fields a correction's preview reads current values of (none for other types)."""
    if data_request.request_type != "correction":
        return []
    return [c["field"] for c in data_request.corrections or []]


def still_wanted(data_request, email, fields):
    """Whether a preview scanned for `email` and `fields` may be kept: the locked request is
    still open, not purged or minimised, still the same person's, and still asks to correct
    the same fields (staff's "match" renames one and queues a scan of its own)."""
    return (data_request is not None and data_request.is_open
            and data_request.purged_at is None and data_request.email == email
            and scanned_fields(data_request) == fields)


@job
def build_preview(request_id):
    """Scan every store for the request's person and keep the counts (and current values)."""
    data_request = db.session.get(DataRequest, request_id)
    if data_request is None or not data_request.is_open or not data_request.email:
        return "nothing to preview"
    email = data_request.email
    fields = scanned_fields(data_request)
    db.session.commit()  # no transaction held open while the stores are read
    data_map = load_datamap(current_app.config["STORES_CONFIG"])
    preview, failure = {"counts": {}, "current": {}, "error": None}, None
    try:
        preview["counts"] = scan(data_map, email)
        if fields:
            preview["current"] = current_values(data_map, email, fields)
    except Exception as exc:
        # Any failure is shown on the page, but a driver's message, which can quote the
        # person's data, is not (describe_error).
        preview["error"], failure = describe_error(exc), exc
    data_request = lock(request_id)
    if not still_wanted(data_request, email, fields):
        # Closed, expired or minimised during the scan: what it found (names, addresses) must
        # not be written back to a request that has forgotten the person. Fields matched
        # during the scan: its values are keyed by the old names, and the newer scan writes.
        db.session.rollback()
        log.info("preview of request %s dropped: the request changed during the scan",
                 request_id)
        return "request closed or changed during the scan: preview dropped"
    data_request.preview, data_request.preview_at = preview, utcnow()
    record(data_request, "system", "preview_ready",
           reason="preview failed: see the request page" if failure else None)
    db.session.commit()
    if failure is not None:
        log.warning("preview of request %s failed", request_id)
        # RQ retries; staff already see the error on the page.
        raise safe_for_rq(failure, f"preview of request {request_id}") from None
    return "preview written"
