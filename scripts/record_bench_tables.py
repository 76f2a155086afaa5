"""Store a `ggtalker bench tables` run (its out/bench/*.json tables) as results/bench_tables.json, the file the
README's benchmark tables are generated from.

    /usr/bin/time -v ggtalker bench tables --out out/bench 2> out/bench/time.txt
    python scripts/record_bench_tables.py out/bench --wall "37 min"

The tables are copied as `run_bench` wrote them (names, titles, columns, rows, notes); the record names the date,
machine, commit, command and the run's wall time."""

import argparse
import json
import os
import platform
import subprocess
import time
from pathlib import Path

from ggtalker_nb.bench import TABLES

p = argparse.ArgumentParser()
p.add_argument("out_dir")
p.add_argument("--wall", required=True, help="the run's wall time, as measured")
p.add_argument("--command", default="ggtalker bench tables")
p.add_argument("--note", action="append", default=[], help="more notes for the record")
a = p.parse_args()
tables = []
for name in TABLES:
    f = Path(a.out_dir) / f"{name}.json"
    if not f.is_file():
        raise SystemExit(f"{f}: missing (run `ggtalker bench tables --out {a.out_dir}` first)")
    t = json.loads(f.read_text())
    tables.append({k: t[k] for k in ("name", "title", "columns", "rows", "notes") if k in t})
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout
mtime = max((Path(a.out_dir) / f"{n}.json").stat().st_mtime for n in TABLES)
pv = json.loads((Path(a.out_dir) / f"{TABLES[0]}.json").read_text()).get("provenance") or {}
rec = dict(
    title="The paper's tables on SynthTalk (`ggtalker bench tables`)",
    record=dict(
        date=pv.get("date") or time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(mtime)),
        machine=f"{pv.get('cpu') or platform.processor()} ({pv.get('cores', os.cpu_count())} cores, "
        f"{pv.get('torch_threads', '?')} torch threads), torch {pv.get('torch', '?')}, no GPU",
        command=a.command,
        commit=commit + (" + working tree" if dirty.strip() else ""),
        status=f"measured this session ({a.wall} wall)",
    ),
    notes=[
        "LPIPS/FID: n/a — no AlexNet/Inception weights can be had here",
        "Stored by `python scripts/record_bench_tables.py` from the run's out/bench/*.json.",
    ]
    + a.note,
    tables=tables,
)
Path("results/bench_tables.json").write_text(json.dumps(rec, indent=1, ensure_ascii=False) + "\n")
print("wrote results/bench_tables.json:", [t["name"] for t in tables])
