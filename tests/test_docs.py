"""The README's commands are the ones that work, and the ones CI runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def command(marker: str) -> str:
    found = re.search(rf"<!-- {marker} -->\s*```bash\n(.+?)\n```", README, re.S)
    assert found, f"README has no {marker} block"
    return found.group(1)


def test_ci_runs_the_readme_test_command() -> None:
    assert command("test-command") == "pip install -e '.[test]' && python -m pytest"
    ci = (ROOT / ".ci" / "run").read_text()
    assert "<!-- test-command -->" in ci


def test_readme_demo_command_runs(tmp_path: Path) -> None:
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    env["STOCKBRIEF_STORE"] = str(tmp_path / "demo.duckdb")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    result = subprocess.run(
        ["bash", "-c", command("demo-command")], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "prices: 12,154 rows for 5 tickers" in result.stdout
    assert "5 tickers, 12,154 bars" in result.stdout
    # The demo keeps its own store beside the configured one, never that store itself.
    assert (tmp_path / "stockbrief-demo.duckdb").exists()
    assert not (tmp_path / "demo.duckdb").exists()
