"""Delivering status callbacks: URLs that HTTP can send (checked at submission and again at
delivery), failures that count as attempts, a retried older status that arrives as the current
one, and the host allow-list applied at delivery.

Callbacks go to real HTTP servers in threads, delivered by real RQ worker processes or by the
job function itself where the order of two deliveries is the point.
"""
import time

import pytest
from api_support import CallbackReceiver, bearer, make_key, opendsr_body
from helpers import run_worker

from app.extensions import db
from app.lifecycle import lock, transition
from app.models import Callback, DataRequest
from scripts.devredis import free_port
from workflows.callbacks import deliver_callback
from workflows.reconcile import reconcile


def submit_erasure(app, key, url):
    body = opendsr_body(subject_request_type="erasure", status_callback_urls=[url])
    response = app.test_client().post("/api/v1/requests", json=body, headers=bearer(key))
    assert response.status_code == 201, response.json
    return body["subject_request_id"]


def cancel(app, key, srid):
    response = app.test_client().delete(f"/api/v1/requests/{srid}", headers=bearer(key))
    assert response.status_code == 202


def the_callback(app):
    with app.app_context():
        row = db.session.execute(db.select(Callback)).scalar_one()
        return row.state, row.attempts, row.last_error


@pytest.mark.parametrize("url", [
    "https://controller.example/cb/caf\u00e9", "https://controller.example/a b",
    "https://controller.example/cb?x=\u00e9", "https://controller.example/cb\t",
    f"https://{'a' * 64}.example/cb", "https://controller..example/cb",
    "https://" + "abc." * 63 + "example/cb"])
def test_a_callback_url_that_http_cannot_send_is_refused_at_submission(app, url):
    key = make_key(app, "submit")[1]
    body = opendsr_body(status_callback_urls=[url])
    response = app.test_client().post("/api/v1/requests", json=body, headers=bearer(key))
    assert response.status_code == 400
    assert response.json["error"]["code"] == "invalid_callback_url"


def test_a_non_ascii_callback_host_is_refused_and_its_punycode_accepted(app):
    key = make_key(app, "submit")[1]
    client = app.test_client()
    for host, status in (("b\u00fccher.example", 400), ("xn--bcher-kva.example", 201)):
        body = opendsr_body(status_callback_urls=[f"https://{host}/cb/caf%C3%A9"])
        assert client.post("/api/v1/requests", json=body,
                           headers=bearer(key)).status_code == status


def test_a_stored_url_that_cannot_be_sent_fails_at_once_instead_of_looping(app):
    """A row from before submissions were checked: http.client raised UnicodeEncodeError, which
    left it `sending` for the reconciler to revive for ever."""
    key = make_key(app, "submit,read")[1]
    with CallbackReceiver(free_port()) as receiver:
        srid = submit_erasure(app, key, receiver.url)
        with app.app_context():
            request_row = db.session.execute(db.select(DataRequest)).scalar_one()
            request_row.status_callback_urls = [receiver.url + "/caf\u00e9"]
            db.session.commit()
        cancel(app, key, srid)
        worker = run_worker()
        assert the_callback(app) == ("failed", 1, "URL cannot be sent")
        assert "caf" not in worker.stderr
        with app.app_context():
            assert reconcile() == 0
        assert receiver.received == []


def test_any_error_while_sending_counts_as_an_attempt_up_to_the_limit(make_app, monkeypatch,
                                                                     tmp_path):
    """An operator puts a broken key file in place: loading it raises a plain ValueError, which
    the job did not expect, and the row stayed `sending` for the reconciler to revive for ever."""
    monkeypatch.setenv("OPENDSR_CALLBACK_MAX_ATTEMPTS", "2")
    monkeypatch.setenv("OPENDSR_CALLBACK_RETRY_INTERVALS", "1")
    app = make_app()
    key = make_key(app, "submit,read")[1]
    with CallbackReceiver(free_port()) as receiver:
        cancel(app, key, submit_erasure(app, key, receiver.url))
        for name in ("broken-key.pem", "broken-cert.pem"):
            (tmp_path / name).write_text("not PEM at all\n")
        monkeypatch.setenv("OPENDSR_SIGNING_KEY", str(tmp_path / "broken-key.pem"))
        monkeypatch.setenv("OPENDSR_CERTIFICATE", str(tmp_path / "broken-cert.pem"))
        first = run_worker()
        assert the_callback(app) == ("queued", 1, "ValueError")
        time.sleep(1.2)
        second = run_worker()  # the retry RQ scheduled: the last attempt allowed
        assert the_callback(app) == ("failed", 2, "ValueError")
        with app.app_context():
            assert reconcile() == 0
        assert receiver.received == []
    for worker in (first, second):  # the URL stays out of the logs
        assert "opendsr/callbacks" not in worker.stderr


def test_a_retried_older_status_arrives_as_the_current_one(app):
    key = make_key(app, "submit,read,vouch")[1]
    port = free_port()
    srid = submit_erasure(app, key, f"http://127.0.0.1:{port}/opendsr/callbacks")
    with app.app_context():
        request_id = db.session.execute(db.select(DataRequest.id)).scalar_one()
        transition(lock(request_id), "in_progress", "staff:1")
        db.session.commit()
        [in_progress] = db.session.execute(db.select(Callback.id)).scalars().all()
        with pytest.raises(Exception, match="Connection"):
            deliver_callback(in_progress)  # the controller is down: this one will be retried
        transition(lock(request_id), "completed", "system")
        db.session.commit()
        completed = db.session.execute(
            db.select(Callback.id).where(Callback.id != in_progress)).scalar_one()
    with CallbackReceiver(port) as receiver:
        with app.app_context():
            # The retry of the older change comes after the newer one has gone out.
            assert deliver_callback(completed) == "sent"
            assert deliver_callback(in_progress) == "sent"
    statuses = [payload["request_status"] for payload in receiver.bodies()]
    assert statuses == ["completed", "completed"]
    current = app.test_client().get(f"/api/v1/requests/{srid}", headers=bearer(key))
    assert current.json["request_status"] == statuses[-1]
    with app.app_context():
        rows = db.session.execute(db.select(Callback.status)).scalars().all()
        assert rows == ["completed", "completed"]  # each row records what it announced


def test_a_host_taken_off_the_allow_list_gets_no_more_callbacks(make_app, monkeypatch):
    app = make_app()
    key = make_key(app, "submit,read")[1]
    with CallbackReceiver(free_port()) as receiver:
        srid = submit_erasure(app, key, receiver.url)  # no list yet: any host
        # The operator now allows only the controller's host; the worker reads the new setting.
        monkeypatch.setenv("OPENDSR_CALLBACK_HOSTS", "controller.example")
        cancel(app, key, srid)
        run_worker()
        assert the_callback(app) == ("failed", 1, "host not allowed")
        assert receiver.received == []
