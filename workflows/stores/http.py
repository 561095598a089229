"""HTTP stores: a remote system answering the small JSON protocol in docs/STORES.md.

Each call is a POST of ``{"identities": {...}}`` to ``{url}/access``, ``/erase`` or
``/correct``. Timeouts, connection failures, 429 and 5xx are retried a bounded number of
times with exponential back-off, then reported as StoreUnavailable so the workflow can retry
the step later; other 4xx answers and malformed JSON are StoreError (retrying will not help).
Neither request bodies nor tokens ever appear in messages: they carry personal data.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from urllib.parse import urlsplit

from workflows.stores.base import (
    CorrectResult,
    EraseResult,
    Identities,
    Record,
    Store,
    StoreConfigError,
    StoreError,
    StoreUnavailable,
    TableOutcome,
)

DEFAULT_TIMEOUT = 10.0
DEFAULT_RETRIES = 2
BACKOFF_SECONDS = 0.5  # doubled after each failed attempt
BACKOFF_CAP = 8.0
MAX_RESPONSE_BYTES = 64 << 20  # one page; the protocol pages large answers with next_cursor
MAX_PAGES = 100_000
ACTIONS = {"deleted", "anonymized", "retained"}


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A store answers at its own URL. Following a redirect would send the person's
    identities, and the store's bearer token, to whatever host the Location names (urllib
    keeps the Authorization header), and take that host's answer as the person's data."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # urllib then raises HTTPError with the 3xx code


_OPENER = urllib.request.build_opener(_NoRedirects)


class HttpStore(Store):
    """A remote system speaking the DSR store protocol over HTTP(S)."""

    backoff = BACKOFF_SECONDS  # class attribute so tests can shorten it

    def _endpoint(self, operation: str) -> str:
        base = (self.config.url or "").rstrip("/")
        if urlsplit(base).scheme not in ("http", "https"):
            raise StoreConfigError(
                f"{self.config.locate(key='url')}: url must be http:// or https://"
            )
        return f"{base}/{operation}"

    def _headers(self) -> dict[str, str]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self.config.token_env:
            token = os.environ.get(self.config.token_env)
            if not token:
                raise StoreConfigError(
                    f"{self.config.locate(key='token_env')}: "
                    f"environment variable {self.config.token_env} is not set"
                )
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def call(self, operation: str, payload: dict) -> dict:
        """POST ``payload`` to ``{url}/{operation}`` and return the decoded JSON object."""
        url = self._endpoint(operation)
        shown = _safe_url(url)
        body = json.dumps(payload, default=str).encode()
        timeout = self.config.timeout or DEFAULT_TIMEOUT
        attempts = 1 + (DEFAULT_RETRIES if self.config.retries is None else self.config.retries)
        problem = ""
        for attempt in range(1, attempts + 1):
            # The scheme is checked in _endpoint: only http(s) reaches Request and urlopen.
            request = urllib.request.Request(  # noqa: S310
                url, data=body, headers=self._headers(), method="POST"
            )
            try:
                with _OPENER.open(request, timeout=timeout) as response:  # nosec B310
                    raw = response.read(MAX_RESPONSE_BYTES + 1)
                return self._decode(raw, shown)
            except urllib.error.HTTPError as err:
                if 300 <= err.code < 400:
                    raise StoreError(
                        f"store {self.name!r}: {shown} answered with a redirect (HTTP {err.code}); "
                        "redirects are not followed: set the store's url to where it answers"
                    ) from None
                if err.code != 429 and err.code < 500:
                    raise StoreError(
                        f"store {self.name!r}: {shown} refused the request with HTTP {err.code}"
                    ) from None
                problem = f"HTTP {err.code}"
            except TimeoutError:
                problem = f"no answer within {timeout:g}s"
            except urllib.error.URLError as err:
                reason = err.reason
                timed_out = isinstance(reason, TimeoutError)
                problem = (
                    f"no answer within {timeout:g}s" if timed_out else f"cannot connect ({reason})"
                )
            except OSError as err:  # connection reset mid-answer
                problem = f"connection failed ({err.strerror or type(err).__name__})"
            if attempt < attempts:
                time.sleep(min(self.backoff * 2 ** (attempt - 1), BACKOFF_CAP))
        raise StoreUnavailable(
            f"store {self.name!r}: {shown}: {problem} after {attempts} attempt(s)"
        )

    def _decode(self, raw: bytes, shown: str) -> dict:
        if len(raw) > MAX_RESPONSE_BYTES:
            raise StoreError(f"store {self.name!r}: {shown} answered more than 64 MiB in one page")
        try:
            data = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            raise StoreError(f"store {self.name!r}: {shown} answered invalid JSON") from None
        if not isinstance(data, dict):
            raise StoreError(f"store {self.name!r}: {shown} answered JSON that is not an object")
        return data

    def _invalid(self, operation: str, what: str) -> StoreError:
        return StoreError(f"store {self.name!r}: invalid /{operation} answer: {what}")

    def find(self, identities: Identities) -> Iterator[Record]:
        """Page through ``/access`` answers, yielding each record as it arrives."""
        cursor = None
        for _ in range(MAX_PAGES):
            payload = {"identities": _as_json(identities)}
            if cursor is not None:
                payload["cursor"] = cursor
            data = self.call("access", payload)
            records = data.get("records", {})
            if not isinstance(records, dict):
                raise self._invalid("access", "records must be an object of table -> list of rows")
            for table, rows in records.items():
                if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
                    raise self._invalid("access", f"records[{table!r}] must be a list of objects")
                for row in rows:
                    yield Record(self.name, str(table), row, on_erase="remote")
            cursor = data.get("next_cursor")
            if not cursor:
                return
        raise self._invalid("access", f"more than {MAX_PAGES} pages")

    def erase(self, identities: Identities) -> EraseResult:
        """Ask the remote system to erase the person; it reports what it did per table."""
        data = self.call("erase", {"identities": _as_json(identities)})
        # No default: an answer without outcomes says nothing about what was erased, and the
        # re-scan would have no tables to check (docs/STORES.md: `[]` when there was nothing).
        if "outcomes" not in data:
            raise self._invalid("erase", "outcomes is missing")
        entries = data["outcomes"]
        if not isinstance(entries, list):
            raise self._invalid("erase", "outcomes must be a list")
        outcomes = []
        for entry in entries:
            if not (
                isinstance(entry, dict)
                and entry.get("action") in ACTIONS
                and isinstance(entry.get("count"), int)
                and isinstance(entry.get("table"), str)
            ):
                raise self._invalid(
                    "erase", "each outcome needs table, action and an integer count"
                )
            if entry["action"] == "retained" and not entry.get("reason"):
                raise self._invalid("erase", f"retained table {entry['table']!r} gives no reason")
            outcomes.append(
                TableOutcome(entry["table"], entry["action"], entry["count"], entry.get("reason"))
            )
        return EraseResult(self.name, tuple(outcomes))

    def correct(self, identities: Identities, changes: dict[str, object]) -> CorrectResult:
        """Send the proposed changes; the remote system applies those it allows."""
        payload = {"identities": _as_json(identities), "changes": changes}
        data = self.call("correct", payload)
        counts = data.get("counts", {})
        if not isinstance(counts, dict) or not all(isinstance(v, int) for v in counts.values()):
            raise self._invalid("correct", "counts must map table names to integers")
        return CorrectResult(self.name, dict(counts))


def _as_json(identities: Identities) -> dict[str, list[str]]:
    return {name: sorted(values) for name, values in identities.items()}


def _safe_url(url: str) -> str:
    """The URL without credentials or query string, fit for an error message."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"
