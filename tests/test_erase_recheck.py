"""After erasing, the re-scan checks every table the store still finds the person in, not only
the tables the store's answer named: a store that leaves one out is not certified empty."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from test_staff_access import make_request

from app.extensions import db
from app.models import DataRequest, Step
from workflows.datamap import parse_datamap
from workflows.store_work import erase
from workflows.stores import StoreError, make_store


class ForgetfulCrm(BaseHTTPRequestHandler):
    """Says it deleted the contacts, never mentions the notes it still holds about the person."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        if self.path == "/dsr/erase":
            self.server.erased = True
            answer = {"outcomes": [{"table": "contacts", "action": "deleted", "count": 1}]}
        else:
            notes = [{"id": 1, "text": "called about invoice"}]
            contacts = [] if self.server.erased else [{"id": 7}]
            answer = {"records": {"contacts": contacts, "notes": notes}}
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def crm():
    server = ThreadingHTTPServer(("127.0.0.1", 0), ForgetfulCrm)
    server.erased, server.daemon_threads = False, True
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    yield make_store(parse_datamap(
        f'[[stores]]\nname = "crm"\nkind = "http"\n'
        f'url = "http://127.0.0.1:{server.server_address[1]}/dsr"\nretries = 0\n').stores[0])
    server.shutdown()
    server.server_close()


def test_a_table_left_out_of_the_erase_answer_is_still_checked(app, crm):
    request_id = make_request(app, request_type="deletion", state="in_progress")
    with app.app_context():
        step = Step(request_id=request_id, phase="store", store="crm")
        db.session.add(step)
        db.session.commit()
        data_request = db.session.get(DataRequest, request_id)
        with pytest.raises(StoreError, match="notes"):
            erase(step, data_request, crm, {"email": {"alice@example.com"}})
        assert not (step.result or {}).get("verified_empty")
