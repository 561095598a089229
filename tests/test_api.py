"""The JSON API: keys and scopes, creating, reading, listing and cancelling requests, errors."""
import uuid
from datetime import timedelta

import pytest
from api_support import bearer, make_key, opendsr_body, rfc3339
from helpers import links_in, run_worker

from app.extensions import db
from app.models import ApiKey, AuditEvent, DataRequest, LinkNonce, MailMessage, utcnow


@pytest.fixture
def keys(app):
    return {
        "vouch": make_key(app, "submit,read,vouch")[1],
        "plain": make_key(app, "submit,read", name="Plain Co")[1],
        "submit": make_key(app, "submit", name="Submit only")[1],
        "read": make_key(app, "read", name="Read only")[1],
    }


def create(client, key, **overrides):
    body = opendsr_body(**overrides)
    return client.post("/api/v1/requests", json=body, headers=bearer(key)), body


def the_request(app):
    with app.app_context():
        row = db.session.execute(db.select(DataRequest)).scalar_one()
        db.session.expunge(row)
        return row


def test_vouching_key_skips_the_email_and_the_clock_runs_from_submitted_time(app, client, keys):
    submitted = utcnow().replace(microsecond=0) - timedelta(days=10)
    response, body = create(client, keys["vouch"], subject_request_type="erasure",
                            submitted_time=rfc3339(submitted))
    assert response.status_code == 201, response.json
    data = response.json
    assert data["subject_request_id"] == body["subject_request_id"]
    assert data["request_status"] == "pending"
    assert data["controller_id"] == "Acme CMP"
    # 30-day promise from 10 days ago: due 20 days from now, not 30.
    due = submitted + timedelta(days=30)
    assert data["expected_completion_time"] == rfc3339(due)
    row = the_request(app)
    assert (row.request_type, row.state, row.regime) == ("deletion", "verified", "gdpr")
    assert row.received_at == submitted and row.verified_at == submitted and row.due_at == due
    with app.app_context():
        assert db.session.execute(db.select(MailMessage)).first() is None
        assert db.session.execute(db.select(LinkNonce)).first() is None
        events = db.session.execute(db.select(AuditEvent).order_by(AuditEvent.seq)).scalars()
        trail = [(e.actor, e.action, e.reason) for e in events]
    assert trail[0][:2] == ("api:Acme CMP", "submitted")
    assert "created through the API" in trail[0][2] and "vouched" in trail[0][2]
    assert trail[1][:2] == ("api:Acme CMP", "verified") and "vouched" in trail[1][2]


def test_vouched_access_request_starts_its_workflow(app, client, keys, redis_client):
    response, _ = create(client, keys["vouch"])
    assert response.status_code == 201
    assert the_request(app).state == "in_progress"
    assert response.json["request_status"] == "in_progress"
    assert redis_client.exists("rq:job:step-1")


def test_key_without_vouch_sends_the_verify_email(mail_app, smtp_server):
    _, sink = smtp_server
    key = make_key(mail_app, "submit,read")[1]
    client = mail_app.test_client()
    response, _ = create(client, key, subject_identities=[
        {"identity_type": "email", "identity_value": "Alice@Example.com",
         "identity_format": "raw"}])
    assert response.status_code == 201
    assert response.json["request_status"] == "pending"
    assert the_request(mail_app).state == "pending_verification"
    run_worker()
    assert len(sink.messages) == 1
    assert sink.messages[0]["To"] == "alice@example.com"
    assert links_in(sink.messages[0])[0].startswith("http://portal.test/verify/")


def test_repeated_subject_request_id_is_409_and_creates_nothing(app, client, keys):
    first, body = create(client, keys["plain"])
    assert first.status_code == 201
    again = client.post("/api/v1/requests", json=body, headers=bearer(keys["plain"]))
    assert again.status_code == 409
    assert again.json["error"]["code"] == "duplicate_request"
    with app.app_context():
        assert db.session.execute(db.select(db.func.count(DataRequest.id))).scalar_one() == 1
        assert db.session.execute(db.select(db.func.count(MailMessage.id))).scalar_one() == 1
    # The id is the caller's: another key may use the same one.
    other = client.post("/api/v1/requests", json=body, headers=bearer(keys["vouch"]))
    assert other.status_code == 201


def test_status_list_and_cancel(app, client, keys):
    response, body = create(client, keys["plain"], subject_request_type="portability",
                            regulation="ccpa")
    srid = body["subject_request_id"]
    status = client.get(f"/api/v1/requests/{srid}", headers=bearer(keys["plain"]))
    assert status.status_code == 200
    assert status.json["request_status"] == "pending"
    assert status.json["subject_request_type"] == "portability"
    assert status.json["expected_completion_time"] == response.json["expected_completion_time"]
    assert status.headers["X-OpenDSR-Processor-Domain"] == "portal.test"
    assert status.headers["X-OpenDSR-Signature"]

    listed = client.get("/api/v1/requests?per_page=1", headers=bearer(keys["plain"]))
    assert listed.status_code == 200
    assert [r["subject_request_id"] for r in listed.json["requests"]] == [srid]
    assert listed.json["total"] == 1 and listed.json["next_page"] is None

    cancelled = client.delete(f"/api/v1/requests/{srid}", headers=bearer(keys["plain"]))
    assert cancelled.status_code == 202
    assert cancelled.json["subject_request_id"] == srid
    assert the_request(app).state == "cancelled"
    again = client.delete(f"/api/v1/requests/{srid}", headers=bearer(keys["plain"]))
    assert again.status_code == 409 and again.json["error"]["code"] == "not_cancellable"


