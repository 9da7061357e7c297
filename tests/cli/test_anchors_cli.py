"""`haowu import --kind anchors` and `haowu anchors`: the same pipeline, another column spec."""

from __future__ import annotations

import json

from tests.conftest import write_csv

HEADER = [
    "达人ID",
    "达人昵称",
    "粉丝数",
    "女粉占比",
    "主要年龄段",
    "客单价",
    "主营类目",
    "场均时GMV",
    "机构",
    "机构分成比例",
]


def test_anchors_import_reads_their_values_and_lists_them(cli, tmp_path):
    rows = [
        HEADER,
        [
            "A001",
            "小美爱分享",
            "12.3万",
            "78%",
            "25-34",
            "￥89",
            "美妆、护肤",
            "3,500",
            "星光MCN",
            "30%",
        ],
        ["A002", "川妹子", "1,200,000", "0.55", "18-24", "45元", "食品,日百/酒水", "8000", "", ""],
        ["A003", "坏数据", "很多", "120%", "", "", "", "", "", ""],
    ]
    sheet = write_csv(tmp_path / "anchors.csv", rows, "gbk")
    result = cli("--db", "h.duckdb", "import", "--kind", "anchors", sheet)
    assert result.code == 3
    assert "row 4, 粉丝数 '很多': not a whole number" in result.err
    assert "row 4, 女粉占比 '120%': must be between 0% and 100%" in result.err
    anchors = {
        a["anchor_id"]: a for a in json.loads(cli("--db", "h.duckdb", "anchors", "-f", "json").out)
    }
    assert set(anchors) == {"A001", "A002"}
    assert anchors["A001"] == {
        "anchor_id": "A001",
        "name": "小美爱分享",
        "fans": 123000,
        "female_share": "0.78",
        "age_band": "25-34",
        "avg_ticket": "89.00",
        "categories": ["美妆", "护肤"],
        "gmv_per_hour": "3500.00",
        "mcn": "星光MCN",
        "mcn_share": "0.3",
    }
    assert (
        anchors["A002"]["categories"] == ["食品", "日百", "酒水"] and anchors["A002"]["mcn"] is None
    )
    csv_out = cli("--db", "h.duckdb", "anchors", "-f", "csv").out.splitlines()
    assert csv_out[1].startswith("A001,小美爱分享,123000,0.78,25-34,89.00,美妆、护肤,")
    again = cli("--db", "h.duckdb", "import", "--kind", "anchors", sheet)
    assert "0 new, 0 updated, 2 unchanged" in again.err  # lists compare as lists


def test_anchors_need_their_required_columns_and_no_merchant(cli, tmp_path):
    sheet = write_csv(tmp_path / "a.csv", [["达人昵称", "粉丝数"], ["小美", "100"]])
    result = cli("--db", "h.duckdb", "import", "--kind", "anchors", sheet)
    assert result.code == 1 and "missing required columns: anchor_id" in result.err
    result = cli("--db", "h.duckdb", "import", "--kind", "anchors", sheet, "--merchant", "M1")
    assert result.code == 2 and "--merchant applies to products" in result.err
