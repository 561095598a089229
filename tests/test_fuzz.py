"""Hostile input on every public form and link: never a 5xx, never stored garbage, every bad
token refused, and the security headers on every page (error pages included).

Hypothesis drives the forms with CSRF and the rate limiters on (limits raised so that the
fuzzer is not simply answered 429). One app per test, shared by its examples: whatever ends
up stored must pass the intake form's own rules.
"""
import re
from datetime import timedelta
from urllib.parse import quote

import pytest
from helpers import csrf_token, submit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from itsdangerous import URLSafeTimedSerializer
from test_links import verify_path
from werkzeug.routing import IntegerConverter

from app.audit import record
from app.extensions import db
from app.models import REGIONS, REQUEST_TYPES, DataRequest, Delivery, utcnow
from app.storage import storage
from app.tokens import SALTS, make_link_token

FUZZ = settings(max_examples=120, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
HIGH = (100_000, 3600)
BAD_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]")
MARKUP = re.compile(r"<\s*[a-zA-Z!/?]")
LIMITS = {"email": 254, "name": 200, "details": 5000}


@pytest.fixture
def fuzz_app(make_app):
    return make_app(RATE_LIMITS={"intake": HIGH, "recipient": HIGH, "verify": HIGH,
                                 "resend": HIGH, "status": HIGH})


# Text a person (or an attacker) could send: any code point that UTF-8 can carry.
any_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=60)
overlong = st.integers(min_value=250, max_value=6000).map(lambda n: "x" * n)
field_value = st.one_of(any_text, overlong, st.just(""), st.sampled_from(
    ["alice@example.com", "<script>alert(1)</script>", "a@b", "Ali\x00ce", "\u202eevil",
     "bob@example.com\r\nBcc: eve@example.com", "名前@例え.jp", "\ufffd"]))
choice_value = st.one_of(st.sampled_from(sorted(REQUEST_TYPES) + sorted(REGIONS)), any_text)
FIELDS = {
    "email": field_value, "name": field_value, "details": field_value,
    "request_type": choice_value, "region": choice_value, "timezone": field_value,
    "confirm": st.sampled_from(["y", "", "on", "false"]),
    "corrections-0-field": field_value, "corrections-0-proposed": field_value,
    "corrections-0-problem": field_value,
}
VALID = {"email": "alice@example.com", "name": "Alice", "request_type": "access",
         "region": "eu", "details": "", "timezone": "UTC"}
# Half wholly random forms, half a valid form with some of its fields fuzzed: those get past
# the early refusals and reach the validators that guard what is stored.
intake_forms = st.one_of(
    st.fixed_dictionaries({}, optional=FIELDS),
    st.fixed_dictionaries({}, optional=FIELDS).map(lambda fuzzed: {**VALID, **fuzzed}),
)


def assert_nothing_stored_is_garbage(app):
    with app.app_context():
        for r in db.session.execute(db.select(DataRequest)).scalars():
            assert r.request_type in REQUEST_TYPES and r.region in REGIONS
            for name, limit in LIMITS.items():
                value = getattr(r, name) or ""
                assert len(value) <= limit, (name, len(value))
                assert not BAD_CHARS.search(value), (name, value)
            for name in ("name", "details"):
                assert not MARKUP.search(getattr(r, name) or ""), (name, getattr(r, name))
            assert r.email == r.email.strip() and "\n" not in r.email and "\r" not in r.email
            for correction in r.corrections or []:
                for value in correction.values():
                    assert not BAD_CHARS.search(value) and not MARKUP.search(value)
                    assert len(value) <= 500


def test_intake_form_fuzzed_never_5xx_and_stores_only_clean_text(fuzz_app):
    client = fuzz_app.test_client()
    token = csrf_token(client, "/requests/new")
    seen = {303: 0, 400: 0}

    @FUZZ
    @given(fields=intake_forms)
    def check(fields):
        response = client.post("/requests/new", data={**fields, "csrf_token": token})
        assert response.status_code in (303, 400), response.status_code
        seen[response.status_code] += 1
        if response.status_code == 400:
            assert b"Traceback" not in response.data

    check()
    assert seen[303] >= 5 and seen[400] >= 5, seen  # both sides of the rules were exercised
    assert_nothing_stored_is_garbage(fuzz_app)


def test_intake_raw_bytes_never_5xx(fuzz_app):
    client = fuzz_app.test_client()
    token = csrf_token(client, "/requests/new").encode()

    @FUZZ
    @given(body=st.binary(max_size=400), content_type=st.sampled_from(
        ["application/x-www-form-urlencoded", "multipart/form-data; boundary=xx",
         "text/plain", "application/json"]))
    def check(body, content_type):
        response = client.post("/requests/new", data=b"csrf_token=" + token + b"&" + body,
                               content_type=content_type)
        assert response.status_code < 500, response.status_code

    check()
    assert_nothing_stored_is_garbage(fuzz_app)


token_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1,
                     max_size=300).map(lambda t: quote(t, safe=""))


def test_random_tokens_on_every_link_are_refused_never_5xx(fuzz_app):
    client = fuzz_app.test_client()
    csrf = csrf_token(client, "/requests/new")

    @FUZZ
    @given(token=token_text, route=st.sampled_from([
        ("GET", "/verify/{}"), ("POST", "/verify/{}"), ("POST", "/verify/{}/resend"),
        ("GET", "/status/{}"), ("POST", "/status/{}/cancel"),
        ("GET", "/download/{}"), ("POST", "/download/{}")]))
    def check(token, route):
        method, template = route
        response = client.open(template.format(token), method=method,
                               data={"csrf_token": csrf} if method == "POST" else None)
        assert 400 <= response.status_code < 500, (route, response.status_code)

    check()


