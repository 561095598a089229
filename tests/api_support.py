"""What the API tests share: keys, OpenDSR bodies, a callback receiver, signature checks."""
import base64
import json
import threading
import uuid
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

from app.api.auth import create_api_key
from app.extensions import db
from app.models import utcnow


def make_key(app, scopes, name="Acme CMP"):
    with app.app_context():
        api_key, plaintext = create_api_key(name, scopes, "tests")
        db.session.commit()
        return api_key.id, plaintext


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def rfc3339(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def opendsr_body(**overrides):
    """An OpenDSR request as section 7.2 of the specification shows it."""
    body = {
        "subject_request_id": str(uuid.uuid4()),
        "subject_request_type": "access",
        "submitted_time": rfc3339(utcnow() - timedelta(minutes=1)),
        "subject_identities": [{"identity_type": "email", "identity_value": "alice@example.com",
                                "identity_format": "raw"}],
        "regulation": "gdpr",
        "api_version": "2.0",
    }
    body.update(overrides)
    return body


def verify_signature(certificate_pem, body, signature_b64):
    """Raise InvalidSignature unless `signature_b64` signs `body` with the certificate's key."""
    public_key = x509.load_pem_x509_certificate(certificate_pem).public_key()
    public_key.verify(base64.b64decode(signature_b64), body, padding.PKCS1v15(), hashes.SHA256())


class CallbackReceiver:
    """A controller's callback endpoint: a real HTTP server in a thread, keeping what arrives."""

    def __init__(self, port):
        self.received = []
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                receiver.received.append((self.headers, self.rfile.read(length),
                                          self.path))
                receiver.arrived.set()
                self.send_response(202)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.url = f"http://127.0.0.1:{port}/opendsr/callbacks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def bodies(self):
        return [json.loads(body) for _, body, _ in self.received]
