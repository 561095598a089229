"""The http connector against a real local HTTP server (healthy, slow, failing, down); manual."""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from workflows.datamap import parse_datamap
from workflows.stores import ManualTask, Record, StoreError, StoreUnavailable, make_store
from workflows.stores.http import HttpStore

ALICE = {"email": {"alice@example.com"}, "user_id": {"1"}}
CONTACTS = [{"id": i, "user_id": "1", "note": f"n{i}"} for i in range(5)]


class RemoteSystem(BaseHTTPRequestHandler):
    """A company's SaaS tool implementing the protocol; behaviour set on the server."""

    def log_message(self, *args):  # keep test output clean
        pass

    def do_POST(self):
        server = self.server
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        server.calls.append((self.path, body, self.headers.get("Authorization")))
        if server.delay:
            time.sleep(server.delay)
        if server.fail_first > 0:
            server.fail_first -= 1
            return self._send(503, b"busy")
        if server.mode == "invalid":
            return self._send(200, b"<html>not json")
        if server.mode == "forbidden":
            return self._send(403, b"{}")
        if server.mode == "redirect":
            self.send_response(302)
            self.send_header("Location", server.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        if server.mode == "no_outcomes" and self.path == "/dsr/erase":
            return self._send(200, b"{}")
        self._send(200, json.dumps(self.answer(self.path, body)).encode())

    def answer(self, path, body):
        mine = "1" in body["identities"].get("user_id", [])
        if path == "/dsr/access":
            # Two rows per page, paged with an opaque cursor.
            start = int(body.get("cursor") or 0)
            rows = CONTACTS[start : start + 2] if mine else []
            nxt = str(start + 2) if mine and start + 2 < len(CONTACTS) else None
            return {"records": {"contacts": rows}, "next_cursor": nxt}
        if path == "/dsr/erase":
            return {
                "outcomes": [
                    {"table": "contacts", "action": "deleted", "count": 5 if mine else 0},
                    {"table": "deals", "action": "retained", "count": 1, "reason": "Contract"},
                ]
            }
        return {"counts": {"contacts": 1 if "note" in body["changes"] else 0}}

    def _send(self, status, payload):
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up waiting (the slow-store test): expected


@pytest.fixture
def remote():
    server = ThreadingHTTPServer(("127.0.0.1", 0), RemoteSystem)
    server.calls, server.delay, server.fail_first, server.mode = [], 0, 0, "ok"
    server.redirect_to = None
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def fast_backoff(monkeypatch):
    monkeypatch.setattr(HttpStore, "backoff", 0.05)


def http_store(url, timeout=2, retries=2, token_env=None):
    token = f'token_env = "{token_env}"\n' if token_env else ""
    text = (
        f'[[stores]]\nname = "crm"\nkind = "http"\nurl = "{url}"\n'
        f"timeout = {timeout}\nretries = {retries}\n{token}"
    )
    return make_store(parse_datamap(text).stores[0])


def base(server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/dsr"


def test_access_pages_through_all_records_and_sends_identities(remote):
    records = list(http_store(base(remote)).find(ALICE))
    assert all(isinstance(r, Record) and r.table == "contacts" for r in records)
    assert [r.row["id"] for r in records] == [0, 1, 2, 3, 4]
    path, body, auth = remote.calls[0]
    assert path == "/dsr/access" and auth is None
    assert body == {"identities": {"email": ["alice@example.com"], "user_id": ["1"]}}
    assert [c[1].get("cursor") for c in remote.calls] == [None, "2", "4"]


def test_erase_reports_remote_outcomes_per_table(remote):
    result = http_store(base(remote)).erase(ALICE)
    assert [(o.table, o.action, o.count, o.reason) for o in result.outcomes] == [
        ("contacts", "deleted", 5, None),
        ("deals", "retained", 1, "Contract"),
    ]
    assert result.erased == 5


def test_correct_sends_changes_and_returns_counts(remote):
    result = http_store(base(remote)).correct(ALICE, {"note": "new"})
    assert result.counts == {"contacts": 1}
    assert remote.calls[0][1]["changes"] == {"note": "new"}


def test_bearer_token_comes_from_the_named_environment_variable(remote, monkeypatch):
    monkeypatch.setenv("CRM_DSR_TOKEN", "s3cret")
    list(http_store(base(remote), token_env="CRM_DSR_TOKEN").find(ALICE))
    assert remote.calls[0][2] == "Bearer s3cret"


def test_missing_token_variable_is_a_clear_error_without_a_request(remote, monkeypatch):
    monkeypatch.delenv("CRM_DSR_TOKEN", raising=False)
    with pytest.raises(StoreError, match="environment variable CRM_DSR_TOKEN is not set"):
        http_store(base(remote), token_env="CRM_DSR_TOKEN").erase(ALICE)
    assert remote.calls == []


def test_server_errors_are_retried_then_succeed(remote):
    remote.fail_first = 2
    assert http_store(base(remote), retries=2).erase(ALICE).erased == 5
    assert len(remote.calls) == 3


def test_persistent_server_errors_fail_after_bounded_retries(remote):
    remote.fail_first = 99
    with pytest.raises(
        StoreUnavailable, match=r"store 'crm': .*/dsr/erase: HTTP 503 after 3 attempt"
    ):
        http_store(base(remote), retries=2).erase(ALICE)
    assert len(remote.calls) == 3


def test_slow_store_fails_with_a_clear_error_within_the_timeout(remote):
    remote.delay = 3
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match=r"no answer within 0.3s after 2 attempt"):
        http_store(base(remote), timeout=0.3, retries=1).erase(ALICE)
    assert time.monotonic() - started < 1.5  # 2 x 0.3 s + back-off, not the server's 3 s


def test_down_store_fails_fast_with_a_clear_error():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again when the block ends: nobody listens
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match=r"cannot connect .*after 3 attempt"):
        list(http_store(f"http://127.0.0.1:{port}/dsr").find(ALICE))
    assert time.monotonic() - started < 2


