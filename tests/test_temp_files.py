"""DuckDB's temporary files: a query bigger than the memory limit spills under the warehouse's own
`tmp/` folder (or LOCALISM_TEMP_DIR), never into the directory a command was started from, and
its files are removed once the query and its connection end."""

from __future__ import annotations

import json
import subprocess
import textwrap
from pathlib import Path

import pytest

from tests.conftest import PYTHON, ROOT, make_council, new_place

# A sort of 3,000,000 hashes (about 200 MB) under a 64 MB limit: it must spill. The result is held
# open while the spill files are listed, then fetched to the end, then the connection is dropped.
SCRIPT = textwrap.dedent("""
    import gc, json, os, sys
    sys.path.insert(0, sys.argv[1])
    from pathlib import Path
    from etl import warehouse

    wh = warehouse.Warehouse(sys.argv[2], sys.argv[3] or None)
    seen = {}
    with wh.read() as cur:
        seen["memory_limit"] = cur.execute("SELECT current_setting('memory_limit')").fetchone()[0]
        cur.execute("SELECT md5(range::VARCHAR) AS h FROM range(3000000) ORDER BY h")
        first = cur.fetchone()[0]
        with wh.read() as other:
            seen["spilled"] = other.execute("SELECT path, size FROM duckdb_temporary_files()").fetchall()
        rows = 1 + len(cur.fetchall())
    seen["rows"] = rows
    seen["first"] = first
    wh.close()
    del cur, other
    gc.collect()
    print(json.dumps(seen))
""")


def spill(place_db: str, data_path: str | None, cwd: Path, env: dict[str, str]) -> dict:
    cwd.mkdir(exist_ok=True)
    done = subprocess.run([PYTHON, "-c", SCRIPT, str(ROOT), place_db, data_path or ""], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.mark.slow
def test_a_query_that_spills_writes_under_the_warehouse_and_cleans_up(place, tmp_path):
    wh = make_council(place.open())
    elsewhere = tmp_path / "started-here"
    env = {**place.env(), "LOCALISM_MEMORY_LIMIT": "64MB"}
    env.pop("LOCALISM_TEMP_DIR", None)
    seen = spill(place.db, place.data_path, elsewhere, env)

    assert seen["rows"] == 3_000_000 and seen["first"] == "0000023f507999464aa2b78875b7e5d6"
    assert seen["memory_limit"] == "61.0 MiB"  # 64 MB
    assert seen["spilled"], "the query did not spill: nothing was tested"
    spill_folder = wh.data_path / "tmp"
    assert all(Path(path).is_relative_to(spill_folder) for path, _size in seen["spilled"]), seen["spilled"]
    assert sum(size for _path, size in seen["spilled"]) > 1_000_000
    assert list(elsewhere.iterdir()) == []  # no .tmp (or anything else) where the command started
    assert not (ROOT / ".tmp").exists()
    assert files_under(spill_folder) == []  # removed afterwards
    assert [p.name for p in spill_folder.iterdir()] == []  # the connection's own folder too


@pytest.mark.slow
def test_a_configured_temp_folder_takes_the_spill(tmp_path):
    place = new_place("embedded", tmp_path)
    wh = make_council(place.open())
    configured = tmp_path / "scratch"
    env = {**place.env(), "LOCALISM_MEMORY_LIMIT": "64MB", "LOCALISM_TEMP_DIR": str(configured)}
    seen = spill(place.db, place.data_path, tmp_path / "started-here", env)
    assert seen["spilled"] and all(Path(p).is_relative_to(configured) for p, _ in seen["spilled"])
    assert files_under(configured) == [] and files_under(wh.data_path / "tmp") == []
    assert list((tmp_path / "started-here").iterdir()) == []
