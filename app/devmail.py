"""The development mailbox: reads the outbox folder. Registered only in development."""
import email
import email.policy
import re
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template
from markupsafe import Markup, escape

bp = Blueprint("devmail", __name__, url_prefix="/dev/mailbox")

_NAME = re.compile(r"^[\w.-]+\.eml$")
_URL = re.compile(r"https?://[^\s<>\"]+")


def _outbox():
    return Path(current_app.config["OUTBOX_DIR"])


def _read(path):
    with path.open("rb") as fh:
        return email.message_from_binary_file(fh, policy=email.policy.default)


def linkify(text):
    """Escape the text, then turn plain URLs into links (the text is ours, the URLs too)."""
    out, last = [], 0
    for match in _URL.finditer(text):
        out.append(escape(text[last:match.start()]))
        url = escape(match.group(0))
        out.append(Markup(f'<a href="{url}">{url}</a>'))  # noqa: S704 - url is escaped above  # nosec B704
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


@bp.get("/")
def mailbox():
    folder = _outbox()
    files = sorted(folder.glob("*.eml"), reverse=True)[:200] if folder.exists() else []
    messages = [(p.name, _read(p)) for p in files]
    return render_template("dev/mailbox.html", messages=messages)


@bp.get("/<name>")
def message(name):
    if not _NAME.match(name):
        abort(404)
    path = _outbox() / name
    if not path.is_file():
        abort(404)
    msg = _read(path)
    body = msg.get_body(preferencelist=("plain",))
    return render_template("dev/message.html", msg=msg,
                           body=linkify(body.get_content() if body else ""))
