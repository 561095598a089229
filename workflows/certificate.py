"""The deletion certificate: its facts, gathered when a deletion completes, the PDF built from
them, and the summary the completion email gives of the same facts.

The PDF shares the statement's layout (``workflows.reports``): values from the config, the data
map or a store go through ``_text``, fixed text is translated into the active language.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from reportlab.lib.units import mm
from reportlab.platypus import Spacer

from app.deadlines import local_date
from app.locales import in_locale, long_date
from workflows.datamap import DataMapError, load_datamap, table_title
from workflows.document_language import written_date
from workflows.reports import _H1, _H2, _build, _field, _p, _table, _text
from workflows.store_groups import store_title
from workflows.store_groups import table_title as described_table


def certificate_facts(data_request, steps, completed_at):
    """What the certificate and the erasure email state (``deletion_certificate`` lists the
    keys), from the request's erase steps and the config, as plain JSON values."""
    days = current_app.config["BACKUP_ROLLOFF_DAYS"]
    # The last backup holding the person's data is gone BACKUP_ROLLOFF_DAYS after the moment
    # of completion; its date is the one the person's calendar shows then (for Tokyo, the day
    # after a completion late in the UTC day).
    rolloff = local_date(completed_at + timedelta(days=days), data_request.timezone)
    stores, verified = [], []
    for step in steps:
        result = step.result or {}
        stores.append({"store": step.store, "outcomes": result.get("outcomes", []),
                       "manual": "task" in result, "note": result.get("note")})
        if result.get("verified_empty"):
            verified.append(step.store)
    if stores:
        stores = kept_reasons_in_language(stores, data_request.locale)
    return {
        "company": current_app.config["COMPANY_NAME"],
        "contact": current_app.config["COMPANY_CONTACT"],
        "reference": data_request.reference, "completed_at": completed_at.isoformat(),
        "timezone": data_request.timezone,
        "stores": stores, "backups_roll_off": rolloff.isoformat(),
        "backup_rolloff_days": days, "verified_empty": verified,
    }


def kept_reasons_in_language(stores, language):
    """The certificate's stores with the names and each kept table's reason in the person's
    language: each store's ``title`` and its tables' (``table_titles``), as the data map
    titles them (the ids where it does not).

    Erase steps record the reason as the data map writes it. Where the map translates that
    very text (the table's retain_reason, or a files/chroma store's), the certificate gives the
    translation; a reason the map no longer holds, or an http store's own, stays as recorded.
    """
    try:
        datamap = load_datamap(current_app.config["STORES_CONFIG"])
    except (DataMapError, OSError) as err:
        # The erasure is done: a map broken since must not hold back its certificate.
        current_app.logger.warning("certificate: names and kept reasons as recorded "
                                   "(data map: %s)", err)
        return stores
    configs = {store.name: store for store in datamap.stores}
    return [_in_language(store, configs.get(store["store"]), language) for store in stores]


def _in_language(store, config, language):
    outcomes = [{**o, "reason": _kept_reason(config, o, language)}
                if o.get("action") == "retained" else o for o in store["outcomes"]]
    if config is None:
        return {**store, "outcomes": outcomes}
    return {**store, "outcomes": outcomes, "title": config.title_for(language),
            "table_titles": {o["table"]: table_title(config, o["table"], language)
                             for o in outcomes if o.get("table") is not None}}


def _kept_reason(config, outcome, language):
    recorded = outcome.get("reason")
    if config is None:
        return recorded
    owner = next((t for t in config.tables if t.table == outcome.get("table")), None)
    if owner is None and config.tables:
        return recorded  # a table the map does not name
    owner = owner or config
    translated = owner.translation("retain_reason", language)
    return translated if translated is not None and owner.retain_reason == recorded else recorded


def erasure_mail(facts, language):
    """The erasure email's context: ``erasure_summary``, and the backup roll-off as the
    certificate states it (the same local date, written in the person's language, and the
    period)."""
    with in_locale(language):
        rolloff = long_date(date.fromisoformat(facts["backups_roll_off"]))
    return {**erasure_summary(facts), "rolloff_date": rolloff,
            "rolloff_days": facts["backup_rolloff_days"]}


def erasure_summary(facts):
    """What the email says, from the certificate's facts and with its filter (tables with no
    record of the person's are left out of both): records deleted, records de-identified,
    the tables kept by law, the stores re-checked afterwards and those staff handled."""
    counted = [(s, o) for s in facts["stores"] for o in counted_outcomes(s)]
    titles = {s["store"]: store_title(s) for s in facts["stores"]}
    return {
        "deleted": sum(o["count"] for _, o in counted if o["action"] == "deleted"),
        "anonymized": sum(o["count"] for _, o in counted if o["action"] == "anonymized"),
        # Named as the person reads them: the data map's titles, the ids where it has none.
        "kept": [(store_title(s), {**o, "table_title": described_table(s, o["table"])})
                 for s, o in counted if o["action"] == "retained"],
        "verified": [titles.get(name, name) for name in facts["verified_empty"]],
        "manual": [store_title(s) for s in facts["stores"] if s["manual"]],
    }


