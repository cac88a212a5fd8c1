"""The methodology is written once (kpis/methodology.py); docs/methodology.md is its rendering."""

from __future__ import annotations

from pathlib import Path

from etl.contract import KPI_NAMES
from kpis import methodology as m
from kpis.engine import sql_files

DOC = Path(__file__).resolve().parent.parent / "docs" / "methodology.md"


def test_committed_doc_is_the_rendering():
    assert DOC.read_text(encoding="utf-8") == m.render_markdown(), (
        "docs/methodology.md is stale: python -m kpis methodology > docs/methodology.md"
    )


def test_every_kpi_is_defined_once_in_contract_order():
    assert tuple(k.name for k in m.KPIS) == KPI_NAMES
    for k in m.KPIS:
        assert k.title and k.definition and k.formula and k.why
        assert k.unit in m.UNITS
        assert k.pillar in m.PILLAR_NAMES
        assert k.sql_file in sql_files()


def test_every_pillar_has_a_kpi():
    assert {k.pillar for k in m.KPIS} == set(m.PILLAR_NAMES)
    assert m.PILLAR_NAMES == ("relationships", "institutions", "capacity", "powers")


def test_the_doc_names_every_kpi_and_threshold():
    text = m.render_markdown()
    for k in KPI_NAMES:
        assert f"`{k}`" in text
    for name, value, _ in m.THRESHOLDS:
        assert f"| `{name}` | {value} |" in text
    assert "not an average of the quarterly ratios" in text
