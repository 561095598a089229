"""Small helpers the tests share: act like a browser and like a person reading email."""
import email
import email.policy
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


class MailSink:
    """aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)
        return "250 OK"


def run_worker(timeout=60):
    """Run a real RQ worker process in burst mode until the queue is empty."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
        cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def csrf_token(client, path):
    """GET a page and return the CSRF token from its form, as a browser would."""
    response = client.get(path)
    match = CSRF_RE.search(response.get_data(as_text=True))
    assert match, f"no CSRF token in {path} ({response.status_code})"
    return match.group(1)


def submit(client, **fields):
    """Fill the intake form like a person: fetch it for the token, then POST."""
    data = {"request_type": "access", "email": "alice@example.com", "name": "Alice Example",
            "region": "eu", "details": "", "timezone": "Europe/Berlin"}
    data.update(fields)
    data.setdefault("csrf_token", csrf_token(client, "/requests/new"))
    return client.post("/requests/new", data=data)


def links_in(message):
    body = message.get_body(preferencelist=("plain",)).get_content()
    return re.findall(r"https?://\S+", body)
