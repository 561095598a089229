"""A correction is reported as done only when each field the person named changed something.

The person names the field in free text; the job matches it against the data map's correctable
fields, ignoring case and treating spaces as underscores. A field that matches nothing goes to
staff (needs_attention) instead of an email saying it was changed. Real RQ worker, real Redis,
the CraftOS demo stores, a real SMTP server.
"""
from test_workflows import approved_and_run

from app.extensions import db
from app.models import AuditEvent, MailMessage, Step
from workflows.datamap import load_datamap
from workflows.stores import make_store


def correct_alice(app, client, changes, email="alice@example.com"):
    """Submit, confirm and approve a correction of ``{field: proposed}``, then run it to its
    end (the demo's manual payment processor step resolved by staff)."""
    fields = {}
    for i, (field, proposed) in enumerate(changes.items()):
        fields.update({f"corrections-{i}-field": field, f"corrections-{i}-problem": "wrong",
                       f"corrections-{i}-proposed": proposed})
    return approved_and_run(app, client, email=email, request_type="correction", **fields)


def alice_rows(app, store_name, table):
    with app.app_context():
        config = load_datamap(app.config["STORES_CONFIG"]).store(store_name)
        store = make_store(config)
        try:
            return [item.row for item in store.find({"email": {"alice@example.com"}})
                    if getattr(item, "table", None) == table]
        finally:
            store.close()


def mail_kinds(app):
    with app.app_context():
        return set(db.session.execute(db.select(MailMessage.kind)).scalars())


def test_correction_that_changes_nothing_goes_to_staff_and_tells_the_person_nothing(
        demo_app, smtp_server):
    """A correctable field the person's rows do not hold (Carol, a former customer, has no
    conversation whose title could change): nothing changed, so staff decide. (A field the
    data map does not know at all cannot be approved: tests/test_correction_match.py.)"""
    _, sink = smtp_server
    client = demo_app.test_client()
    data_request = correct_alice(demo_app, client, {"title": "My chat"},
                                 email="carol@example.com")

    assert data_request.state == "needs_attention"
    assert "correction_done" not in mail_kinds(demo_app)
    assert not any("corrected" in m["Subject"] for m in sink.messages)
    with demo_app.app_context():
        held = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.to_state == "needs_attention")).scalar_one()
        assemble = db.session.execute(
            db.select(Step).where(Step.phase == "assemble")).scalar_one()
    assert held.actor == "system" and "title" in held.reason
    assert assemble.state == "failed" and "title" in assemble.error


def test_correction_of_a_field_named_in_other_case_and_spacing_is_applied(demo_app,
                                                                         smtp_server):
    _, sink = smtp_server
    client = demo_app.test_client()
    data_request = correct_alice(demo_app, client,
                                 {"Name": "Alice Q. Example", "VAT number": "FR40303265045"})

    assert data_request.state == "completed"
    assert [r["name"] for r in alice_rows(demo_app, "accounts", "users")] == ["Alice Q. Example"]
    assert [(r["name"], r["vat_number"])
            for r in alice_rows(demo_app, "billing", "billing_customers")] == [
        ("Alice Q. Example", "FR40303265045")]
    assert "correction_done" in mail_kinds(demo_app)
    assert any("corrected" in m["Subject"] for m in sink.messages)
    assert data_request.close_reason == "corrected Name, VAT number in 2 store(s)"


def test_a_correction_with_one_known_and_one_unknown_field_completes_and_says_which(
        demo_app, smtp_server):
    """The known field is changed in the stores already: holding the whole request for staff
    left it in needs_attention for good (a retry re-checks the same fields)."""
    _, sink = smtp_server
    client = demo_app.test_client()
    data_request = correct_alice(demo_app, client,
                                 {"Name": "Alice Q. Example", "favourite colour": "blue"})

    assert data_request.state == "completed"
    assert [r["name"] for r in alice_rows(demo_app, "accounts", "users")] == ["Alice Q. Example"]
    done = next(m for m in sink.messages if "corrected" in m["Subject"])
    text = done.get_body(preferencelist=("plain",)).get_content()
    assert 'Name: "Alice Q. Example" (changed in: Your account, Billing)' in text
    assert "no information of yours called favourite colour" in text
    with demo_app.app_context():
        completed = db.session.execute(
            db.select(AuditEvent).where(AuditEvent.to_state == "completed")).scalar_one()
    assert "nothing of theirs called favourite colour" in completed.reason