# What an erase step did, as the certificate says it ("retained" rows go to their own table).
ACTIONS = {"deleted": _l("deleted"), "anonymized": _l("anonymized")}


def counted_outcomes(store: dict) -> list[dict]:
    """A store's erasure outcomes that touched at least one of the person's records. The
    certificate and the email both list only these: a table searched and found empty was
    neither erased nor kept."""
    return [o for o in store.get("outcomes", []) if o.get("count")]


def _outcome_tables(stores: list) -> tuple[list, list]:
    """(erased, kept) table rows, each with its header row first."""
    erased = [[_("Store"), _("Table"), _("Action"), _("Records")]]
    kept = [[_("Store"), _("Table"), _("Records"), _("Why we keep it")]]
    for store in stores:
        for o in counted_outcomes(store):
            row = [_text(store_title(store)), _text(described_table(store, o.get("table")))]
            if o.get("action") == "retained":
                kept.append(row + [_text(o.get("count", 0)), _text(o.get("reason"))])
            else:
                action = ACTIONS.get(o.get("action"), o.get("action"))
                erased.append(row + [_text(action), _text(o.get("count", 0))])
    return erased, kept


def _manual_section(stores: list) -> list:
    """Stores that staff handled by hand: what they confirmed, and that no scan re-checked
    them. Nothing at all when there are none."""
    manual = [s for s in stores if s.get("manual")]
    if not manual:
        return []
    rows = [[_("Store"), _("What our staff confirmed")]]
    rows += [[_text(store_title(s)), _text(s.get("note") or _("The erasure was carried out."))]
             for s in manual]
    return [
        _p(_("Handled by our staff"), _H2),
        _p(_("We cannot search these systems ourselves, so our staff carried out your erasure "
             "there by hand and confirmed what is shown below. These stores were not "
             "re-checked automatically afterwards.")),
        _table(rows, [45, 129]),
    ]


def deletion_certificate(path_or_file, certificate: dict) -> None:
    """Write the deletion certificate PDF, in the active language.

    ``certificate``: ``{"company", "contact", "reference", "completed_at": ISO moment,
    "timezone": the person's zone (the moment is written in it),
    "stores": [{"store", "outcomes": [{"table", "action": "deleted" | "anonymized" |
    "retained", "count", "reason"}], "manual": bool, "note": what staff confirmed}],
    "backups_roll_off": ISO date (the person's local date of the moment completed_at +
    backup_rolloff_days), "backup_rolloff_days": BACKUP_ROLLOFF_DAYS,
    "verified_empty": [store names re-scanned and found empty]}``.
    """
    title = _("Certificate of deletion")
    story = [
        _p(title, _H1),
        _field(_("Company"), _text(certificate.get("company"))),
        _field(_("Request reference"), _text(certificate.get("reference"))),
        _field(_("Completed"), _text(written_date(certificate.get("completed_at"),
                                                          certificate.get("timezone")))),
        Spacer(1, 4 * mm),
        _p(_("What we erased"), _H2),
    ]
    erased, kept = _outcome_tables(certificate.get("stores", []))
    if len(erased) > 1:
        story.append(_table(erased, [45, 55, 35, 25]))
    else:
        story.append(_p(_("We found nothing of yours that could be erased.")))
    story.append(_p(_("What we kept, and why"), _H2))
    if len(kept) > 1:
        story.append(_table(kept, [35, 40, 20, 79]))
        story.append(
            _p(
                _("We keep these records only as long as the law requires, and delete "
                  "them when that period ends.")
            )
        )
    else:
        story.append(_p(_("Nothing: we kept no personal data about you.")))
    story.extend(_manual_section(certificate.get("stores", [])))
    titles = {s.get("store"): store_title(s) for s in certificate.get("stores", [])}
    verified = [titles.get(name, name) for name in certificate.get("verified_empty") or []]
    story.append(_p(_("Checked afterwards"), _H2))
    story.append(
        _p(
            _("After erasing, we searched these stores again and found no erasable data about "
              "you: %(stores)s.", stores=_(", ").join(_text(name) for name in verified))
            if verified
            else _("No store was re-checked after erasure; contact us if you need this "
                   "confirmed.")
        )
    )
    story.extend(
        [
            _p(_("Backups"), _H2),
            _p(
                ngettext("Our encrypted backups are kept for up to %(num)s day and then "
                         "destroyed, so copies of the erased data in backups will be gone by "
                         "<b>%(date)s</b>.",
                         "Our encrypted backups are kept for up to %(num)s days and then "
                         "destroyed, so copies of the erased data in backups will be gone by "
                         "<b>%(date)s</b>.",
                         certificate["backup_rolloff_days"],
                         date=_text(written_date(certificate.get("backups_roll_off"))))
            ),
            _p(_("This request"), _H2),
            _p(
                _("We keep a minimised record of this request to show that we honoured it: "
                  "the reference, dates and outcomes above. Your email address in it has been "
                  "replaced by a keyed hash.")
            ),
            _p(_("Questions: %(contact)s.", contact=_text(certificate.get("contact")))),
        ]
    )
    _build(path_or_file, story, title)
