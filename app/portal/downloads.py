"""The download page: GET shows what is on offer, only the POST counts it and hands it over.

Counting on GET would let a mail scanner that prefetches links use up the person's downloads.
"""
import logging

from flask import Response, abort, current_app, redirect, render_template, send_file

from ..audit import record
from ..extensions import db
from ..lifecycle import lock
from ..models import DataRequest, Delivery, utcnow
from ..ratelimit import hit
from ..security import content_security_policy
from ..storage import storage
from ..tokens import LinkError, read_link_token
from . import bp
from .forms import DownloadForm

FILENAMES = {"archive": "dsr-{reference}.zip",
             "certificate": "deletion-certificate-{reference}.pdf"}
log = logging.getLogger(__name__)
CHUNK = 1 << 20
MIMETYPES = {"archive": "application/zip", "certificate": "application/pdf"}


def _delivery(token):
    hit("status")
    payload = read_link_token("download", token, current_app.config["DOWNLOAD_TTL_SECONDS"])
    row = db.session.execute(
        db.select(Delivery, DataRequest.reference).join(DataRequest)
        .where(DataRequest.reference == payload.reference,
               Delivery.kind == (payload.kind or "archive"))
    ).one_or_none()
    if row is None:
        raise LinkError("invalid")
    delivery, reference = row
    if delivery.deleted_at is not None or delivery.expires_at <= utcnow():
        raise LinkError("download_expired")
    if delivery.downloads >= delivery.max_downloads:
        raise LinkError("download_used_up")
    return delivery, reference


def reveal_passphrase(delivery, data_request, reference):
    """Show the archive's passphrase this once and forget it; nothing is downloaded yet."""
    passphrase = delivery.passphrase
    delivery.passphrase, delivery.passphrase_shown_at = None, utcnow()
    record(data_request, "subject", "passphrase_shown",
           reason="archive passphrase shown once on the download page")
    db.session.commit()
    return allow_bucket_redirect(render_template(
        "portal/passphrase.html", passphrase=passphrase, reference=reference, delivery=delivery,
        form=DownloadForm()))


def bucket_redirects():
    return current_app.config["S3_DOWNLOAD_URL_SECONDS"] > 0


def allow_bucket_redirect(body):
    """A page with a download button: its form may lead to the bucket (see send_delivery)."""
    response = current_app.make_response(body)
    origin = storage().download_origin() if bucket_redirects() else None
    if origin:
        response.headers["Content-Security-Policy"] = content_security_policy([origin])
    return response


@bp.get("/download/<token>")
def download_page(token):
    delivery, reference = _delivery(token)
    zone = db.session.execute(db.select(DataRequest.timezone)
                              .where(DataRequest.id == delivery.request_id)).scalar_one()
    return allow_bucket_redirect(render_template(
        "portal/download.html", delivery=delivery, reference=reference, form=DownloadForm(),
        zone=zone))


@bp.post("/download/<token>")
def download(token):
    if not DownloadForm().validate():
        abort(400)
    delivery, reference = _delivery(token)
    data_request = lock(delivery.request_id)
    if delivery.passphrase is not None:
        return reveal_passphrase(delivery, data_request, reference)
    if not storage().exists(delivery.path):
        # Counting first would spend one of the person's downloads (and audit a download)
        # on a file we then fail to send. Gone from storage is gone: say so, in words.
        db.session.rollback()
        log.error("delivery %s of request %s: file missing from storage", delivery.id,
                  delivery.request_id)
        raise LinkError("download_expired")
    counted = db.session.execute(
        db.update(Delivery)
        .where(Delivery.id == delivery.id, Delivery.downloads < Delivery.max_downloads)
        .values(downloads=Delivery.downloads + 1)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not counted:
        db.session.rollback()
        raise LinkError("download_used_up")
    db.session.refresh(delivery)
    record(data_request, "subject", "downloaded",
           reason=f"{delivery.kind} download {delivery.downloads} of {delivery.max_downloads}")
    db.session.commit()
    return send_delivery(delivery, FILENAMES[delivery.kind].format(reference=reference))


def send_delivery(delivery, filename):
    """The file from wherever storage keeps it: sent from disk, fetched by the browser from
    the bucket through a short-lived presigned URL, or streamed from the bucket."""
    files = storage()
    local = files.local_path(delivery.path)
    if local is not None:
        return send_file(local, mimetype=MIMETYPES[delivery.kind], as_attachment=True,
                         download_name=filename, max_age=0)
    if bucket_redirects():
        url = files.download_url(delivery.path, filename, MIMETYPES[delivery.kind],
                                 current_app.config["S3_DOWNLOAD_URL_SECONDS"])
        return redirect(url, code=303)
    stream = files.open(delivery.path)
    chunks = iter(lambda: stream.read(CHUNK), b"")
    response = Response(chunks, mimetype=MIMETYPES[delivery.kind])
    response.headers["Content-Length"] = str(delivery.bytes)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