def test_in_progress_request_cannot_be_cancelled(app, client, keys):
    _, body = create(client, keys["vouch"])
    response = client.delete(f"/api/v1/requests/{body['subject_request_id']}",
                             headers=bearer(keys["vouch"]))
    assert response.status_code == 409
    assert the_request(app).state == "in_progress"


def test_another_keys_request_is_not_found(client, keys):
    _, body = create(client, keys["plain"])
    path = f"/api/v1/requests/{body['subject_request_id']}"
    for method in (client.get, client.delete):
        response = method(path, headers=bearer(keys["vouch"]))
        assert response.status_code == 404
        assert response.json["error"]["code"] == "not_found"
    listed = client.get("/api/v1/requests", headers=bearer(keys["vouch"]))
    assert listed.json["requests"] == []


def test_scopes_are_enforced(client, keys):
    response, body = create(client, keys["read"])
    assert response.status_code == 403
    assert response.json["error"]["code"] == "insufficient_scope"
    assert create(client, keys["submit"])[0].status_code == 201
    for path in ("/api/v1/requests", f"/api/v1/requests/{uuid.uuid4()}"):
        refused = client.get(path, headers=bearer(keys["submit"]))
        assert refused.status_code == 403, path


def test_missing_unknown_and_revoked_keys_are_401(app, client, keys):
    key_id, key = make_key(app, "submit,read", name="Soon revoked")
    assert client.get("/api/v1/requests", headers=bearer(key)).status_code == 200
    with app.app_context():
        from app.api.auth import revoke_api_key

        revoke_api_key(key_id)
        db.session.commit()
    for headers in ({}, bearer(key), bearer(key[:-2] + "xx"), bearer("nonsense"),
                    {"Authorization": "Basic abc"}):
        response = client.get("/api/v1/requests", headers=headers)
        assert response.status_code == 401, headers
        assert response.json["error"]["code"] == "invalid_api_key"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_keys_are_stored_hashed_and_last_use_recorded(app, client, keys):
    with app.app_context():
        stored = db.session.execute(db.select(ApiKey).where(ApiKey.name == "Plain Co")).scalar_one()
        assert keys["plain"] not in (stored.key_hash, stored.prefix)
        assert stored.last_used_at is None
    client.get("/api/v1/requests", headers=bearer(keys["plain"]))
    with app.app_context():
        assert db.session.get(ApiKey, stored.id).last_used_at is not None


@pytest.mark.parametrize("overrides, field, code", [
    ({"subject_request_id": "not-a-uuid"}, "subject_request_id", "invalid_field"),
    ({"subject_request_id": None}, "subject_request_id", "missing_field"),
    ({"subject_request_type": "rectify"}, "subject_request_type", "unsupported_request_type"),
    ({"subject_request_type": 3}, "subject_request_type", "invalid_field"),
    ({"regulation": "pipeda"}, "regulation", "unsupported_regulation"),
    ({"submitted_time": "yesterday"}, "submitted_time", "invalid_field"),
    ({"submitted_time": "2026-01-01T00:00:00"}, "submitted_time", "invalid_field"),
    ({"submitted_time": rfc3339(utcnow() + timedelta(hours=2))}, "submitted_time",
     "submitted_time_in_future"),
    ({"submitted_time": "2001-01-01T00:00:00Z"}, "submitted_time", "submitted_time_too_old"),
    ({"subject_identities": []}, "subject_identities", "missing_field"),
    ({"subject_identities": [{"identity_type": "email", "identity_value": "not an email",
                              "identity_format": "raw"}]}, "subject_identities", "invalid_field"),
    ({"subject_identities": [{"identity_type": "email", "identity_value": "a@example.com",
                              "identity_format": "sha256"}]}, "subject_identities",
     "unsupported_identity"),
    ({"status_callback_urls": ["ftp://example.com/x"]}, "status_callback_urls",
     "invalid_callback_url"),
    ({"status_callback_urls": "http://example.com"}, "status_callback_urls", "invalid_field"),
    ({"api_version": "9.0"}, "api_version", "unsupported_api_version"),
    ({"subject_request_type": "correction"}, "extensions", "missing_field"),
])
def test_bad_fields_get_400_with_a_stable_code(app, client, keys, overrides, field, code):
    response, _ = create(client, keys["vouch"], **overrides)
    assert response.status_code == 400
    assert response.json["error"] == {"code": code, "field": field,
                                      "message": response.json["error"]["message"]}
    assert "example.com" not in response.json["error"]["message"]
    with app.app_context():
        assert db.session.execute(db.select(DataRequest)).first() is None


