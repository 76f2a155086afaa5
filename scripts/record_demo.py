"""Time `ggtalker demo` on the shipped defaults (the console script, its default 2 threads) and record the median stage
seconds of N runs in results/demo.json. Run on a quiet machine; the load is recorded with the figures.

    python scripts/record_demo.py [N]
"""

import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

N = int(sys.argv[1]) if len(sys.argv) > 1 else 3
STAGES = {
    "total": "demo_s",
    "render front (FLAME, Gaussians, colour MLP)": "render_front_s",
    "inpainter": "inpainter_s",
    "render orbit (FLAME, Gaussians, colour MLP)": "render_orbit_s",
    "A2E (audio → expression)": "a2e_s",
    "encode mp4": "encode_s",
}
runs, loads, info = [], [], ""
env = dict(os.environ, OMP_WAIT_POLICY="PASSIVE")
for _ in range(N):
    with tempfile.TemporaryDirectory() as d:
        loads.append(os.getloadavg()[0])
        out = subprocess.run(["ggtalker", "demo"], cwd=d, capture_output=True, text=True, env=env, check=True).stdout
    times = {}
    for line in out.splitlines():
        m = re.match(r"^(.*?)\s{2,}([0-9.]+) s$", line.strip())
        if m and m.group(1) in STAGES:
            times[STAGES[m.group(1)]] = float(m.group(2))
        if line.startswith("wrote "):
            info = line[len("wrote ") :]
    runs.append(times)
fig = {k: round(float(np.median([r[k] for r in runs])), 3) for k in STAGES.values()}
P = Path("results/demo.json")
rec = json.loads(P.read_text())
prev = rec["figures"].get("demo_s")
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
rec["record"] = dict(
    date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    machine=f"the project's shared 2-core CPU, load {min(loads):.1f}–{max(loads):.1f} at the runs' starts, 2 torch "
    "threads (the console script's default, OMP_WAIT_POLICY=PASSIVE)",
    command=f"python scripts/record_demo.py {N}  (median of {N} runs of `ggtalker demo`)",
    commit=commit,
    status="measured",
)
rec["notes"][0] = f"{info}; stage seconds as printed by the command, median of {N} runs"
rec["figures"] = rec["figures"] | fig | {"demo_s_previous": prev}  # other recorded figures are kept
P.write_text(json.dumps(rec, indent=1, ensure_ascii=False) + "\n")
print(json.dumps(fig), "loads", [round(x, 1) for x in loads])
