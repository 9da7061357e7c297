"""A report as one self-contained HTML page: headline figures, SVG charts and the tables.

Nothing on the page is fetched: styles are inline, charts are inline SVG, there is no script
and no external URL, so it opens offline, prints on A4 and can be sent as one file. Chinese
text is drawn by the reader's system fonts (the font list covers macOS, Windows and Linux).
The markup is well-formed XML as well as HTML.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path

from markupsafe import Markup

from haowu_cli import outfiles
from haowu_cli.i18n import N_, _, current
from haowu_cli.reports import charts
from haowu_cli.reports.document import Report

TEMPLATE = "report.html.j2"
REPORT_NAMES = {"session": N_("session"), "merchants": N_("merchants"), "grades": N_("grades")}


def render_page(report: Report, *, now: dt.datetime | None = None) -> str:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    env = Environment(
        loader=PackageLoader("haowu_cli.reports", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        keep_trailing_newline=True,
    )
    now = now or dt.datetime.now()
    tables = []
    for table in report.tables:
        columns = [c for c in table.columns if c.name != "bar"]  # the charts draw those
        rows = [
            [(c, c.cell(v)) for c, v in zip(columns, values, strict=True)]
            for values in table.view.select([c.name for c in columns]).iter_rows()
        ]
        tables.append(
            {
                "key": table.key,
                "title": table.title,
                "columns": columns,
                "rows": rows,
                "empty": table.empty,
            }
        )
    return env.get_template(TEMPLATE).render(
        report={
            "kind": report.kind,
            "title": report.title,
            "subtitle": report.subtitle,
            "figures": report.figures,
            "tables": tables,
            "notes": report.notes,
            "alert": report.alert,
        },
        charts=[(chart, Markup(charts.svg(chart))) for chart in report.charts if chart.labels],
        stamp=_("made by haowu on {now:%Y-%m-%d %H:%M}").format(now=now),
        version=_version(),
        footer=_(
            "haowu {version} · {kind} report · money in yuan (¥), exact to the fen in the tables"
        ).format(version=_version(), kind=_(REPORT_NAMES.get(report.kind, report.kind))),
        lang="zh-CN" if current() == "zh" else "en",
    )


def write_page(report: Report, path: Path, *, protect: Iterable[outfiles.Kept] = ()) -> None:
    """Write the page whole or not at all (`outfiles`): never over the database or an input
    (`protect`), a link or a device."""
    outfiles.check_target(path, option="--html", protect=protect)
    text = render_page(report)
    outfiles.write_file(path, lambda stream: stream.write(text.encode("utf-8")))


def _version() -> str:
    try:
        return metadata.version("haowu")
    except metadata.PackageNotFoundError:
        return "dev"
