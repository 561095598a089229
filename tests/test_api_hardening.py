"""Two 500s a review found in the API, each now a clear 4xx: twin submissions racing past the
duplicate check, and a submitted_time at the edge of the calendar."""
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