def test_correction_extension_is_read_from_our_domain(app, client, keys):
    response, _ = create(client, keys["vouch"], subject_request_type="correction",
                         extensions={"portal.test": {"corrections": [
                             {"field": "name", "proposed": "Alicia Example"}]}})
    assert response.status_code == 201
    row = the_request(app)
    assert row.request_type == "correction" and row.state == "verified"
    assert row.corrections == [{"field": "name", "problem": "", "proposed": "Alicia Example"}]


def test_key_without_vouch_cannot_backdate_past_the_confirmation_window(client, keys):
    response, _ = create(client, keys["plain"],
                         submitted_time=rfc3339(utcnow() - timedelta(days=10)))
    assert response.status_code == 400
    assert response.json["error"]["code"] == "submitted_time_too_old"


@pytest.mark.parametrize("kwargs, status, code", [
    ({"data": "{not json", "content_type": "application/json"}, 400, "invalid_json"),
    ({"data": "[1, 2]", "content_type": "application/json"}, 400, "invalid_body"),
    ({"data": '{"a": NaN}', "content_type": "application/json"}, 400, "invalid_json"),
    ({"data": b"\xff\xfe", "content_type": "application/json"}, 400, "invalid_json"),
    ({"data": "a=b", "content_type": "application/x-www-form-urlencoded"}, 415,
     "unsupported_media_type"),
    ({"data": "{}", "content_type": "text/plain"}, 415, "unsupported_media_type"),
    ({"data": "[" * 100000, "content_type": "application/json"}, 413, "payload_too_large"),
    ({"data": "[" * 30000 + "]" * 30000, "content_type": "application/json"}, 400,
     "invalid_json"),
])
def test_bad_bodies_get_json_errors(client, keys, kwargs, status, code):
    response = client.post("/api/v1/requests", headers=bearer(keys["vouch"]), **kwargs)
    assert response.status_code == status
    assert response.is_json and response.json["error"]["code"] == code


def test_unknown_paths_and_methods_answer_json(client, keys):
    missing = client.get("/api/v1/nothing-here", headers=bearer(keys["read"]))
    assert missing.status_code == 404 and missing.json["error"]["code"] == "not_found"
    wrong = client.put("/api/v1/requests", headers=bearer(keys["read"]))
    assert wrong.status_code == 405 and wrong.json["error"]["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["Allow"]
    assert client.get("/no-such-page").mimetype == "text/html"  # pages keep their HTML errors


def test_bad_page_parameter_is_400(client, keys):
    response = client.get("/api/v1/requests?page=zero", headers=bearer(keys["read"]))
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_parameter"


def test_the_api_is_rate_limited_per_key(make_app):
    app = make_app(RATE_LIMITS={"api": (3, 60)})
    key = make_key(app, "read")[1]
    client = app.test_client()
    codes = [client.get("/api/v1/requests", headers=bearer(key)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/api/v1/requests", headers=bearer(key))
    assert limited.json["error"]["code"] == "rate_limited" and limited.headers["Retry-After"]


def test_discovery_and_certificate(client):
    discovery = client.get("/api/v1/discovery")
    assert discovery.status_code == 200
    assert discovery.json["supported_identities"] == [
        {"identity_type": "email", "identity_format": "raw"}]
    assert set(discovery.json["supported_subject_request_types"]) == {
        "access", "portability", "erasure"}
    assert discovery.json["processor_certificate"] == "http://portal.test/api/v1/certificate.pem"
    cert = client.get("/api/v1/certificate.pem")
    assert cert.status_code == 200 and cert.data.startswith(b"-----BEGIN CERTIFICATE-----")


def test_production_refuses_to_sign_without_configured_files(make_app, tmp_path):
    app = make_app(ENV_NAME="production",
                   OPENDSR_SIGNING_KEY=str(tmp_path / "missing-key.pem"),
                   OPENDSR_CERTIFICATE=str(tmp_path / "missing-cert.pem"))
    response = app.test_client().get("/api/v1/discovery")
    assert response.status_code == 503
    assert response.json["error"]["code"] == "signing_unavailable"
    assert not (tmp_path / "missing-key.pem").exists()


def test_api_key_cli_prints_the_key_once_and_revokes(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["api-key", "create", "Acme", "--scope", "submit,read"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("dsr_")
    client = app.test_client()
    assert client.get("/api/v1/requests", headers=bearer(key)).status_code == 200
    listing = runner.invoke(args=["api-key", "list"]).output
    assert key not in listing and "Acme" in listing
    key_id = listing.split("\t")[0]
    assert runner.invoke(args=["api-key", "revoke", key_id]).exit_code == 0
    assert client.get("/api/v1/requests", headers=bearer(key)).status_code == 401
    bad = runner.invoke(args=["api-key", "create", "X", "--scope", "admin"])
    assert bad.exit_code != 0
