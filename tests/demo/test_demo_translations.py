"""The demo data map speaks Japanese to a person who asks in Japanese: every store's Art. 15
texts and every reason to keep data have a Japanese translation, true to the English (the same
periods, sections and figures)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from workflows.datamap import parse_datamap
from workflows.demo.seeding import render_datamap

ART15_KEYS = ("purpose", "categories", "recipients", "retention", "source")
JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")  # kana or kanji
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def demo_map():
    return parse_datamap(render_datamap(Path("/srv/demo"), with_chroma=True), "stores.toml")


def texts(value) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def translated_pairs():
    """(where, English, Japanese) for every translatable text the demo map sets."""
    for store in demo_map().stores:
        for key in ART15_KEYS + ("retain_reason",):
            if getattr(store, key):
                yield (f"{store.name}.{key}", getattr(store, key),
                       store.translation(key, "ja"))
        for table in store.tables:
            if table.retain_reason:
                yield (f"{store.name}.{table.table}.retain_reason", table.retain_reason,
                       table.translation("retain_reason", "ja"))


PAIRS = list(translated_pairs())


def test_the_demo_map_translates_every_store_with_chroma_included():
    names = {where.split(".")[0] for where, _, _ in PAIRS}
    assert names == {store.name for store in demo_map().stores} and "agent_memory" in names
    assert sum(1 for where, _, _ in PAIRS if where.endswith("retain_reason")) == 2


@pytest.mark.parametrize(("where", "english", "japanese"), PAIRS, ids=[p[0] for p in PAIRS])
def test_each_text_has_a_japanese_translation_with_the_same_figures(where, english, japanese):
    assert japanese, f"{where}: no Japanese text"
    assert all(JAPANESE.search(text) for text in texts(japanese)), where
    for item in texts(english):
        # "7 years (policy section 5)" -> "7年間（プライバシーポリシー第5項）"
        missing = set(NUMBER.findall(item)) - set(NUMBER.findall("".join(texts(japanese))))
        assert not missing, f"{where}: {missing} of {item!r} is not in the Japanese"


def test_list_translations_keep_one_item_per_english_item_in_the_demo():
    """The key allows a different count; the demo keeps them aligned, item by item."""
    for where, english, japanese in PAIRS:
        if not isinstance(english, str):
            assert len(english) == len(japanese), where
