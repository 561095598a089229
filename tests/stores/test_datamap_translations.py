"""`translations.<language>.<key>`: a store's Art. 15 texts and a table's retain reason in other
languages. The loader checks them like every other key (file, line, store, table, field), and
one lookup answers "this text in this language", falling back from ja-JP to ja to the text as
written."""

from __future__ import annotations

import pytest

from workflows.datamap import DataMapError, parse_datamap
from workflows.datamap_model import pick_translation

GOOD = """\
[[stores]]
name = "billing"
kind = "sql"
url = "sqlite:///billing.db"
purpose = "Bill your subscription"
categories = ["Billing name and address", "Last four digits of your card"]
recipients = ["Payment processor"]
retention = "7 years"
source = "You"
translations.ja.purpose = "ご契約の請求"
translations.ja.categories = ["請求先の氏名・住所・カード番号の下4桁"]
translations.ja-JP.retention = "7年間"
  [[stores.tables]]
  table = "invoices"
  match = { column = "email", identity = "email" }
  on_erase = "retain"
  retain_reason = "Tax law: 7 years"
  translations.ja.retain_reason = "税法上の義務：7年間"
[[stores]]
name = "files"
kind = "files"
root = "instance/files"
path = "{email}"
on_erase = "retain"
retain_reason = "Contract law"
translations = { ja = { retain_reason = "契約法" } }
[[stores]]
name = "processor"
kind = "manual"
instructions = "Export from the dashboard"
translations.ja.instructions = "管理画面から書き出してください"
"""


def errors_for(text: str) -> list[str]:
    with pytest.raises(DataMapError) as caught:
        parse_datamap(text, "stores.toml")
    return caught.value.messages


def with_store_line(line: str) -> str:
    """GOOD with one more line in the billing store, right after its source."""
    return GOOD.replace('source = "You"\n', f'source = "You"\n{line}\n', 1)


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


def test_translations_load_per_language_store_and_table():
    datamap = parse_datamap(GOOD, "stores.toml")
    billing = datamap.store("billing")
    assert billing.translations == {
        "ja": {"purpose": "ご契約の請求", "categories": ("請求先の氏名・住所・カード番号の下4桁",)},
        "ja-jp": {"retention": "7年間"},
    }
    assert billing.tables[0].translations == {"ja": {"retain_reason": "税法上の義務：7年間"}}
    assert datamap.store("files").translations == {"ja": {"retain_reason": "契約法"}}
    assert datamap.store("processor").text("instructions", "ja") == "管理画面から書き出してください"


def test_a_translated_list_may_group_items_its_own_way():
    billing = parse_datamap(GOOD, "stores.toml").store("billing")
    assert len(billing.text("categories", "ja")) == 1 and len(billing.categories) == 2


def test_lookup_falls_back_from_region_to_language_to_the_text_as_written():
    billing = parse_datamap(GOOD, "stores.toml").store("billing")
    assert billing.text("retention", "ja-JP") == "7年間"  # exact
    assert billing.text("retention", "ja_JP") == "7年間"  # Babel's spelling of the same
    assert billing.text("purpose", "ja-JP") == "ご契約の請求"  # base language
    assert billing.text("retention", "ja") == "7 years"  # ja-JP is not ja: as written
    assert billing.text("recipients", "ja") == ("Payment processor",)  # not translated
    assert billing.text("purpose", "en") == "Bill your subscription"
    assert billing.text("purpose", None) == "Bill your subscription"
    assert billing.tables[0].translation("retain_reason", "JA") == "税法上の義務：7年間"
    assert billing.tables[0].translation("retain_reason", "fr") is None


def test_pick_translation_without_translations_is_none():
    assert pick_translation({}, "purpose", "ja") is None
    assert pick_translation({"ja": {"purpose": "目的"}}, "purpose", "") is None


def test_a_map_without_translations_loads_as_before():
    plain = "\n".join(line for line in GOOD.splitlines() if "translations" not in line)
    datamap = parse_datamap(plain, "stores.toml")
    assert all(s.translations == {} for s in datamap.stores)
    assert datamap.store("billing").text("purpose", "ja") == "Bill your subscription"


