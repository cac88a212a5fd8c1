"""The README stays true: its commands exist, and every CLI command is documented in it."""

from __future__ import annotations

import re

from etl.cli import COMMANDS
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
MAKEFILE = (ROOT / "Makefile").read_text(encoding="utf-8")
CI = (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_two_quick_start_commands_are_make_targets_and_ci_runs_the_test_one():
    blocks = re.findall(r"```sh\n(.*?)```", README, re.S)
    assert blocks[0].strip() == "make run" and blocks[1].strip() == "make test"
    for target in ("run", "test"):
        assert re.search(rf"^{target}:", MAKEFILE, re.M), target
    assert "make test" in CI


def test_every_etl_command_is_in_the_readme():
    for command in COMMANDS:
        assert f"python -m etl {command}" in README, command


def test_the_contract_cli_lines_are_in_the_readme():
    for line in (
        "python -m etl init --db PATH",
        "python -m etl load-reference --db PATH wards|directorates|targets|boundaries FILE",
        "python -m etl load --db PATH --return RETURN --directorate NAME --quarter Q [--user NAME] FILE",
        "python -m etl demo --db PATH",
        "python -m kpis table --db PATH --quarter Q --by council|directorate|neighbourhood|ward [--format csv|json]",
        "streamlit run dashboard/app.py",
    ):
        assert line in README, line
