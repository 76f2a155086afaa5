"""The README is generated from nbs/index.ipynb, its result tables from results/*.json, and it quotes numbers the tests
can check."""

import copy
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _make_readme():
    spec = importlib.util.spec_from_file_location("make_readme", ROOT / "scripts" / "make_readme.py")
    m = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(m)
    return m


def test_readme_is_generated_from_index():
    p = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_readme.py"), "--check"], capture_output=True, text=True
    )
    assert p.returncode == 0, p.stdout + p.stderr


def test_readme_commands_and_hardening_count():
    import test_hardening as h

    text = (ROOT / "README.md").read_text()
    assert "ggtalker demo" in text and "pytest -n 2 tests/" in text  # the two commands
    assert f"{h.N_CASES} bad-input cases" in text  # the count the hardening suite tries
    assert "images/demo_poster.jpg" in text and (ROOT / "nbs" / "images" / "demo_poster.jpg").is_file()


def test_every_record_says_what_it_is():
    """Each results file names its date, machine, command, commit and status; every headline row formats from its
    figures."""
    mr = _make_readme()
    results = mr.load_results()
    assert results, "no results/*.json"
    for name, d in results.items():
        r = d["record"]
        assert all(str(r[k]).strip() for k in ("date", "machine", "command", "commit", "status")), name
        for h in d.get("headline", []):
            h["measured"].format(**d.get("figures", {}))
            h["target"].format(**d.get("figures", {}))
        for t in d.get("tables", []):
            assert t["rows"] and all(set(row) <= set(t["columns"]) for row in t["rows"]), (name, t["name"])


def test_readme_tables_match_results():
    """Every table and headline row in the README is the one generated from results/*.json (and the index notebook's
    copy too)."""
    mr = _make_readme()
    results, readme = mr.load_results(), (ROOT / "README.md").read_text()
    for line in mr.headline(results).splitlines():
        assert line in readme, line
    blocks = [ln.split()[2] for ln in readme.splitlines() if ln.startswith("<!-- results:tables ")]
    assert blocks, "the README has no results:tables block"
    for name in blocks:
        for line in mr.tables(results[name]).splitlines():
            assert line in readme, (name, line)
    index = "\n".join("".join(c["source"]) for c in json.loads((ROOT / "nbs" / "index.ipynb").read_text())["cells"])
    for line in mr.headline(results).splitlines():
        assert line in index, line


def test_tables_come_from_the_json_not_from_copied_text():
    "Changing a stored figure changes the generated README: the numbers are not hand-copied."
    mr = _make_readme()
    results = mr.load_results()
    name = next(n for n, d in results.items() if d.get("headline") and d.get("figures"))
    changed = copy.deepcopy(results)
    k = next(
        k
        for k, v in changed[name]["figures"].items()
        if isinstance(v, float) and "{" + k in "".join(h["measured"] for h in changed[name]["headline"])
    )
    changed[name]["figures"][k] = changed[name]["figures"][k] * 3 + 1
    assert mr.render(results=changed) != mr.render(results=results)
