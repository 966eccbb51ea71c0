"""The wheel carries the project's top-level run-time text (SPEC 1 keeps one copy of it).

`references/grammar.md` (the `help TOPIC` text) and `completers/*` (what `completion
SHELL` prints) live at the top of the repository, where people browse them; a plain
wheel packages only `rshell/`. This build step copies the files that
`rshell/project_files.py` names in `RUNTIME_FILES` into the built package as
`rshell/_project/<same path>`, so an installed rshell (pip, pipx, uv tool) reads them
there, and a checkout reads the originals. The list is read from that module's source
text, not imported, because the build environment need not be able to import rshell.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


def runtime_files() -> tuple[str, ...]:
    """`RUNTIME_FILES` of rshell/project_files.py, read as a literal."""
    tree = ast.parse((HERE / "rshell" / "project_files.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            if any(isinstance(t, ast.Name) and t.id == "RUNTIME_FILES" for t in targets):
                assert node.value is not None
                return tuple(ast.literal_eval(node.value))
    raise RuntimeError("rshell/project_files.py declares no RUNTIME_FILES")


class BuildWithProjectFiles(build_py):
    """build_py, plus the top-level run-time files under rshell/_project/."""

    def run(self) -> None:
        super().run()
        for relative in runtime_files():
            target = Path(self.build_lib) / "rshell" / "_project" / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(HERE / relative, target)


setup(cmdclass={"build_py": BuildWithProjectFiles})