def test_invalid_json_is_a_protocol_error_not_retried(remote):
    remote.mode = "invalid"
    with pytest.raises(StoreError, match="answered invalid JSON"):
        http_store(base(remote)).erase(ALICE)
    assert len(remote.calls) == 1


def test_client_error_is_not_retried(remote):
    remote.mode = "forbidden"
    with pytest.raises(StoreError, match="refused the request with HTTP 403"):
        list(http_store(base(remote)).find(ALICE))
    assert len(remote.calls) == 1


def test_error_messages_never_contain_identities(remote):
    remote.fail_first = 99
    with pytest.raises(StoreUnavailable) as caught:
        http_store(base(remote), retries=0).erase(ALICE)
    assert "alice" not in str(caught.value)


def test_manual_store_turns_every_operation_into_a_staff_task():
    text = (
        '[[stores]]\nname = "psp"\nkind = "manual"\n'
        'instructions = """\nExport from the dashboard.\n"""\n'
    )
    store = make_store(parse_datamap(text).stores[0])
    assert list(store.find(ALICE)) == [ManualTask("psp", "access", "Export from the dashboard.")]
    assert store.erase(ALICE).task == ManualTask("psp", "erase", "Export from the dashboard.")
    assert store.correct(ALICE, {"name": "x"}).task.action == "correct"
    assert store.count(ALICE) == {}
    assert store.describe()["kind"] == "manual"


def test_a_redirect_is_not_followed_so_identities_and_token_stay_with_the_store(
        remote, monkeypatch):
    """urllib follows a 302 to any host as a GET, keeping the Authorization header, and would
    take that host's JSON as the person's records."""
    elsewhere = ThreadingHTTPServer(("127.0.0.1", 0), RemoteSystem)
    elsewhere.calls, elsewhere.delay, elsewhere.fail_first, elsewhere.mode = [], 0, 0, "ok"
    threading.Thread(target=elsewhere.serve_forever, args=(0.05,), daemon=True).start()
    try:
        monkeypatch.setenv("CRM_TOKEN", "s3cret-token")
        remote.mode, remote.redirect_to = "redirect", base(elsewhere) + "/access"
        with pytest.raises(StoreError, match="redirect") as caught:
            list(http_store(base(remote), token_env="CRM_TOKEN").find(ALICE))
        assert elsewhere.calls == []  # nothing, and no token, went to the other host
        assert "s3cret" not in str(caught.value) and "alice" not in str(caught.value)
        assert len(remote.calls) == 1  # a redirect is not retried either
    finally:
        elsewhere.shutdown()
        elsewhere.server_close()


def test_an_erase_answer_without_outcomes_is_refused(remote):
    """`{}` used to read as "nothing erased, nothing to re-check": the store was certified empty
    while /access still returned the person's rows."""
    remote.mode = "no_outcomes"
    with pytest.raises(StoreError, match="outcomes is missing"):
        http_store(base(remote)).erase(ALICE)
