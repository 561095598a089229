"""docs/STORES.md's section on `translations` stays true: its example loads, and its table of
translatable keys is the loader's."""

from __future__ import annotations

import re
from pathlib import Path

from workflows.datamap import parse_datamap
from workflows.datamap_model import TRANSLATABLE_STORE_KEYS, TRANSLATABLE_TABLE_KEYS

DOC = Path(__file__).resolve().parents[2] / "docs" / "STORES.md"


def section() -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index("### Texts in other languages (`translations`)")
    return text[start:text.index("\n## ", start)]


def test_the_documented_example_loads_with_its_japanese_texts():
    example = re.search(r"```toml\n(.*?)```", section(), re.S).group(1)
    billing = parse_datamap(example, "STORES.md").store("billing")
    assert billing.text("purpose", "ja") == "マネージドサービスのご請求のため"
    assert billing.tables[0].text("retain_reason", "ja").startswith("税法上の義務")


def test_the_documented_keys_are_the_translatable_keys():
    rows = dict(re.findall(r"^\| (store|table) \| (.+) \|$", section(), re.M))
    kinds = {"files", "chroma", "manual"}  # named in the store row to say which kinds take a key
    assert set(re.findall(r"`(\w+)`", rows["store"])) - kinds == set(TRANSLATABLE_STORE_KEYS)
    assert re.findall(r"`(\w+)`", rows["table"]) == list(TRANSLATABLE_TABLE_KEYS)
