"""JSON for machines: frames inside a document are written a slice at a time and still make
one valid document whatever the number of rows."""

from __future__ import annotations

import json

import polars as pl
import pytest

from haowu_cli import render


@pytest.mark.parametrize("rows", [0, 1, 3, 4, 7])
def test_a_frame_written_in_slices_is_one_json_array(monkeypatch, rows):
    monkeypatch.setattr(render, "JSON_SLICE_ROWS", 3)
    frame = pl.DataFrame({"a": list(range(rows)), "b": [f"名{i}" for i in range(rows)]})
    document = json.loads(render.to_json({"items": frame, "after": [frame.head(1)], "k": 1}))
    assert document == {"items": frame.to_dicts(), "after": [frame.head(1).to_dicts()], "k": 1}
