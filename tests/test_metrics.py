"""/metrics: counts for monitoring, to the machine itself or a scraper with the token only."""
from helpers import submit


def test_metrics_count_requests_and_queue_without_personal_data(client, app):
    submit(client, email="alice@example.com")
    submit(client, email="bob@example.com", request_type="deletion", confirm="y")
    response = client.get("/metrics")  # the test client comes from 127.0.0.1
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'dsr_requests{state="pending_verification",type="access"} 1' in text
    assert 'dsr_requests{state="pending_verification",type="deletion"} 1' in text
    assert 'dsr_mail{state="queued"} 2' in text
    assert "dsr_requests_overdue 0" in text
    assert "dsr_queue_jobs 2" in text  # the two verify emails wait for a worker
    assert "example.com" not in text and "DSR-" not in text


def test_metrics_are_hidden_from_other_hosts_and_need_the_token(make_app):
    app = make_app(METRICS_TOKEN="scrape-me")
    remote = {"REMOTE_ADDR": "198.51.100.7"}
    client = app.test_client()
    assert client.get("/metrics", environ_base=remote).status_code == 404
    assert client.get("/metrics").status_code == 404  # with a token set, loopback needs it too
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"}, environ_base=remote)
    assert wrong.status_code == 404
    ok = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"},
                    environ_base=remote)
    assert ok.status_code == 200 and "dsr_requests_overdue" in ok.get_data(as_text=True)
    default = make_app()
    assert default.test_client().get("/metrics", environ_base=remote).status_code == 404
