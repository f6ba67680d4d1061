"""The engine never imports MkDocs: another adapter must be possible."""

import subprocess
import sys

ENGINE = ["model", "load", "plan", "view", "render", "catalog", "cli", "settings", "today", "errors"]


def test_engine_modules_do_not_import_mkdocs() -> None:
    code = (
        "import importlib, sys\n"
        f"for name in {ENGINE!r}:\n"
        "    importlib.import_module('dealrooms_plugin.' + name)\n"
        "leaked = sorted(m for m in sys.modules if m == 'mkdocs' or m.startswith(('mkdocs.', 'material')))\n"
        "print(','.join(leaked))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