def test_bad_language_code_is_refused_with_its_line():
    text = with_store_line('translations.ja_JP.purpose = "請求"')
    assert errors_for(text) == [
        f"stores.toml:{line_of(text, 'ja_JP')}: store 'billing', field 'translations.ja_JP': "
        "bad language code 'ja_JP' (expected a code such as 'ja' or 'ja-JP')"
    ]


def test_same_language_in_two_cases_is_refused():
    text = with_store_line('translations.JA.source = "ご本人"')  # before the ja lines
    assert errors_for(text) == [
        f"stores.toml:{line_of(text, 'ja.purpose')}: store 'billing', field 'translations.ja': "
        "language 'ja' is given twice (as 'JA' too: codes ignore case)"
    ]


def test_untranslatable_key_is_refused_naming_what_may_be_translated():
    text = with_store_line('translations.ja.url = "sqlite:///ja.db"')
    assert errors_for(text) == [
        f"stores.toml:{line_of(text, 'ja.url')}: store 'billing', field 'translations.ja.url': "
        "unknown key 'url' (translatable here: title, purpose, categories, recipients, "
        "retention, source)"
    ]


def test_a_table_translates_only_its_retain_reason():
    text = GOOD.replace('translations.ja.retain_reason = "税法上の義務：7年間"',
                        'translations.ja.purpose = "請求"')
    line = line_of(text, 'ja.purpose = "請求"')
    assert errors_for(text) == [
        f"stores.toml:{line}: store 'billing', table "
        "'invoices', field 'translations.ja.purpose': unknown key 'purpose' (translatable "
        "here: title, retain_reason)"
    ]


def test_a_translation_of_a_text_the_store_does_not_set_is_refused():
    text = GOOD.replace('source = "You"\n', "")
    text = text.replace('translations.ja-JP.retention = "7年間"',
                        'translations.ja-JP.source = "ご本人"')
    assert errors_for(text) == [
        f"stores.toml:{line_of(text, 'ja-JP.source')}: store 'billing', field "
        "'translations.ja-JP.source': translates 'source', which is not set here (a reader of "
        "any other language would get no text)"
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('translations.ja.recipients = "決済代行会社"',
         "field 'translations.ja.recipients': has the wrong type (str): a list of texts, as "
         "'recipients' is"),
        ("translations.ja.recipients = [1, 2]",
         "field 'translations.ja.recipients': has the wrong type (list): a list of texts, as "
         "'recipients' is"),
        ('translations.ja.source = ["ご本人"]',
         "field 'translations.ja.source': has the wrong type (list): a text, as 'source' is"),
        ('translations.ja.source = "  "',
         "field 'translations.ja.source': is empty (leave it out to show the text as written)"),
        ('translations.fr = "Facturation"',
         "field 'translations.fr': must be a table of texts, e.g. translations.fr.purpose = "
         '"..."'),
    ],
)
def test_a_translation_has_the_type_of_the_key_it_translates(line, message):
    text = with_store_line(line)
    assert errors_for(text) == [f"stores.toml:{line_of(text, line)}: store 'billing', {message}"]


def test_translations_must_be_a_table():
    text = GOOD.replace('translations = { ja = { retain_reason = "契約法" } }',
                        'translations = "ja"')
    line = line_of(text, 'translations = "ja"')
    assert errors_for(text) == [
        f"stores.toml:{line}: store 'files', field "
        "'translations': must be a table of languages, e.g. translations.ja.purpose = \"...\""
    ]


def test_an_inline_translation_error_points_at_the_line_that_holds_it():
    text = GOOD.replace('{ ja = { retain_reason = "契約法" } }', "{ ja = { retain_reason = 7 } }")
    assert errors_for(text) == [
        f"stores.toml:{line_of(text, 'retain_reason = 7')}: store 'files', field "
        "'translations.ja.retain_reason': has the wrong type (int): a text, as 'retain_reason' is"
    ]


def test_every_bad_translation_is_reported_at_once():
    text = with_store_line('translations.xx_YY.purpose = "?"\ntranslations.ja.url = "?"')
    text = text.replace('translations.ja.retain_reason = "税法上の義務：7年間"',
                        "translations.ja.retain_reason = 7")
    assert len(errors_for(text)) == 3
