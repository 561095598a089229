"""The OpenAPI 3 description of /api/v1, served at /api/v1/openapi.json.

Kept next to the views and checked by schemathesis in the test suite against the live API: a
response that does not match this document fails the tests.
"""
from .opendsr import (
    API_VERSION,
    OPENDSR_STATUSES,
    REGION_BY_REGULATION,
    TYPE_BY_SUBJECT_REQUEST_TYPE,
)

TIME = {"type": "string", "format": "date-time"}
UUID = {"type": "string", "format": "uuid"}
SIGNED = {
    "X-OpenDSR-Signature": {
        "description": "Base64 RSA-SHA256 (PKCS#1 v1.5) signature over the exact body bytes.",
        "required": True, "schema": {"type": "string"}},
    "X-OpenDSR-Processor-Domain": {
        "description": "The domain the signing certificate is issued for.",
        "required": True, "schema": {"type": "string"}},
}
ERROR_CODES = {
    400: "The body, a field or a parameter is invalid (see error.code and error.field).",
    401: "No API key, an unknown key or a revoked key.",
    403: "The key lacks the scope this operation needs.",
    404: "No such request among this key's requests.",
    409: "Duplicate subject_request_id, or a request that can no longer be cancelled.",
    413: "The body is larger than the server accepts.",
    415: "The body is not application/json.",
    429: "Too many requests for this key; see Retry-After.",
    503: "Temporarily unavailable (database or signing key); nothing was saved.",
}


def _json(schema_ref):
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_ref}"}}}


def _ok(description, schema_ref, signed=True):
    response = {"description": description, "content": _json(schema_ref)}
    if signed:
        response["headers"] = SIGNED
    return response


def _errors(*codes):
    return {str(code): {"description": ERROR_CODES[code], "content": _json("Error")}
            for code in codes}


def _schemas():
    identity = {
        "type": "object", "required": ["identity_type", "identity_value", "identity_format"],
        "properties": {
            "identity_type": {"type": "string", "example": "email"},
            "identity_value": {"type": "string", "example": "alice@example.com"},
            "identity_format": {"type": "string", "example": "raw"},
        },
    }
    correction = {
        "type": "object", "required": ["field", "proposed"],
        "properties": {"field": {"type": "string", "maxLength": 100},
                       "problem": {"type": "string", "maxLength": 500},
                       "proposed": {"type": "string", "maxLength": 500}},
    }
    status = {
        "type": "object",
        "required": ["controller_id", "subject_request_id", "subject_request_type",
                     "request_status", "expected_completion_time", "submitted_time",
                     "api_version"],
        "properties": {
            "controller_id": {"type": "string"},
            "subject_request_id": {"type": "string"},
            "subject_request_type": {"type": "string",
                                     "enum": list(TYPE_BY_SUBJECT_REQUEST_TYPE)},
            "request_status": {"type": "string", "enum": list(OPENDSR_STATUSES)},
            "expected_completion_time": {**TIME, "nullable": True},
            "submitted_time": TIME,
            "api_version": {"type": "string"},
        },
    }
    return {
        "Identity": identity,
        "Correction": correction,
        "CreateRequest": {
            "type": "object",
            "required": ["subject_request_id", "subject_request_type", "subject_identities",
                         "regulation", "submitted_time"],
            "properties": {
                "subject_request_id": UUID,
                "subject_request_type": {"type": "string",
                                         "enum": list(TYPE_BY_SUBJECT_REQUEST_TYPE)},
                "subject_identities": {"type": "array", "minItems": 1, "maxItems": 20,
                                       "items": {"$ref": "#/components/schemas/Identity"}},
                "regulation": {"type": "string", "enum": sorted(REGION_BY_REGULATION)},
                "submitted_time": {**TIME, "description": "When the person asked; the "
                                   "deadline runs from it. Not in the future, not older than "
                                   "92 days (for keys without vouch: the confirmation window)."},
                "api_version": {"type": "string", "example": API_VERSION},
                "status_callback_urls": {"type": "array", "maxItems": 5,
                                         "items": {"type": "string", "format": "uri"}},
                "extensions": {
                    "type": "object",
                    "description": "Keyed by processor domain; ours takes corrections (for "
                                   "subject_request_type correction), name and details.",
                    "additionalProperties": {
                        "type": "object",
                        "properties": {
                            "corrections": {"type": "array", "minItems": 1, "maxItems": 10,
                                            "items": {"$ref": "#/components/schemas/Correction"}},
                            "name": {"type": "string", "maxLength": 200},
                            "details": {"type": "string", "maxLength": 5000},
                        },
                    },
                },
            },
        },
        "CreateResponse": {
            "type": "object",
            "required": ["controller_id", "subject_request_id", "request_status",
                         "expected_completion_time", "received_time", "encoded_request",
                         "api_version"],
            "properties": {
                "controller_id": {"type": "string"},
                "subject_request_id": UUID,
                "request_status": {"type": "string", "enum": list(OPENDSR_STATUSES)},
                "expected_completion_time": TIME,
                "received_time": TIME,
                "encoded_request": {"type": "string", "format": "byte"},
                "api_version": {"type": "string"},
            },
        },
        "Status": status,
        "StatusList": {
            "type": "object", "required": ["requests", "page", "per_page", "total", "next_page"],
            "properties": {
                "requests": {"type": "array", "items": {"$ref": "#/components/schemas/Status"}},
                "page": {"type": "integer", "minimum": 1},
                "per_page": {"type": "integer", "minimum": 1, "maximum": 100},
                "total": {"type": "integer", "minimum": 0},
                "next_page": {"type": "integer", "nullable": True},
            },
        },
        "CancelResponse": {
            "type": "object",
            "required": ["controller_id", "subject_request_id", "received_time",
                         "request_status", "api_version"],
            "properties": {
                "controller_id": {"type": "string"},
                "subject_request_id": UUID,
                "received_time": TIME,
                "request_status": {"type": "string", "enum": ["cancelled"]},
                "api_version": {"type": "string"},
            },
        },
        "Discovery": {
            "type": "object",
            "required": ["api_version", "api_versions", "supported_identities",
                         "supported_subject_request_types", "processor_certificate"],
            "properties": {
                "api_version": {"type": "string"},
                "api_versions": {"type": "array", "items": {"type": "string"}},
                "supported_identities": {"type": "array", "items": {
                    "type": "object", "required": ["identity_type", "identity_format"],
                    "properties": {"identity_type": {"type": "string"},
                                   "identity_format": {"type": "string"}}}},
                "supported_subject_request_types": {"type": "array",
                                                    "items": {"type": "string"}},
                "supported_regulations": {"type": "array", "items": {"type": "string"}},
                "processor_certificate": {"type": "string", "format": "uri"},
                "processor_domain": {"type": "string"},
                "extensions": {"type": "object"},
            },
        },
        "Error": {
            "type": "object", "required": ["error"],
            "properties": {"error": {
                "type": "object", "required": ["code", "message"],
                "properties": {"code": {"type": "string", "pattern": "^[a-z_]+$"},
                               "message": {"type": "string"},
                               "field": {"type": "string"}},
            }},
        },
    }


