"""The built wheel carries every file rshell reads at run time (issue 16).

Built as `python -m build` builds it (the sdist first, the wheel from the sdist), from a
copy of the project's files, so MANIFEST.in and setup.py's copy step are both tested.
The smoke suite that runs the installed wheel is scripts/wheel_smoke.py (a CI step).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

from rshell.commands.builtins import COMPLETERS
from rshell.commands.topics import GRAMMAR
from rshell.project_files import ROOT, RUNTIME_FILES

SOURCES = ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "rshell", "references", "completers")


def build_wheel(into: Path) -> zipfile.ZipFile:
    source = into / "src"
    source.mkdir()
    for name in SOURCES:
        origin = ROOT / name
        if origin.is_dir():
            shutil.copytree(origin, source / name, ignore=shutil.ignore_patterns("__pycache__", "_project"))
        else:
            shutil.copy2(origin, source / name)
    dist = into / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(dist), str(source)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    (wheel,) = dist.glob("*.whl")
    return zipfile.ZipFile(wheel)


def test_the_runtime_list_names_every_file_read_at_run_time() -> None:
    read = {GRAMMAR, *COMPLETERS.values()}
    assert read <= set(RUNTIME_FILES)
    for relative in RUNTIME_FILES:
        assert (ROOT / relative).is_file(), relative


def test_the_wheel_holds_every_runtime_file(tmp_path: Path) -> None:
    names = set(build_wheel(tmp_path).namelist())
    missing = [f for f in RUNTIME_FILES if f"rshell/_project/{f}" not in names]
    assert not missing, f"the wheel lacks {missing}"
    templates = resources.files("rshell.commands") / "scaffold_templates"
    for template in ("node", "python"):
        shipped = {f"rshell/commands/scaffold_templates/{template}/{p.name}" for p in (templates / template).iterdir()}
        assert shipped <= names, shipped - names
    assert "rshell/openapi.json" in names
