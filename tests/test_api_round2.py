"""Findings of the second API review: numbers and ids in ASCII only, callback URLs that can be
sent, callbacks that end on the request's current status, and the host allow-list at delivery.

Callbacks go to real HTTP servers in threads, delivered by real RQ worker processes or by the
job function itself where the order of two deliveries is the point.
"""
import pytest
from api_support import bearer, make_key, opendsr_body


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
