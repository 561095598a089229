"""Server-rendered SVG charts: no JavaScript, no external assets, no style attributes.

The CSP forbids inline styles, so colours are SVG presentation attributes (fill=), which are
not CSS. Each chart carries a <title> and the numbers as text, so it reads without colour.
"""
from markupsafe import Markup, escape

COLOURS = {"in_time": "#1a7f37", "late": "#b00020", "open": "#0b5cad", "bar": "#0b5cad"}
INK = "#1b1f24"


def _svg(width, height, title, body):
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-label="{escape(title)}"><title>{escape(title)}'
        f'</title>{"".join(body)}</svg>')


def bar_chart(title, items, width=520, bar_height=22):
    """Horizontal bars: items are (label, value) pairs."""
    label_width, gap = 130, 8
    peak = max([value for _, value in items] + [1])
    height = len(items) * (bar_height + gap) + gap
    body = []
    for i, (label, value) in enumerate(items):
        y = gap + i * (bar_height + gap)
        length = round((width - label_width - 60) * value / peak)
        body.append(
            f'<text x="0" y="{y + bar_height - 6}" fill="{INK}" font-size="14">{escape(label)}'
            f'</text><rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" '
            f'fill="{COLOURS["bar"]}"/><text x="{label_width + length + 6}" '
            f'y="{y + bar_height - 6}" fill="{INK}" font-size="14">{value}</text>')
    return _svg(width, height, title, body)


def stacked_columns(title, columns, series, width=640, height=240):
    """Vertical stacked columns: columns are (label, {series: value}); series names colours."""
    top, bottom, left = 16, 40, 8
    peak = max([sum(values.get(s, 0) for s in series) for _, values in columns] + [1])
    slot = (width - left) / max(len(columns), 1)
    column_width = max(slot * 0.6, 4)
    body = []
    for i, (label, values) in enumerate(columns):
        x = left + i * slot
        base = height - bottom
        for name in series:
            size = (height - top - bottom) * values.get(name, 0) / peak
            if size:
                base -= size
                body.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{column_width:.1f}" '
                            f'height="{size:.1f}" fill="{COLOURS[name]}"><title>{escape(label)}: '
                            f'{values.get(name, 0)} {escape(name.replace("_", " "))}</title></rect>')
        total = sum(values.get(s, 0) for s in series)
        body.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" fill="{INK}" font-size="11">'
                    f'{escape(label)}</text><text x="{x:.1f}" y="{max(base - 4, 12):.1f}" '
                    f'fill="{INK}" font-size="11">{total}</text>')
    return _svg(width, height, title, body)