# --- the token matrix ----------------------------------------------------------------------

def expired_token(app, purpose, reference, **extra):
    """A correctly signed token whose timestamp is long past every TTL."""
    with app.app_context():
        serializer = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=SALTS[purpose])
    signer = serializer.make_signer(SALTS[purpose])
    signer.get_timestamp = lambda: 1_000_000_000  # 2001
    payload = serializer.dump_payload({"r": reference, **extra})
    return signer.sign(payload).decode()


def tampered(token):
    middle = len(token) // 2
    return token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]


def with_delivery(app, tmp_path, email):
    """A completed request of `email` with an archive ready to download; its reference."""
    path = tmp_path / f"{email}.zip"
    path.write_bytes(b"PK\x05\x06" + b"\x00" * 18)
    with app.test_request_context():
        now = utcnow()
        data_request = DataRequest(
            request_type="access", region="eu", regime="gdpr", email=email, name="Someone",
            state="completed", received_at=now, verified_at=now, due_at=now, closed_at=now)
        db.session.add(data_request)
        db.session.flush()
        record(data_request, "system", "completed")
        key = f"{data_request.reference}/dsr.zip"
        storage().put_file(path, key)
        db.session.add(Delivery(request_id=data_request.id, kind="archive", path=key,
                                bytes=22, sha256="0" * 64, expires_at=now + timedelta(days=7),
                                downloads=0, max_downloads=1))
        db.session.commit()
        return data_request.reference


def test_token_matrix_every_wrong_token_is_refused(fuzz_app, tmp_path):
    app, client = fuzz_app, fuzz_app.test_client()
    csrf = csrf_token(client, "/requests/new")
    submit(client, email="carol@example.com")
    verify = verify_path(app).removeprefix("/verify/")
    with app.app_context():
        pending = db.session.execute(db.select(DataRequest.reference)).scalar_one()
    mine = with_delivery(app, tmp_path, "alice@example.com")
    theirs = with_delivery(app, tmp_path, "bob@example.com")
    with app.app_context():
        status = make_link_token("status", mine)
        download = make_link_token("download", mine, kind="archive")
        other_key = URLSafeTimedSerializer("another-deployment-key", salt=SALTS["status"])
        foreign = other_key.dumps({"r": mine})
        unknown = make_link_token("status", "0000-0000-0000")

    def post(path):
        return client.post(path, data={"csrf_token": csrf}).status_code

    def get(path):
        return client.get(path).status_code

    refused = {
        # expired
        "verify expired": get("/verify/" + expired_token(app, "verify", pending, n="x" * 32)),
        "status expired": get("/status/" + expired_token(app, "status", mine)),
        "download expired": get("/download/" + expired_token(app, "download", mine,
                                                             k="archive")),
        # tampered
        "verify tampered": post("/verify/" + tampered(verify)),
        "status tampered": get("/status/" + tampered(status)),
        "download tampered": post("/download/" + tampered(download)),
        # wrong purpose
        "status token as verify": post("/verify/" + status),
        "verify token as status": get("/status/" + verify),
        "download token as status": get("/status/" + download),
        "status token as download": post("/download/" + status),
        # signed by another deployment, or for a request that does not exist
        "foreign key": get("/status/" + foreign),
        "unknown reference": get("/status/" + unknown),
    }
    assert {k: v for k, v in refused.items() if v not in (400, 410)} == {}

    # reused: the verify link confirms once; the download link counts down to nothing
    assert post("/verify/" + verify) == 303
    assert post("/verify/" + verify) == 410
    assert client.post("/download/" + download, data={"csrf_token": csrf}).data[:2] == b"PK"
    assert post("/download/" + download) == 410

    # another person's: each token shows its own request and nothing of the other's
    page = client.get("/status/" + status).get_data(as_text=True)
    assert mine in page and theirs not in page
    with app.app_context():
        their_download = make_link_token("download", theirs, kind="certificate")
    assert get("/download/" + their_download) == 400  # they have no certificate


# --- headers on every page -----------------------------------------------------------------

def example_url(rule):
    values = {}
    for name in rule.arguments:
        if isinstance(rule._converters[name], IntegerConverter):
            values[name] = 1
        elif name == "filename":
            values[name] = "css/site.css"
        else:
            values[name] = "x"
    return rule.build(values)[1] if values else rule.rule


def test_security_headers_on_every_get_route_and_error_page(fuzz_app):
    client = fuzz_app.test_client()
    urls = {example_url(rule) for rule in fuzz_app.url_map.iter_rules()
            if "GET" in rule.methods}
    urls |= {"/no-such-page", "/verify/" + "x" * 5000}
    statuses = {}
    for url in sorted(urls):
        response = client.get(url)
        statuses[url] = response.status_code
        headers = response.headers
        assert "frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""), url
        assert headers.get("X-Content-Type-Options") == "nosniff", url
        assert headers.get("Referrer-Policy") == "same-origin", url
        assert response.status_code < 500, (url, response.status_code)
    response = client.delete("/requests/new")  # 405 is an error page too
    assert response.status_code == 405
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert len(statuses) >= 8  # the map really was walked
