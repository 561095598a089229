"""A controller written from the OpenDSR text: create, status, signed callbacks, cancel.

The API is reached through the WSGI test client; callbacks arrive at a real HTTP server in a
thread, delivered by a real RQ worker, and are checked against the certificate that discovery
points to (OpenDSR 8.8) before their body is read.
"""
import json
import time

import pytest
from api_support import CallbackReceiver, bearer, make_key, opendsr_body, verify_signature
from cryptography.exceptions import InvalidSignature
from helpers import run_worker

from app.extensions import db
from app.models import Callback
from scripts.devredis import free_port
from workflows.reconcile import reconcile


class Controller:
    """The controller side of OpenDSR, as sections 6 to 9 describe it."""

    def __init__(self, client, key):
        self.client, self.key = client, key
        discovery = client.get("/api/v1/discovery")
        cert_path = discovery.json["processor_certificate"].removeprefix("http://portal.test")
        self.certificate = client.get(cert_path).data
        self.check(discovery)
        self.domain = discovery.headers["X-OpenDSR-Processor-Domain"]

    def check(self, response):
        """Every processor response carries a signature over its exact body."""
        verify_signature(self.certificate, response.data, response.headers["X-OpenDSR-Signature"])
        return response

    def submit(self, **fields):
        body = opendsr_body(**fields)
        response = self.client.post("/api/v1/requests", json=body, headers=bearer(self.key))
        assert response.status_code == 201, response.json
        return self.check(response).json

    def status(self, srid):
        response = self.client.get(f"/api/v1/requests/{srid}", headers=bearer(self.key))
        assert response.status_code == 200
        return self.check(response).json

    def cancel(self, srid):
        return self.client.delete(f"/api/v1/requests/{srid}", headers=bearer(self.key))

    def authenticate_callback(self, headers, body, own_url):
        """Section 8.8: domain, then the signature over the raw body, then parse and match."""
        assert headers["X-OpenDSR-Processor-Domain"] == self.domain
        verify_signature(self.certificate, body, headers["X-OpenDSR-Signature"])
        payload = json.loads(body)
        assert payload["status_callback_url"] == own_url
        return payload


def test_controller_creates_polls_receives_signed_callbacks_and_cancels(app):
    client = app.test_client()
    controller = Controller(client, make_key(app, "submit,read")[1])
    with CallbackReceiver(free_port()) as receiver:
        created = controller.submit(subject_request_type="erasure",
                                    status_callback_urls=[receiver.url])
        srid = created["subject_request_id"]
        assert controller.status(srid)["request_status"] == "pending"
        run_worker()
        assert receiver.received == []  # created as pending: no status change yet

        cancelled = controller.cancel(srid)
        assert cancelled.status_code == 202
        controller.check(cancelled)
        assert controller.status(srid)["request_status"] == "cancelled"
        run_worker()
        assert receiver.arrived.wait(5)

    [(headers, body, path)] = receiver.received
    assert path == "/opendsr/callbacks"
    payload = controller.authenticate_callback(headers, body, receiver.url)
    assert payload["request_status"] == "cancelled"
    assert payload["subject_request_id"] == srid
    assert payload["controller_id"] == created["controller_id"]
    assert payload["expected_completion_time"] == created["expected_completion_time"]
    assert "Signature" not in body.decode()  # the signature travels in the header only

    forged = body.replace(b"cancelled", b"completed")
    with pytest.raises(InvalidSignature):
        verify_signature(controller.certificate, forged, headers["X-OpenDSR-Signature"])
    with app.app_context():
        row = db.session.execute(db.select(Callback)).scalar_one()
        assert (row.state, row.status, row.attempts) == ("sent", "cancelled", 1)


def test_vouched_access_request_announces_in_progress(app):
    client = app.test_client()
    controller = Controller(client, make_key(app, "submit,read,vouch")[1])
    with CallbackReceiver(free_port()) as receiver:
        created = controller.submit(status_callback_urls=[receiver.url])
        assert created["request_status"] == "in_progress"
        # The workflow step fails without a data map here; the callback goes out regardless.
        run_worker()
        assert receiver.arrived.wait(5)
    statuses = [controller.authenticate_callback(h, b, receiver.url)["request_status"]
                for h, b, _ in receiver.received]
    assert statuses[0] == "in_progress"


def test_callback_to_a_down_server_is_retried_and_delivered_once_it_is_up(make_app, monkeypatch):
    monkeypatch.setenv("OPENDSR_CALLBACK_RETRY_INTERVALS", "1")
    app = make_app()
    client = app.test_client()
    controller = Controller(client, make_key(app, "submit,read")[1])
    port = free_port()
    url = f"http://127.0.0.1:{port}/opendsr/callbacks"
    created = controller.submit(subject_request_type="erasure", status_callback_urls=[url])
    assert controller.cancel(created["subject_request_id"]).status_code == 202

    run_worker()  # nobody listens: the POST fails, RQ schedules a retry in a second
    with app.app_context():
        row = db.session.execute(db.select(Callback)).scalar_one()
        assert (row.state, row.attempts) == ("queued", 1)
        assert row.last_error.startswith("ConnectionRefusedError")
        assert "127.0.0.1" not in row.last_error

    with CallbackReceiver(port) as receiver:
        time.sleep(1.2)
        run_worker()  # the scheduler moves the due retry to the queue; this time it arrives
        assert receiver.arrived.wait(5)
    assert [p["request_status"] for p in receiver.bodies()] == ["cancelled"]
    with app.app_context():
        row = db.session.execute(db.select(Callback)).scalar_one()
        assert (row.state, row.attempts) == ("sent", 2)


def test_reconciler_revives_a_callback_whose_job_vanished(app, redis_client):
    client = app.test_client()
    # A vouching key: no verify email, so the callback is the only work left behind.
    controller = Controller(client, make_key(app, "submit,read,vouch")[1])
    with CallbackReceiver(free_port()) as receiver:
        created = controller.submit(subject_request_type="erasure",
                                    status_callback_urls=[receiver.url])
        controller.cancel(created["subject_request_id"])
        redis_client.flushdb()  # Redis restarted empty: only the database remembers
        with app.app_context():
            assert reconcile() == 1
            assert reconcile() == 0  # queued now, not enqueued twice
        run_worker()
        assert receiver.arrived.wait(5)
    assert len(receiver.received) == 1


def test_callback_is_given_up_after_the_maximum_attempts(make_app, monkeypatch):
    monkeypatch.setenv("OPENDSR_CALLBACK_MAX_ATTEMPTS", "1")
    app = make_app()
    controller = Controller(app.test_client(), make_key(app, "submit,read")[1])
    created = controller.submit(subject_request_type="erasure",
                                status_callback_urls=[f"http://127.0.0.1:{free_port()}/cb"])
    controller.cancel(created["subject_request_id"])
    run_worker()
    with app.app_context():
        row = db.session.execute(db.select(Callback)).scalar_one()
        assert (row.state, row.attempts) == ("failed", 1)
        assert reconcile() == 0
