"""Staff match a field the person named in their own words to the data map's field, before
approving, so the correction changes what the person meant instead of waiting for staff after
changing nothing. Real RQ worker, real Redis, the CraftOS demo stores, a real SMTP server.
"""
from helpers import run_worker, submit
from test_correction_outcome import alice_rows
from test_staff_access import AGENT, logged_in
from test_staff_actions import act, last_event
from test_workflows import cli, confirm, resolve_manual, the_request

from app.extensions import db
from app.models import DataRequest


def ask_for(client, app, changes):
    """Submit and confirm a correction of ``{field as the person writes it: proposed}``."""
    fields = {}
    for i, (field, proposed) in enumerate(changes.items()):
        fields.update({f"corrections-{i}-field": field, f"corrections-{i}-problem": "wrong",
                       f"corrections-{i}-proposed": proposed})
    submit(client, email="alice@example.com", request_type="correction", **fields)
    confirm(client, app)
    return the_request(app)


def test_a_field_in_the_persons_words_is_matched_by_staff_and_then_corrected(demo_app):
    data_request = ask_for(demo_app.test_client(), demo_app, {"Full legal name": "Alice Newname"})
    staff = logged_in(demo_app, AGENT)
    page = staff.get(f"/staff/requests/{data_request.id}").get_data(as_text=True)
    assert "No correctable field has this name" in page
    # Nothing chosen until staff choose, and each field says where it lives.
    assert '<option value="">choose the field it means</option>' in page
    assert '<option value="name">name (accounts.users, billing.billing_customers)</option>' in page
    assert '<option value="vat_number">vat_number (billing.billing_customers)</option>' in page
    # Not approvable yet: approved as it is, the correction could change nothing.
    assert "Approve and start" not in page and "Not ready to approve" in page
    refused = act(staff, data_request.id, "approve")
    assert refused.status_code == 409
    assert "match each to the field it means" in refused.get_data(as_text=True)
    result = demo_app.test_cli_runner().invoke(args=["requests", "approve",
                                                     data_request.reference, "--by", AGENT])
    assert result.exit_code == 1 and "match each" in result.output
    assert the_request(demo_app).state == "verified"

    response = act(staff, data_request.id, "match", field="Full legal name", column="name")
    assert response.status_code == 302
    event = last_event(demo_app, data_request.id)
    assert (event.actor, event.action, event.reason) == (
        AGENT, "correction_matched", '"Full legal name" means name')
    matched = the_request(demo_app)
    assert [c["field"] for c in matched.corrections] == ["name"]
    assert matched.corrections[0]["proposed"] == "Alice Newname"
    assert matched.preview is None  # the old scan was for the old name
    page = staff.get(f"/staff/requests/{data_request.id}").get_data(as_text=True)
    assert "not scanned yet (a scan just asked for: reload in a moment)" in page

    run_worker()  # the scan that the match started
    matched = the_request(demo_app)
    assert [v["value"] for v in matched.preview["current"]["name"]]  # current values found
    page = staff.get(f"/staff/requests/{data_request.id}").get_data(as_text=True)
    assert "No correctable field has this name" not in page
    assert "Approve and start" in page and "Not ready to approve" not in page

    cli(demo_app, "requests", "approve", data_request.reference, "--by", AGENT)
    run_worker()
    resolve_manual(demo_app, data_request.reference)
    run_worker()
    assert the_request(demo_app).state == "completed"
    page = staff.get(f"/staff/requests/{data_request.id}").get_data(as_text=True)
    assert "Before the change (last scan, " in page  # not "Now": the values were changed
    assert [row["name"] for row in alice_rows(demo_app, "accounts", "users")] == ["Alice Newname"]


def test_matching_is_refused_unless_it_names_a_correctable_field_before_approval(demo_app):
    data_request = ask_for(demo_app.test_client(), demo_app,
                           {"Full legal name": "Alice Newname", "name": "Alice Other"})
    staff = logged_in(demo_app, AGENT)

    def refused(expected, **fields):
        response = act(staff, data_request.id, "match", **fields)
        assert response.status_code == expected, response.get_data(as_text=True)[-300:]
        return response.get_data(as_text=True)

    assert "correctable fields" in refused(400, field="Full legal name", column="password_hash")
    assert "no field of that name" in refused(400, field="Shoe size", column="name")
    assert "one value" in refused(409, field="Full legal name", column="name")  # name is asked
    assert "Choose the field" in refused(400, field="Full legal name", column="")
    with demo_app.app_context():
        unchanged = db.session.get(DataRequest, data_request.id)
        assert [c["field"] for c in unchanged.corrections] == ["Full legal name", "name"]

    cli(demo_app, "requests", "approve", data_request.reference, "--by", AGENT)
    assert "awaiting approval" in refused(409, field="Full legal name", column="email")
    page = staff.get(f"/staff/requests/{data_request.id}").get_data(as_text=True)
    assert "No correctable field has this name" not in page  # no form once approved


def test_only_corrections_can_be_matched(demo_app):
    client = demo_app.test_client()
    submit(client, email="alice@example.com", request_type="deletion", confirm="y")
    confirm(client, demo_app)
    data_request = the_request(demo_app)
    assert data_request.state == "verified"  # awaiting approval, as a correction would be
    staff = logged_in(demo_app, AGENT)
    response = act(staff, data_request.id, "match", field="name", column="name")
    assert response.status_code == 409
