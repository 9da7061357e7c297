"""Charts as inline SVG for the report page: horizontal bars, bars stacked to 100%, progress.

Horizontal bars read best with long Chinese product names, print cleanly and need no script.
Text stays text (the page's fonts draw it, so Chinese renders as the reader's system does);
each bar carries a <title>, which browsers show on hover. Markup is well-formed XML, so the
page is too.
"""

from __future__ import annotations

from xml.sax.saxutils import escape, quoteattr

from haowu_cli.reports.document import Chart

WIDTH = 760
LABEL_WIDTH = 230
VALUE_ROOM = 120  # for the text after a bar
FONT = 12
PALETTE = {
    "one": ["#e8590c"],  # Kuaishou orange
    "several": ["#adb5bd", "#e8590c", "#4dabf7"],  # plan (grey), actual (orange), off the sheet
    "levels": ["#7f2704", "#c2410c", "#f97316", "#fdba74", "#fde2c5", "#e9ecef"],  # L5 … L0
}


def svg(chart: Chart) -> str:
    """The chart as an <svg> element."""
    draw = {"bars": _bars, "stacked": _stacked, "progress": _progress}[chart.kind]
    body, height = draw(chart)
    return (
        f'<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" '
        f'role="img" aria-label={quoteattr(chart.title)}>'
        f"<title>{escape(chart.title)}</title>{body}</svg>"
    )


def _text_width(text: str, size: int = FONT) -> float:
    """Rough width of text in pixels: a Chinese character is a full em, others about half."""
    return sum(size if ord(c) > 0x2E80 else size * 0.58 for c in text)


def _fit(text: str, room: float) -> str:
    """`text`, cut with … to fit `room` pixels."""
    if _text_width(text) <= room:
        return text
    while text and _text_width(text + "…") > room:
        text = text[:-1]
    return text + "…"


def _label(y: float, text: str) -> str:
    return (
        f'<text x="{LABEL_WIDTH - 8}" y="{y:.1f}" text-anchor="end" class="label">'
        f"<title>{escape(text)}</title>{escape(_fit(text, LABEL_WIDTH - 12))}</text>"
    )


def _legend(names: list[str], colours: list[str]) -> tuple[str, int]:
    if len(names) < 2:
        return "", 0
    x: float  # from the labels' edge (an int), on by the width of each name
    parts, x = [], LABEL_WIDTH
    for name, colour in zip(names, colours, strict=False):
        parts.append(
            f'<rect x="{x}" y="4" width="12" height="12" fill="{colour}"/>'
            f'<text x="{x + 17}" y="14.5" class="legend">{escape(name)}</text>'
        )
        x += 17 + _text_width(name) + 18
    return "".join(parts), 26


def _bars(chart: Chart) -> tuple[str, int]:
    series = chart.series
    colours = PALETTE["one"] if len(series) == 1 else PALETTE["several"]
    legend, top = _legend([s.name for s in series], colours)
    bar_height, gap = 12, 3
    row = len(series) * (bar_height + gap) + 9
    room = WIDTH - LABEL_WIDTH - VALUE_ROOM
    widest = max([v for s in series for v in s.values] + [1])
    parts = [legend]
    for index, label in enumerate(chart.labels):
        y0 = top + index * row
        parts.append(_label(y0 + row / 2, label))
        for number, (s, colour) in enumerate(zip(series, colours, strict=False)):
            value, text = s.values[index], s.texts[index]
            y = y0 + number * (bar_height + gap)
            width = room * max(value, 0) / widest
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{bar_height}" '
                f'fill="{colour}"><title>{escape(f"{label}: {s.name} {text}")}</title></rect>'
            )
            if text:
                parts.append(
                    f'<text x="{LABEL_WIDTH + width + 5:.1f}" y="{y + bar_height - 2}" '
                    f'class="value">{escape(text)}</text>'
                )
    return "".join(parts), top + len(chart.labels) * row + 4


def _stacked(chart: Chart) -> tuple[str, int]:
    series = chart.series
    colours = PALETTE["levels"][: len(series)]
    legend, top = _legend([s.name for s in series], colours)
    row, bar_height = 24, 16
    room = WIDTH - LABEL_WIDTH - 60
    parts = [legend]
    for index, label in enumerate(chart.labels):
        y = top + index * row
        total = sum(s.values[index] for s in series)
        parts.append(_label(y + bar_height - 3, label))
        x = float(LABEL_WIDTH)
        for s, colour in zip(series, colours, strict=False):
            value = s.values[index]
            if value <= 0 or total <= 0:
                continue
            width = room * value / total
            parts.append(
                f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{bar_height}" '
                f'fill="{colour}"><title>{escape(f"{label}: {s.name} {s.texts[index]}")}'
                "</title></rect>"
            )
            if width >= 22:
                dark = colour in PALETTE["levels"][:3]
                parts.append(
                    f'<text x="{x + width / 2:.1f}" y="{y + bar_height - 4}" text-anchor="middle" '
                    f'class="{"inside" if dark else "value"}">{escape(s.texts[index])}</text>'
                )
            x += width
        parts.append(
            f'<text x="{LABEL_WIDTH + room + 6}" y="{y + bar_height - 4}" class="value">'
            f"{total:,}</text>"
        )
    return "".join(parts), top + len(chart.labels) * row + 4


def _progress(chart: Chart) -> tuple[str, int]:
    done, target = chart.series
    row, bar_height = 26, 14
    room = WIDTH - LABEL_WIDTH - 190
    parts = []
    for index, label in enumerate(chart.labels):
        y = 4 + index * row
        value, goal = done.values[index], target.values[index]
        width = room * min(max(value, 0) / goal, 1) if goal > 0 else 0
        parts.append(_label(y + bar_height - 2, label))
        parts.append(
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{room}" height="{bar_height}" '
            f'fill="#f1f3f5" stroke="#ced4da"/>'
            f'<rect x="{LABEL_WIDTH}" y="{y}" width="{width:.1f}" height="{bar_height}" '
            f'fill="{PALETTE["one"][0]}"><title>{escape(f"{label}: {done.texts[index]}")}'
            "</title></rect>"
            f'<text x="{LABEL_WIDTH + room + 6}" y="{y + bar_height - 3}" class="value">'
            f"{escape(done.texts[index])}</text>"
        )
    return "".join(parts), 8 + len(chart.labels) * row
