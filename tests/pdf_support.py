"""Read the text of our PDFs back, Japanese included, with no PDF library.

reportlab draws Latin text in the standard fonts as one byte per character, but Japanese in
the CID font (HeiseiKakuGo-W5, encoding UniJIS-UCS2-H) as two bytes per character: UTF-16BE
code units inside the same ``(...) Tj`` strings. Read as Latin-1 (as ``pdf_text`` in
tests/unit/test_reports.py does) those runs are noise, so this reader follows the ``Tf``
operator and decodes each run by the kind of font it is drawn in.
"""
import base64
import re
import zlib

_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"b": b"\b", b"f": b"\f"}
_TOKEN = re.compile(rb"/(F\d+)\s+[\d.]+\s+Tf|\(((?:[^\\)]|\\.)*)\)\s*Tj", re.S)


def _unescape(raw: bytes) -> bytes:
    """A PDF literal string's bytes: octal (\\ddd) and character escapes resolved."""
    def one(match):
        escaped = match.group(1)
        if escaped[:1].isdigit():
            return bytes([int(escaped, 8) & 0xFF])
        return _ESCAPES.get(escaped, escaped)
    return re.sub(rb"\\([0-7]{1,3}|.)", one, raw, flags=re.S)


def _streams(data: bytes):
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\n?endstream", data, re.S):
        if stream.rstrip().endswith(b"~>"):  # reportlab's ASCII85 wrapping
            stream = base64.a85decode(stream.rstrip()[:-2])
        try:
            yield zlib.decompress(stream)
        except zlib.error:
            yield stream


def pdf_unicode_text(data: bytes) -> str:
    """The text drawn on the pages, runs joined by spaces, whitespace collapsed."""
    cid_fonts = set(re.findall(rb"/Name /(F\d+) /Subtype /Type0", data))
    runs = []
    for stream in _streams(data):
        font = None
        for match in _TOKEN.finditer(stream):
            if match.group(1):
                font = match.group(1)
                continue
            raw = _unescape(match.group(2))
            cid = font in cid_fonts
            runs.append(raw.decode("utf-16-be") if cid else raw.decode("cp1252", "replace"))
    return re.sub(r"\s+", " ", " ".join(runs))
