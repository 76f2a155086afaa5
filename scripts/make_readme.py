"""Write README.md from nbs/index.ipynb (nbdev's readme_nb), as `nbdev_readme` does without needing quarto, with the
result tables generated from the recorded runs in results/*.json.

Markdown cells are copied; code cells become fenced blocks (hidden cells, `#| hide`, are left out); image links
relative to nbs/ are made relative to the repository root. `tests/test_docs.py` checks that README.md is current and
that every table block in nbs/index.ipynb matches results/*.json.

    python scripts/make_readme.py          # regenerate the result blocks in nbs/index.ipynb, then rewrite README.md
    python scripts/make_readme.py --check  # exit 1 if README.md or a block of nbs/index.ipynb differs

Result blocks. A markdown cell of nbs/index.ipynb holds a block as

    <!-- results:headline -->
    ...generated, do not edit...
    <!-- /results -->

and the text between the two comment lines is regenerated from results/*.json:

* `<!-- results:headline -->` — the "measured vs target" table: one row per entry of every file's `headline` list,
  sorted by `order`. `measured` and `target` are format strings over the file's `figures` (`"{lve:.2f} mm"`), so the
  numbers come from the stored figures, never from hand-copied text.
* `<!-- results:tables NAME -->` — every table of results/NAME.json (`tables`: name, title, columns, rows, notes),
  with the record's provenance (date, machine, command, commit, status) under it.
* `<!-- results:line NAME -->` — one sentence: results/NAME.json's `line`, a format string over its `figures`
  (e.g. the wheel size in the install section), followed by the record's provenance.

**Adding a table from a new results file** (e.g. a wheel-size line or a face-tracking benchmark):
1. write results/NAME.json with at least `title` and `record` = {date, machine, command, commit, status}, and
   `tables` = [{name, title, columns, rows, notes}] (rows: dicts keyed by the columns; numbers or strings) and/or
   `figures` + `headline` = [{order, what, measured, target, notebook}] for rows of the headline table, or
   `figures` + `line` for a sentence;
2. put `<!-- results:tables NAME -->` (or `results:line NAME`) and `<!-- /results -->` on two lines of a markdown cell
of nbs/index.ipynb
   where the table belongs (a headline row needs no new marker: it joins the headline block by its `order`);
3. run `python scripts/make_readme.py`; `pytest tests/test_docs.py` checks the result.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "results"
BLOCK = re.compile(r"(<!-- results:(\w+)(?: ([\w.-]+))? -->\n)(.*?)(\n?<!-- /results -->)", re.S)


def load_results(folder: Path = RESULTS) -> dict[str, dict]:
    "Every results/NAME.json as {NAME: record}."
    out = {}
    for p in sorted(folder.glob("*.json")):
        d = json.loads(p.read_text())
        for k in ("title", "record"):
            if k not in d:
                raise ValueError(f"{p}: needs a {k!r} entry")
        missing = [k for k in ("date", "machine", "command", "commit", "status") if k not in d["record"]]
        if missing:
            raise ValueError(f"{p}: record lacks {missing}")
        out[p.stem] = d
    return out


def fmt(v) -> str:
    "A table cell: floats to 3 significant digits (as the bench's markdown), the rest as is."
    if v is None:
        return "—"  # not measured / not applicable
    if isinstance(v, bool):
        return str(v)
    if isinstance(v, float):
        return f"{v:.3g}"
    return str(v)


def md_table(columns, rows) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(r.get(c, "")) for c in columns) + " |" for r in rows]
    return "\n".join(lines)


def provenance(rec: dict) -> str:
    r = rec["record"]
    return f"*{r['status']}: {r['date']}, {r['machine']}, commit `{r['commit']}`; command: `{r['command']}`*"


def headline(results: dict[str, dict]) -> str:
    rows = []
    for name, d in results.items():
        for h in d.get("headline", []):
            f = d.get("figures", {})
            rows.append(
                (
                    h["order"],
                    dict(
                        what=h["what"],
                        measured=h["measured"].format(**f),
                        target=h["target"].format(**f),
                        record=f"`results/{name}.json` ({d['record']['date'].split()[0]})",
                        notebook=f"`{h['notebook']}`",
                    ),
                )
            )
    return md_table(
        ["what", "measured", "target", "record", "notebook"], [r for _, r in sorted(rows, key=lambda x: x[0])]
    )


def tables(d: dict) -> str:
    out = []
    for t in d.get("tables", []):
        part = [f"**{t['title']}**", "", md_table(t["columns"], t["rows"])]
        notes = t.get("notes") or []
        if notes:
            part += [""] + [f"- {n}" for n in ([notes] if isinstance(notes, str) else notes)]  # one note or a list
        out.append("\n".join(part))
    return "\n\n".join(out + [provenance(d)])


def block(kind: str, arg: str | None, results: dict[str, dict]) -> str:
    if kind == "headline":
        return headline(results)
    if kind == "line":
        d = results[arg]
        return d["line"].format(**d.get("figures", {})) + " " + provenance(d)
    if kind == "tables":
        if arg not in results:
            raise KeyError(f"<!-- results:tables {arg} -->: no results/{arg}.json")
        return tables(results[arg])
    raise KeyError(f"unknown results block kind {kind!r}")


def fill(text: str, results: dict[str, dict]) -> str:
    "Regenerate every results block of a markdown text."
    return BLOCK.sub(
        lambda m: m.group(1) + "\n" + block(m.group(2), m.group(3), results) + "\n\n<!-- /results -->", text
    )


def sync_index(nb_path: Path = ROOT / "nbs" / "index.ipynb", results: dict | None = None, write: bool = True) -> bool:
    "Regenerate the result blocks inside nbs/index.ipynb; return whether anything changed."
    results = load_results() if results is None else results
    nb = json.loads(nb_path.read_text())
    changed = False
    for c in nb["cells"]:
        if c["cell_type"] != "markdown":
            continue
        src = "".join(c["source"])
        new = fill(src, results)
        if new != src:
            changed = True
            lines = new.split("\n")
            c["source"] = [l + "\n" for l in lines[:-1]] + [lines[-1]]
    if changed and write:
        nb_path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return changed


def render(nb_path: Path = ROOT / "nbs" / "index.ipynb", results: dict | None = None) -> str:
    results = load_results() if results is None else results
    cells, out = json.loads(nb_path.read_text())["cells"], []
    for c in cells:
        src = "".join(c["source"]).strip("\n")
        if not src:
            continue
        if c["cell_type"] == "markdown":
            src = fill(src, results)
            out.append(re.sub(r"\]\((?!https?:|/|#)([^)]+)\)", lambda m: f"](nbs/{m.group(1)})", src))
        elif c["cell_type"] == "code":
            lines = src.splitlines()
            if any(l.strip() in ("#| hide", "#|hide") for l in lines):
                continue
            body = "\n".join(l for l in lines if not l.startswith("#|")).strip("\n")
            lang = "bash" if all(l.startswith("!") or not l.strip() for l in body.splitlines()) else "python"
            if lang == "bash":
                body = "\n".join(l[1:].lstrip() if l.startswith("!") else l for l in body.splitlines())
            out.append(f"```{lang}\n{body}\n```")
    return (
        "<!-- generated from nbs/index.ipynb by scripts/make_readme.py: edit the notebook, not this file -->\n\n"
        + "\n\n".join(out)
        + "\n"
    )


if __name__ == "__main__":
    readme = ROOT / "README.md"
    if "--check" in sys.argv:
        stale_nb = sync_index(write=False)
        text = render()
        ok = readme.is_file() and readme.read_text() == text and not stale_nb
        print(
            "README.md and nbs/index.ipynb are current"
            if ok
            else "README.md or a results block of nbs/index.ipynb differs from results/*.json: run python "
            "scripts/make_readme.py"
        )
        sys.exit(0 if ok else 1)
    if sync_index():
        print("updated the results blocks of nbs/index.ipynb")
    readme.write_text(render())
    print(f"wrote {readme}")
