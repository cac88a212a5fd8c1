"""CI: audit the installed (pinned) dependencies for known vulnerabilities with pip-audit.

A vulnerability found fails the run. A vulnerability service that cannot be reached (no network,
or a package index without vulnerability data) is a warning that names how many packages went
unchecked, never a silent pass and never a red run for a reason the code cannot fix.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path


def main() -> int:
    venv_bin = Path(sys.executable).parent
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "audit.json"
        done = subprocess.run(
            [str(venv_bin / "pip-audit"), "--skip-editable", "--progress-spinner", "off",
             "--format", "json", "--output", str(report)],
            capture_output=True, text=True, timeout=600,
        )
        data = json.loads(report.read_text()) if report.exists() and report.stat().st_size else None
    if data is None:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"pip-audit: WARNING: the vulnerability service could not be reached; nothing was audited ({last[:300]})")
        return 0
    code, lines = summarise(data)
    print("\n".join(lines))
    return code


def summarise(data: dict) -> tuple[int, list[str]]:
    """(exit code, report lines) for pip-audit's JSON report: 1 when any package is vulnerable."""
    deps = data.get("dependencies", [])
    vulnerable = [d for d in deps if d.get("vulns")]
    unchecked = [d["name"] for d in deps if d.get("skip_reason")]
    lines = []
    for d in vulnerable:
        ids = ", ".join(f"{v['id']} (fixed in {', '.join(v.get('fix_versions') or ['no release yet'])})" for v in d["vulns"])
        lines.append(f"pip-audit: VULNERABLE: {d['name']} {d.get('version')}: {ids}")
    if unchecked:
        lines.append(f"pip-audit: WARNING: {len(unchecked)} of {len(deps)} packages could not be checked "
                     f"(the vulnerability service has no data for them here): {', '.join(unchecked[:8])}"
                     f"{' ...' if len(unchecked) > 8 else ''}")
    lines.append(f"pip-audit: {len(deps) - len(unchecked)} packages checked, {len(vulnerable)} with known vulnerabilities")
    return (1 if vulnerable else 0), lines

if __name__ == "__main__":
    sys.exit(main())
