"""HTTP errors as pages: a person gets our own words and a next step for each code, never
Werkzeug's developer text or an exception's; the staff console keeps its own layout and a way
back to where the agent was."""
import re

import pytest
from flask import abort
from helpers import csrf_token
from test_staff_access import AGENT, logged_in, make_request

WERKZEUG_WORDS = ("Not Found", "requested URL", "Method Not Allowed", "Request Entity Too Large",
                  "capacity limit", "Forbidden", "permission to access", "Internal Server Error",
                  "server is overloaded")


def title_and_heading(response):
    html = response.get_data(as_text=True)
    title = re.search(r"<title>(.*?) · ", html, re.S).group(1).strip()
    heading = re.search(r"<h1>(.*?)</h1>", html, re.S).group(1).strip()
    return title, heading


@pytest.fixture
def quiet_app(make_app):
    """An app as it runs in production: an unhandled exception becomes the 500 page."""
    app = make_app(TESTING=False, PROPAGATE_EXCEPTIONS=False)

    def explode():
        raise RuntimeError("secret detail from the database driver")

    app.add_url_rule("/explode", "explode", explode)
    app.add_url_rule("/forbidden", "forbidden", lambda: abort(403))
    app.add_url_rule("/staff/explode", "staff_explode", explode)
    app.add_url_rule("/staff/conflict", "staff_conflict",
                     lambda: abort(409, description="detail from a library"))
    return app


def test_each_error_code_gets_a_title_and_next_step_of_our_own(quiet_app):
    client = quiet_app.test_client()
    token = csrf_token(client, "/requests/new")
    answers = {
        404: client.get("/no-such-page"),
        403: client.get("/forbidden"),
        405: client.put("/requests/new"),
        413: client.post("/requests/new", data={"csrf_token": token, "details": "x" * 70000}),
        500: client.get("/explode"),
    }
    expected = {
        404: ("This page does not exist", "use the link in the email"),
        403: ("You cannot open this page", "Start from the home page"),
        405: ("This page cannot be used that way", "reload it and try again"),
        413: ("What you sent is too long", "Please shorten what you typed"),
        500: ("Something went wrong on our side", "Nothing was saved"),
    }
    for code, response in answers.items():
        html = response.get_data(as_text=True)
        assert response.status_code == code, (code, html[-500:])
        title, next_step = expected[code]
        assert title_and_heading(response) == (title, title), code
        assert next_step in html, code
        assert not [words for words in WERKZEUG_WORDS if words in html], (code, html)


def test_an_unhandled_exception_never_shows_its_text(quiet_app):
    response = quiet_app.test_client().get("/explode")
    assert response.status_code == 500
    assert "secret detail" not in response.get_data(as_text=True)
    assert "RuntimeError" not in response.get_data(as_text=True)


def test_a_refused_staff_action_shows_the_console_page_with_a_way_back_to_the_request(app):
    client = logged_in(app, AGENT)
    request_id = make_request(app)
    page = f"/staff/requests/{request_id}"
    # A refusal of the request's state (409); a form error (400) redraws the request page.
    response = client.post(f"{page}/retry", data={"csrf_token": csrf_token(client, page)})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Privacy console" in html and "Questions about your data" not in html
    assert "Conflict" not in html and "can be retried" in html
    assert f'href="{page}"' in html


def test_a_refusal_on_a_ten_digit_request_number_links_back_to_it(app):
    client = logged_in(app, AGENT)
    page = f"/staff/requests/{make_request(app, id=2_000_000_000)}"
    response = client.post(f"{page}/retry", data={"csrf_token": csrf_token(client, page)})
    assert response.status_code == 409
    assert f'href="{page}"' in response.get_data(as_text=True)


def test_the_console_shows_only_our_refusals_words_not_another_description(quiet_app):
    response = quiet_app.test_client().get("/staff/conflict")
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "detail from a library" not in html and "Reload it and look again" in html


def test_a_staff_error_elsewhere_links_back_to_the_queue(app):
    client = logged_in(app, AGENT)
    missing = client.get("/staff/no-such-page")
    assert missing.status_code == 404
    assert "Privacy console" in missing.get_data(as_text=True)
    assert 'href="/staff/">Back to the queue' in missing.get_data(as_text=True)
    # An action on a request that does not exist cannot lead back to it.
    nowhere = client.post("/staff/requests/999999/note", data={
        "csrf_token": csrf_token(client, "/staff/"), "note": "x"})
    assert nowhere.status_code == 404
    assert "There is no request with that number." in nowhere.get_data(as_text=True)
    assert "/staff/requests/999999" not in nowhere.get_data(as_text=True)


def test_a_stranger_is_not_told_which_request_numbers_exist(app):
    """Past CSRF (a token from the login page's logged-out session), the console's own 401."""
    request_id = make_request(app)
    client = app.test_client()
    token = csrf_token(client, "/staff/login")
    response = client.post(f"/staff/requests/{request_id}/note",
                           data={"note": "x", "csrf_token": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 401
    assert f"/staff/requests/{request_id}" not in html and "Back to the queue" in html


def test_a_stranger_without_a_form_token_gets_the_csrf_page_and_no_way_to_the_request(app):
    request_id = make_request(app)
    response = app.test_client().post(f"/staff/requests/{request_id}/note", data={"note": "x"})
    html = response.get_data(as_text=True)
    assert response.status_code == 400 and "The form could not be accepted" in html
    assert f"/staff/requests/{request_id}" not in html and "Back to the queue" in html


def test_a_staff_500_keeps_the_console_and_hides_the_exception(quiet_app):
    response = quiet_app.test_client().get("/staff/explode")
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Privacy console" in html and "Questions about your data" not in html
    assert "Something went wrong on our side" in html and "secret detail" not in html


def test_error_pages_ja(app):
    """Needs the catalog entries for the new error page strings."""
    client = app.test_client()
    response = client.get("/no-such-page?lang=ja")
    assert response.status_code == 404
    title, heading = title_and_heading(response)
    assert title == heading == "このページは存在しません"
    assert not title.isascii()
    assert "メールにあるリンク" in response.get_data(as_text=True)
    too_long = client.post("/requests/new", data={
        "csrf_token": csrf_token(client, "/requests/new"), "details": "x" * 70000})
    assert too_long.status_code == 413
    assert title_and_heading(too_long)[0] == "送信された内容が長すぎます"


def test_a_logged_in_agent_gets_the_503_in_words_when_the_database_is_gone(make_app, tmp_path):
    live = make_app()
    client = logged_in(live, AGENT)
    dead = make_app(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}",
                    TESTING=False, PROPAGATE_EXCEPTIONS=False)
    cookie = client.get_cookie("session")
    dead_client = dead.test_client()
    dead_client.set_cookie("session", cookie.value, domain=cookie.domain)
    response = dead_client.get("/staff/")
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page
    assert "Temporarily unavailable" in page and "sqlalchemy" not in page.lower()
