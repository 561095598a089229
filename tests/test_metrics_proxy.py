"""/metrics behind a proxy on the same host: at TRUSTED_PROXIES=0 every request it forwards
comes from 127.0.0.1, so one that carries a forwarding header is not the machine itself."""
import pytest

LOCAL_PROXY = {"REMOTE_ADDR": "127.0.0.1"}


@pytest.mark.parametrize("header", [
    {"X-Forwarded-For": "203.0.113.9"},
    {"Forwarded": "for=203.0.113.9;proto=https"},
    {"X-Real-IP": "203.0.113.9"},
])
def test_a_request_forwarded_by_a_local_proxy_is_not_local(make_app, header):
    client = make_app(TRUSTED_PROXIES=0).test_client()
    assert client.get("/metrics", headers=header, environ_base=LOCAL_PROXY).status_code == 404
    # The machine's own scraper, straight to gunicorn, still reads it.
    assert client.get("/metrics", environ_base=LOCAL_PROXY).status_code == 200


def test_with_trusted_proxies_the_client_address_decides(make_app):
    client = make_app(TRUSTED_PROXIES=1).test_client()
    outside = {"X-Forwarded-For": "203.0.113.9"}
    assert client.get("/metrics", headers=outside, environ_base=LOCAL_PROXY).status_code == 404
    inside = {"X-Forwarded-For": "127.0.0.1"}
    assert client.get("/metrics", headers=inside, environ_base=LOCAL_PROXY).status_code == 200


def test_the_token_opens_it_through_the_proxy(make_app):
    client = make_app(METRICS_TOKEN="scrape-me").test_client()
    response = client.get("/metrics", environ_base=LOCAL_PROXY, headers={
        "X-Forwarded-For": "198.51.100.7", "Authorization": "Bearer scrape-me"})
    assert response.status_code == 200 and "dsr_requests_overdue" in response.get_data(
        as_text=True)
