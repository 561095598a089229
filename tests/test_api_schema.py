"""schemathesis against the live OpenAPI document: no 5xx, no response the document does not allow.

The document is fetched from the running app (/api/v1/openapi.json), so what is tested is what
callers read. Each operation gets a bounded number of generated cases (data valid for the
document and data that is not) through the WSGI app;
half of them are made plausible (a fresh id, a recent submitted_time, a real address, an
existing request) so that success responses are checked too, not only refusals. Generated cases
are random, so the statuses each operation must show are also produced by fixed cases that go
through the same checks: the assertions at the end cannot depend on luck.
"""
import uuid
from datetime import timedelta

import schemathesis
from api_support import bearer, make_key, opendsr_body, rfc3339
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from app.models import utcnow

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = 40


def make_plausible(case, known_ids):
    if case.method == "POST" and isinstance(case.body, dict):
        case.body.update(
            subject_request_id=str(uuid.uuid4()),
            submitted_time=rfc3339(utcnow() - timedelta(minutes=5)),
            subject_identities=opendsr_body()["subject_identities"],
        )
        case.body.pop("status_callback_urls", None)
        if case.body.get("api_version") is not None:
            case.body["api_version"] = "2.0"
    if case.path_parameters and "subject_request_id" in case.path_parameters:
        case.path_parameters["subject_request_id"] = known_ids[0]


def fixed_cases(operation, known_ids):
    """Cases whose outcome is known: a success and a refusal for every operation."""
    key = f"{operation.method.upper()} {operation.path}"
    if key == "POST /requests":
        yield operation.Case(body=opendsr_body(), media_type="application/json")
        yield operation.Case(body=opendsr_body(subject_request_id="not-a-uuid"),
                             media_type="application/json")
    elif "{subject_request_id}" in operation.path:
        yield operation.Case(path_parameters={"subject_request_id": known_ids[-1]})
        yield operation.Case(path_parameters={"subject_request_id": str(uuid.uuid4())})
    else:
        yield operation.Case()


def check_operation(operation, headers, known_ids, statuses):
    for case in fixed_cases(operation, known_ids):
        statuses.add(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

    cases = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                      operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

    @given(case=cases, plausible=st.booleans())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case, plausible):
        if plausible:
            make_plausible(case, known_ids)
        statuses.add(case.call_and_validate(headers=headers, checks=CHECKS).status_code)

    run()


def test_api_matches_its_openapi_document(make_app):
    app = make_app()
    headers = bearer(make_key(app, "submit,read,vouch")[1])
    client = app.test_client()
    known_ids = []
    for kind in ("erasure", "access"):
        body = opendsr_body(subject_request_type=kind)
        assert client.post("/api/v1/requests", json=body, headers=headers).status_code == 201
        known_ids.append(body["subject_request_id"])

    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    statuses = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        seen = statuses[f"{operation.method.upper()} {operation.path}"] = set()
        check_operation(operation, headers, known_ids, seen)
    # Both sides were exercised: successes validated against their schemas, and refusals.
    assert {201, 400} <= statuses["POST /requests"]
    assert {200, 404} <= statuses["GET /requests/{subject_request_id}"]
    assert 202 in statuses["DELETE /requests/{subject_request_id}"]
    assert statuses["GET /discovery"] == {200}
