"""500s found in the API, each now a clear 4xx: twin submissions racing past the duplicate
check, a submitted_time at the edge of the calendar, and numbers or ids written in digits of
other scripts (int() reads them; the API takes ASCII digits only)."""
import pytest
from api_support import bearer, make_key, opendsr_body
from sqlalchemy.orm import Session

from app.api import views
from app.extensions import db
from app.models import DataRequest


def test_a_twin_submission_committed_meanwhile_answers_409_not_500(app, monkeypatch):
    key_id, key = make_key(app, "submit,read")
    body = opendsr_body()
    real_open_request = views.open_request

    def twin_committed_first(data_request, actor, reason=None):
        # The other of two identical submissions commits between this one's duplicate check
        # and its insert, from its own connection, as a second web process would.
        with Session(db.engine) as other:
            other.add(DataRequest(
                request_type=data_request.request_type, region=data_request.region,
                regime="gdpr", email=data_request.email, received_at=data_request.received_at,
                due_at=data_request.received_at, api_key_id=key_id,
                subject_request_id=data_request.subject_request_id))
            other.commit()
        return real_open_request(data_request, actor, reason)

    monkeypatch.setattr(views, "open_request", twin_committed_first)
    response = app.test_client().post("/api/v1/requests", json=body, headers=bearer(key))
    assert response.status_code == 409, response.get_data(as_text=True)[-500:]
    assert response.json["error"]["code"] == "duplicate_request"
    with app.app_context():  # only the twin: nothing of the refused one was written
        assert db.session.execute(db.select(db.func.count(DataRequest.id))).scalar_one() == 1


@pytest.mark.parametrize("submitted_time", ["0001-01-01T00:00:00+01:00",
                                            "9999-12-31T23:59:59-01:00"])
def test_a_submitted_time_beyond_the_calendar_in_utc_is_a_400(app, submitted_time):
    key = make_key(app, "submit,read,vouch")[1]
    response = app.test_client().post("/api/v1/requests", headers=bearer(key),
                                      json=opendsr_body(submitted_time=submitted_time))
    assert response.status_code == 400, response.get_data(as_text=True)[-500:]
    assert response.json["error"]["code"] == "invalid_field"
    assert response.json["error"]["field"] == "submitted_time"


@pytest.mark.parametrize("query", ["page=%C2%B2", "per_page=%C2%B2", "page=%E2%91%A0",
                                   "page=%D9%A2", "per_page=%EF%BC%95", "page=+1", "page=1%0A"])
def test_page_numbers_in_other_scripts_are_a_400_not_a_500(app, query):
    key = make_key(app, "read")[1]
    response = app.test_client().get(f"/api/v1/requests?{query}", headers=bearer(key))
    assert response.status_code == 400, response.get_data(as_text=True)[-300:]
    assert response.json["error"]["code"] == "invalid_parameter"


def test_ascii_page_numbers_still_work(app):
    key = make_key(app, "read")[1]
    response = app.test_client().get("/api/v1/requests?page=2&per_page=7", headers=bearer(key))
    assert response.status_code == 200
    assert (response.json["page"], response.json["per_page"]) == (2, 7)


def test_a_subject_request_id_in_arabic_indic_digits_is_not_a_uuid(app):
    key = make_key(app, "submit,read")[1]
    client = app.test_client()
    ascii_id = "11111111-1111-1111-1111-111111111111"
    lookalike = ascii_id.replace("1", "\u0661")  # ARABIC-INDIC DIGIT ONE: int() reads it as 1
    refused = client.post("/api/v1/requests", json=opendsr_body(subject_request_id=lookalike),
                          headers=bearer(key))
    assert refused.status_code == 400
    assert refused.json["error"]["field"] == "subject_request_id"
    assert client.post("/api/v1/requests", json=opendsr_body(subject_request_id=ascii_id),
                       headers=bearer(key)).status_code == 201
    assert client.get(f"/api/v1/requests/{lookalike}", headers=bearer(key)).status_code == 404


@pytest.mark.parametrize("version", ["\u0662.0", "2.\u0660", "2.0\n"])
def test_an_api_version_outside_ascii_digits_is_refused(app, version):
    key = make_key(app, "submit")[1]
    response = app.test_client().post("/api/v1/requests", json=opendsr_body(api_version=version),
                                      headers=bearer(key))
    assert response.status_code == 400
    assert response.json["error"]["code"] == "unsupported_api_version"