SRID_PARAM = {"name": "subject_request_id", "in": "path", "required": True, "schema": UUID}


def _paths():
    return {
        "/requests": {
            "post": {
                "operationId": "createRequest", "summary": "Submit a data subject request",
                "description": "Needs the submit scope. With the vouch scope the request counts "
                               "as verified at submitted_time; otherwise the person is emailed "
                               "a confirmation link.",
                "security": [{"bearerAuth": []}],
                "requestBody": {"required": True, "content": _json("CreateRequest")},
                "responses": {"201": _ok("Created", "CreateResponse"),
                              **_errors(400, 401, 403, 409, 413, 415, 429, 503)},
            },
            "get": {
                "operationId": "listRequests", "summary": "This key's requests, newest first",
                "security": [{"bearerAuth": []}],
                "parameters": [
                    {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
                    {"name": "per_page", "in": "query",
                     "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
                ],
                "responses": {"200": _ok("A page of requests", "StatusList"),
                              **_errors(400, 401, 403, 429, 503)},
            },
        },
        "/requests/{subject_request_id}": {
            "parameters": [SRID_PARAM],
            "get": {
                "operationId": "getRequest", "summary": "OpenDSR status of one request",
                "security": [{"bearerAuth": []}],
                "responses": {"200": _ok("Status", "Status"),
                              **_errors(401, 403, 404, 429, 503)},
            },
            "delete": {
                "operationId": "cancelRequest", "summary": "Cancel a request while pending",
                "security": [{"bearerAuth": []}],
                "responses": {"202": _ok("Cancelled", "CancelResponse"),
                              **_errors(401, 403, 404, 409, 429, 503)},
            },
        },
        "/discovery": {"get": {
            "operationId": "discovery", "summary": "OpenDSR discovery document", "security": [],
            "responses": {"200": _ok("Discovery", "Discovery"), **_errors(429, 503)},
        }},
        "/certificate.pem": {"get": {
            "operationId": "certificate", "summary": "X.509 certificate of the signing key",
            "security": [],
            "responses": {"200": {"description": "PEM certificate", "content": {
                "application/x-pem-file": {"schema": {"type": "string"}}}},
                **_errors(503)},
        }},
        "/openapi.json": {"get": {
            "operationId": "openapi", "summary": "This document", "security": [],
            "responses": {"200": {"description": "OpenAPI 3 document",
                                  "content": {"application/json": {"schema": {
                                      "type": "object"}}}}},
        }},
    }


def document(base_url):
    """The whole OpenAPI document; servers point at this deployment's /api/v1."""
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "DSR Portal API",
            "version": API_VERSION,
            "description": "Data subject requests, compatible with OpenDSR where the "
                           "specification covers it. See docs/API.md.",
        },
        "servers": [{"url": base_url + "/api/v1"}],
        "security": [{"bearerAuth": []}],
        "paths": _paths(),
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
    }
