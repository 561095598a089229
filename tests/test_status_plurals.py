"""The status page counts systems in words that agree with the number: one system, two systems."""
from test_staff_access import make_request

from app.extensions import db
from app.models import DataRequest, Step, utcnow
from app.tokens import public_link


def status_page(app, states):
    request_id = make_request(app, request_type="access", state="in_progress")
    with app.test_request_context():
        for number, state in enumerate(states):
            db.session.add(Step(request_id=request_id, phase="store", store=f"store{number}",
                                state=state, finished_at=utcnow() if state == "done" else None))
        db.session.commit()
        link = public_link("status", db.session.get(DataRequest, request_id).reference)
    return app.test_client().get(link.removeprefix(app.config["BASE_URL"])).get_data(
        as_text=True)


def test_one_system_is_singular(app):
    page = status_page(app, ["waiting"])
    assert "0 of 1 system done" in page
    assert "1 system needs a member of our team to finish it by hand." in page
    assert "(s)" not in page


def test_several_systems_are_plural(app):
    page = status_page(app, ["waiting", "waiting", "done"])
    assert "1 of 3 systems done" in page
    assert "2 systems need a member of our team to finish them by hand." in page
