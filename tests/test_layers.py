"""The layers are checked by machines: import-linter's contracts (pyproject.toml) and ruff's
banned-api for Rich. These tests run both on the project, and on a copy with one wrong-way
import planted, to show that a broken layer fails."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BIN / "lint-imports", "--config", root / "pyproject.toml", "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": str(BIN), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def ruff(root: Path, *paths: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [BIN / "ruff", "check", "--no-cache", "--select", "TID251", *paths],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """The package and its pyproject.toml, in a folder of their own."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        ROOT / "haowu_cli", tmp_path / "haowu_cli", ignore=shutil.ignore_patterns("__pycache__")
    )
    return tmp_path


def test_the_import_contracts_hold():
    ran = lint_imports(ROOT)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "0 broken" in ran.stdout


@pytest.mark.parametrize(
    ("module", "planted", "contract"),
    [
        ("grading.py", "import rich", "never imports the command line"),
        ("reports/document.py", "from haowu_cli import render", "never imports the command"),
        ("store/sql.py", "from haowu_cli import grading", "The store imports no domain module"),
        ("ingest/pipeline.py", "from haowu_cli import commission", "knows no kind by name"),
    ],
)
def test_a_wrong_way_import_breaks_a_contract(copy, module, planted, contract):
    path = copy / "haowu_cli" / module
    path.write_text(path.read_text(encoding="utf-8") + f"\n{planted}  # noqa\n", "utf-8")
    ran = lint_imports(copy)
    assert ran.returncode == 1, ran.stdout + ran.stderr
    broken = ran.stdout.split("Broken contracts", 1)[1]
    assert contract in " ".join(broken.split())


def test_rich_is_imported_in_render_only(copy):
    assert ruff(ROOT, "haowu_cli").returncode == 0
    (copy / "haowu_cli" / "reports" / "fancy.py").write_text("from rich.table import Table\n")
    ran = ruff(copy, "haowu_cli")
    assert ran.returncode == 1
    assert "reports/fancy.py" in ran.stdout and "TID251" in ran.stdout
