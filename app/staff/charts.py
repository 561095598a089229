"""Server-rendered SVG charts: no JavaScript, no external assets, no style attributes.

The CSP forbids inline styles, so colours are SVG presentation attributes (fill=), which are
not CSS. Each chart carries a <title> and the numbers as text, so it reads without colour.
Markup.format escapes every value put into the templates below.
"""
from markupsafe import Markup

COLOURS = {"in_time": "#1a7f37", "late": "#b00020", "open": "#0b5cad", "bar": "#0b5cad"}
INK = "#1b1f24"
SVG = Markup('<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{w}" height="{h}" '
             'viewBox="0 0 {w} {h}" aria-label="{title}"><title>{title}</title>{body}</svg>')
BAR = Markup('<text x="0" y="{ty}" fill="{ink}" font-size="14">{label}</text>'
             '<rect x="{x}" y="{y}" width="{length}" height="{h}" fill="{fill}"/>'
             '<text x="{vx}" y="{ty}" fill="{ink}" font-size="14">{value}</text>')
SEGMENT = Markup('<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}">'
                 '<title>{label}: {value} {name}</title></rect>')
COLUMN_TEXT = Markup('<text x="{x:.1f}" y="{ly}" fill="{ink}" font-size="11">{label}</text>'
                     '<text x="{x:.1f}" y="{ty:.1f}" fill="{ink}" font-size="11">{total}</text>')


def _svg(width, height, title, parts):
    return SVG.format(w=width, h=height, title=title, body=Markup("").join(parts))


def bar_chart(title, items, width=520, bar_height=22):
    """Horizontal bars: items are (label, value) pairs."""
    label_width, gap = 130, 8
    peak = max([value for _, value in items] + [1])
    parts = []
    for i, (label, value) in enumerate(items):
        y = gap + i * (bar_height + gap)
        length = round((width - label_width - 60) * value / peak)
        parts.append(BAR.format(ty=y + bar_height - 6, ink=INK, label=label, x=label_width, y=y,
                                length=length, h=bar_height, fill=COLOURS["bar"],
                                vx=label_width + length + 6, value=value))
    return _svg(width, len(items) * (bar_height + gap) + gap, title, parts)


def stacked_columns(title, columns, series, width=640, height=240):
    """Vertical stacked columns: columns are (label, {series: value}); series names colours."""
    top, bottom, left = 16, 40, 8
    peak = max([sum(values.get(s, 0) for s in series) for _, values in columns] + [1])
    slot = (width - left) / max(len(columns), 1)
    parts = []
    for i, (label, values) in enumerate(columns):
        x, base = left + i * slot, height - bottom
        for name in series:
            size = (height - top - bottom) * values.get(name, 0) / peak
            if size:
                base -= size
                parts.append(SEGMENT.format(x=x, y=base, w=max(slot * 0.6, 4), h=size,
                                            fill=COLOURS[name], label=label,
                                            value=values.get(name, 0),
                                            name=name.replace("_", " ")))
        parts.append(COLUMN_TEXT.format(x=x, ly=height - bottom + 16, ink=INK, label=label,
                                        ty=max(base - 4, 12),
                                        total=sum(values.get(s, 0) for s in series)))
    return _svg(width, height, title, parts)
