"""Each sentence a person reads on the portal pages is one msgid with placeholders, so a
translator controls its punctuation and spacing ("リクエスト DSR-X: 削除." came from three
pieces glued in the template)."""
from pathlib import Path

from babel.messages.extract import extract_from_file

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


def msgids(template):
    found = extract_from_file("jinja2", str(TEMPLATES / template))
    return {m if isinstance(m, str) else m[0] for _, m, _, _ in found}


def source(template):
    return (TEMPLATES / template).read_text(encoding="utf-8")


def test_reference_sentences_are_whole_msgids():
    assert "Request %(reference)s: %(type)s." in msgids("portal/verify.html")
    assert "Request %(reference)s." in msgids("portal/download.html")
    assert "Request %(reference)s" in msgids("portal/status.html")
    for template in ("portal/verify.html", "portal/download.html", "portal/status.html"):
        assert "Request" not in msgids(template), template


def test_progress_and_amount_gathered_are_one_sentence():
    ids = msgids("portal/status.html")
    assert "%(done)s of %(num)d system done, %(mb)s MB gathered" in ids
    assert "%(mb)s MB gathered" not in ids
    assert "}}, {{" not in source("portal/status.html")


def test_a_following_sentence_carries_its_own_space():
    """The space between two sentences is in the second msgid, which Japanese drops."""
    assert " The link works once and for %(num)d hour." in msgids("portal/sent.html")
    assert " We deleted %(num)s record." in msgids("mail/erasure_done.txt")
    assert " Inside you will find" in " ".join(msgids("mail/archive_ready.html"))
    for template in ("portal/sent.html", "mail/erasure_done.txt", "mail/erasure_done.html",
                     "mail/archive_ready.txt", "mail/archive_ready.html"):
        assert "}} {{" not in source(template).replace('{{ _("Status:") }} {{', ""), template
