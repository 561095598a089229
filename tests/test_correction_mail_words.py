"""The correction-done email speaks the person's words: a field staff matched to a correctable
field ("Full legal name" -> name) is named as the person wrote it, with the value it now
holds and the stores (by their titles) where it changed. Real worker, Redis, SMTP, demo map."""
from helpers import run_worker
from test_correction_match import ask_for
from test_staff_access import AGENT, logged_in
from test_staff_actions import act
from test_workflows import cli, resolve_manual, the_request


def test_a_matched_field_is_reported_in_the_persons_words_with_its_new_value(demo_app,
                                                                           smtp_server):
    _, sink = smtp_server
    data_request = ask_for(demo_app.test_client(), demo_app,
                           {"Full legal name": "Alice Newname"})
    staff = logged_in(demo_app, AGENT)
    act(staff, data_request.id, "match", field="Full legal name", column="name")
    run_worker()
    cli(demo_app, "requests", "approve", data_request.reference, "--by", AGENT)
    run_worker()
    resolve_manual(demo_app, data_request.reference)
    run_worker()
    assert the_request(demo_app).state == "completed"

    done = next(m for m in sink.messages if "corrected" in m["Subject"])
    text = " ".join(done.get_body(preferencelist=("plain",)).get_content().split())
    assert ('- Full legal name: "Alice Newname" (changed in: Your account, Billing)'
            in text), text
    assert "Our staff made your correction by hand in: Payment processor (card payments)." \
        in text
    assert "We changed: name" not in text and "accounts" not in text
