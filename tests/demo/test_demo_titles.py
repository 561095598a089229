"""Every demo store and table has a title a person can read, in English and in Japanese: the
emails, index.html, report.pdf and the certificate never show an internal id for them."""

from test_demo_translations import JAPANESE, demo_map


def entries():
    for store in demo_map().stores:
        yield store.name, store
        for table in store.tables:
            yield f"{store.name}.{table.table}", table


def test_every_demo_store_and_table_has_an_english_and_a_japanese_title():
    for where, entry in entries():
        assert entry.title and entry.title != entry.map_id, where
        assert "_" not in entry.title, where  # words, not an id
        japanese = entry.translation("title", "ja")
        assert japanese and JAPANESE.search(japanese), where
