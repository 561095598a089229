"""/metrics: Prometheus text for monitoring. Counts only, never a person's data.

Open to the machine itself (127.0.0.1 / ::1) or to a scraper presenting METRICS_TOKEN as a
Bearer token; everyone else gets 404, as if there were nothing here.

"The machine itself" excludes a proxy on the same host: with TRUSTED_PROXIES=0 every request it
forwards comes from 127.0.0.1, so one that carries a forwarding header is someone else's.
"""
import hmac

from flask import Response, abort, current_app, request
from redis.exceptions import RedisError
from sqlalchemy import func

from .extensions import db
from .models import OPEN_STATES, Callback, DataRequest, MailMessage, Step, utcnow
from .queue import queue

LOOPBACK = {"127.0.0.1", "::1"}
FORWARDING_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-Ip")


def allowed():
    token = current_app.config.get("METRICS_TOKEN")
    if token:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        return hmac.compare_digest(given.encode(), token.encode())
    if request.remote_addr not in LOOPBACK:
        return False
    # With TRUSTED_PROXIES set, ProxyFix has already put the client's address in remote_addr.
    proxied = any(name in request.headers for name in FORWARDING_HEADERS)
    return not (proxied and current_app.config["TRUSTED_PROXIES"] == 0)


def grouped(column_a, column_b, model, *where):
    return db.session.execute(
        db.select(column_a, column_b, func.count()).select_from(model).where(*where)
        .group_by(column_a, column_b)
    ).all()


def lines():
    yield "# HELP dsr_requests Data requests by state and type."
    yield "# TYPE dsr_requests gauge"
    for state, kind, count in grouped(DataRequest.state, DataRequest.request_type, DataRequest):
        yield f'dsr_requests{{state="{state}",type="{kind}"}} {count}'
    overdue = db.session.execute(
        db.select(func.count()).select_from(DataRequest)
        .where(DataRequest.state.in_(OPEN_STATES), DataRequest.due_at < utcnow())
    ).scalar_one()
    yield "# HELP dsr_requests_overdue Open requests past their due date."
    yield "# TYPE dsr_requests_overdue gauge"
    yield f"dsr_requests_overdue {overdue}"
    yield "# HELP dsr_steps Workflow steps by phase and state."
    yield "# TYPE dsr_steps gauge"
    for phase, state, count in grouped(Step.phase, Step.state, Step):
        yield f'dsr_steps{{phase="{phase}",state="{state}"}} {count}'
    for name, model in (("dsr_mail", MailMessage), ("dsr_callbacks", Callback)):
        yield f"# TYPE {name} gauge"
        for state, _, count in grouped(model.state, model.state, model):
            yield f'{name}{{state="{state}"}} {count}'
    yield "# HELP dsr_queue_jobs Jobs waiting in the RQ queue (-1: Redis unreachable)."
    yield "# TYPE dsr_queue_jobs gauge"
    try:
        waiting = queue().count
    except RedisError:
        waiting = -1
    yield f"dsr_queue_jobs {waiting}"


def metrics():
    if not allowed():
        abort(404)
    return Response("\n".join(lines()) + "\n", mimetype="text/plain; version=0.0.4")


def init_app(app):
    app.add_url_rule("/metrics", "metrics", metrics)
