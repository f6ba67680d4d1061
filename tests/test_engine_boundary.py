"""The engine never imports MkDocs or Material: another adapter must be possible.

The modules are discovered, not listed, so a new engine module is checked the
day it is added. Each one is imported in a fresh interpreter: a module
imported earlier in the same process could otherwise hide who pulled MkDocs in.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import dealrooms_plugin

PACKAGE = Path(dealrooms_plugin.__file__).parent
ADAPTER = "mkdocs_adapter"


def engine_modules(folder: Path = PACKAGE, prefix: str = "dealrooms_plugin") -> list[str]:
    """Every module and package of the engine, the adapter excluded.

    pkgutil.iter_modules, not walk_packages: walking imports each package to
    look inside it, and the adapter must not be imported to be skipped.
    """
    found = [prefix]
    for info in pkgutil.iter_modules([str(folder)]):
        if info.name == ADAPTER:
            continue
        if info.ispkg:
            found += engine_modules(folder / info.name, f"{prefix}.{info.name}")
        else:
            found.append(f"{prefix}.{info.name}")
    return sorted(found)


# Runs in the fresh interpreter: import one module, then name every MkDocs or
# Material module that came with it and the engine line that imported it first.
PROBE = """\
import importlib, sys, traceback

module = sys.argv[1]
culprits = {}

class Watch:
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in ("mkdocs", "material") and top not in culprits:
            frames = [f for f in traceback.extract_stack() if "dealrooms_plugin" in f.filename]
            culprits[top] = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
        return None  # only watch: the normal finders do the import

sys.meta_path.insert(0, Watch())
importlib.import_module(module)
leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("mkdocs", "material"))
for top, where in sorted(culprits.items()):
    print(f"{top} imported from {where}")
if leaked:
    print("loaded: " + ", ".join(leaked))
"""


def test_discovery_finds_every_engine_file() -> None:
    # Guards the discovery itself: a skipped folder would make the check below pass vacuously.
    files = {
        ".".join(("dealrooms_plugin", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
        for path in PACKAGE.rglob("*.py")
        if ADAPTER not in path.relative_to(PACKAGE).parts
    }
    assert set(engine_modules()) == files
    assert {"dealrooms_plugin.plan", "dealrooms_plugin.owners", "dealrooms_plugin.cli"} <= files


@pytest.mark.parametrize("module", engine_modules())
def test_engine_module_does_not_import_mkdocs(module: str) -> None:
    result = subprocess.run([sys.executable, "-c", PROBE, module], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "", f"{module} pulls in MkDocs or Material:\n{result.stdout}"
