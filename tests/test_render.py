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


@pytest.mark.parametrize("encoding", ["utf-8", "gb18030"])
def test_json_to_a_stream_is_the_same_text_as_bytes_or_as_text(monkeypatch, encoding):
    """On a UTF-8 stdout the rows of a frame go out as the bytes Polars writes; the text is
    the same as `to_json`, after what was written before it and before what follows."""
    import io

    monkeypatch.setattr(render, "JSON_SLICE_ROWS", 2)
    frame = pl.DataFrame({"a": [1, 2, 3], "b": ["美妆", "食品", None]})
    value = {"名": "值", "items": frame, "k": [frame.head(0)]}
    stream = io.TextIOWrapper(io.BytesIO(), encoding=encoding)
    out = render.Output(stdout=stream)
    stream.write("before\n")
    out.write_json(value)
    stream.write("after\n")
    stream.flush()
    written = stream.buffer.getvalue().decode(encoding)
    assert written == "before\n" + render.to_json(value) + "\nafter\n"
    assert json.loads(written.split("\n", 1)[1].rsplit("\n", 2)[0])["items"] == frame.to_dicts()
