"""Configuration: packaged defaults, per-file override, and every problem with file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from haowu_cli.config import packaged_path, resolve_config_dir
from haowu_cli.errors import ConfigError
from haowu_cli.ingest.columns import load_kind, normalise_header


def write(folder: Path, text: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "columns.yaml").write_text(text, encoding="utf-8")
    return folder


def test_packaged_aliases_cover_the_documented_headers():
    kind = load_kind("products", packaged_path("configs"))
    for header, field in [
        ("商品编号", "product_id"),
        ("店铺ID", "merchant_id"),
        ("到手价", "live_price"),
        ("发货时效（小时）", "ship_hours"),
        ("*商品ID", "product_id"),
        ("DSR", "shop_score"),
        ("近30天销售额", "gmv_30d"),
        ("是否有样品", "sample"),
        ("Product ID", "product_id"),
    ]:
        assert kind.aliases[normalise_header(header)] == field, header


def test_a_team_leader_can_add_aliases_without_touching_code(tmp_path):
    folder = write(tmp_path / "cfg", "products:\n  live_price: [主播价]\n")
    kind = load_kind("products", folder)
    assert kind.aliases[normalise_header("主播价")] == "live_price"
    assert kind.aliases[normalise_header("live_price")] == "live_price"


def test_every_problem_is_listed_with_file_key_and_line(tmp_path):
    folder = write(
        tmp_path / "cfg",
        "products:\n"
        "  live_price: [直播价]\n"
        "  colour: [颜色]\n"
        "  title: 商品名称\n"
        "  brand: [直播价]\n",
    )
    with pytest.raises(ConfigError) as error:
        load_kind("products", folder)
    problems = error.value.problems
    path = folder / "columns.yaml"
    assert len(problems) == 3
    assert problems[0].startswith(f"{path}:3 products.colour: unknown field 'colour'")
    assert problems[1].startswith(f"{path}:4 products.title: expected a list")
    assert problems[2].startswith(
        f"{path}:5 products.brand.0: header '直播价' already means live_price"
    )
    assert error.value.exit_code == 2


def test_invalid_yaml_names_its_line(tmp_path):
    folder = write(tmp_path / "cfg", "products:\n  live_price: [直播价\n  title: [x]\n")
    with pytest.raises(ConfigError, match=r"columns.yaml:\d+: not valid YAML"):
        load_kind("products", folder)


def test_unknown_kind(tmp_path):
    with pytest.raises(ConfigError, match="unknown kind 'cars'"):
        load_kind("cars", packaged_path("configs"))


def test_config_dir_defaults_to_local_configs_then_packaged(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert resolve_config_dir(None) == packaged_path("configs")
    (tmp_path / "configs").mkdir()
    assert resolve_config_dir(None) == Path("configs")
    # A local folder without columns.yaml still gets the packaged aliases.
    assert (
        load_kind("products", Path("configs")).aliases[normalise_header("商品ID")] == "product_id"
    )


@pytest.mark.parametrize("given_by", ["--config", "HAOWU_CONFIG"])
def test_a_config_folder_given_explicitly_must_exist(tmp_path, given_by):
    from haowu_cli.errors import ExitCode, UsageError

    sep = "=" if given_by == "HAOWU_CONFIG" else " "
    with pytest.raises(UsageError, match=f"^{given_by}{sep}{tmp_path / 'nope'}: no such folder$"):
        resolve_config_dir(tmp_path / "nope", given_by=given_by)
    (tmp_path / "file").write_text("")
    with pytest.raises(UsageError, match="file: is not a folder$") as caught:
        resolve_config_dir(tmp_path / "file", given_by=given_by)
    assert caught.value.exit_code == ExitCode.USAGE
    assert resolve_config_dir(tmp_path, given_by=given_by) == tmp_path


def test_config_files_read_dates_as_text_and_name_a_folder(tmp_path):
    from haowu_cli.config import load_config_file, load_yaml_file

    path = tmp_path / "any.yaml"
    path.write_text("when: 2026-13-01\nat: 2026-12-01 19:00:00\n", encoding="utf-8")
    assert load_yaml_file(path).data == {"when": "2026-13-01", "at": "2026-12-01 19:00:00"}
    (tmp_path / "columns.yaml").mkdir()
    with pytest.raises(ConfigError, match="columns.yaml: is a folder, not a YAML file"):
        load_config_file(tmp_path, "columns.yaml")
