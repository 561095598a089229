"""The proposed-correction rows speak the page's language like the rest of the intake form."""
from helpers import csrf_token, submit

from app.portal.forms import CorrectionForm

TOO_LONG = {"request_type": "correction", "corrections-0-field": "name",
            "corrections-0-proposed": "Alice Example", "corrections-0-problem": "y" * 600}


def test_a_too_long_correction_names_the_field_and_its_limit(client):
    response = submit(client, **TOO_LONG)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "“What is wrong” can be at most 500 characters." in html
    assert "Field cannot be longer" not in html


def test_the_correction_rows_get_wtforms_messages_in_the_page_language(app):
    with app.test_request_context("/?lang=ja", headers={"Accept-Language": "ja"}):
        translations = CorrectionForm().meta.get_translations(None)
        message = translations.gettext("This field is required.")
    assert message != "This field is required." and not message.isascii()


def test_correction_limits_ja(client):
    """Needs the catalog entries for the correction rows' length messages."""
    client.get("/?lang=ja")
    response = submit(client, csrf_token=csrf_token(client, "/requests/new"), **TOO_LONG)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "「誤っている点」は 500 文字以内で入力してください。" in html
