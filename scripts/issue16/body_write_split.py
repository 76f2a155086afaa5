# add the seam-flicker split (issue #16.1: what flickers over one fixed body frame) to results/body.json
# run from the repository root after
#   THREADS=1 SIZES=256 NETS=runs/body/nets OUT=runs/body/bench_body_split_256.json \
#     python scripts/issue16/body_run_bench_body.py
# with: PYTHONPATH=. python scripts/issue16/body_write_split.py
import json
import subprocess
import time

b = json.load(open("runs/body/bench_body_split_256.json"))
res = json.load(open("results/body.json"))
F = res["figures"]
rows = []
for r in b["rows"]:
    if not r["method"].endswith("body"):
        continue
    mode = "fixed" if "fixed" in r["method"] else "loop"
    s = r["size"]
    for who in ("naive", "inpainter"):
        tag = "v2" if who == "inpainter" else "naive"
        F[f"split_{mode}_{tag}_{s}"] = r[who]
        F[f"split_{mode}_{tag}_edge_{s}"] = r[f"{who}_edge"]
        F[f"split_{mode}_{tag}_static_{s}"] = r[f"{who}_static"]
    F[f"split_{mode}_video_edge_{s}"] = r["video_edge"]
    F[f"split_{mode}_edge_share_{s}"] = r["edge_share"]
    F[f"split_{mode}_naive_ghost_{s}"] = r["naive_ghost"]
    for who in ("naive", "inpainter"):
        rows.append(
            dict(
                size=s,
                body=mode,
                method="naive paste" if who == "naive" else "inpainter v2 (clean plate)",
                flicker=round(r[who], 5),
                edge=round(r[f"{who}_edge"], 5),
                static=round(r[f"{who}_static"], 5),
                video_edge=round(r["video_edge"], 5),
                old_head_shown=f"{100 * r['naive_ghost']:.1f} %" if who == "naive" else "0 %",
            )
        )
band = {r["method"]: r["band_psnr"] for r in b["rows"] if "band_psnr" in r}
F["split_band_psnr_256"] = band["inpainter v2"]
F["split_fit_s_256"] = b["timing"][0]["fit_s"]
F["split_load"] = [round(x, 1) for x in b["load_end"]]
res["tables"] = [t for t in res["tables"] if t["name"] != "body_flicker_split"]
res["tables"].insert(
    2,
    dict(
        name="body_flicker_split",
        title="What flickers: the seam band's frame-to-frame change split into the pixels the head's edge crossed "
        "(edge) and the rest (static); video_edge = the real video's own change on those edge pixels",
        columns=["size", "body", "method", "flicker", "edge", "static", "video_edge", "old_head_shown"],
        rows=rows,
        notes=[
            "adapt.inpainter.seam_flicker_parts; same clips and heads as body_flicker (heads of id0002_c001 cut out by "
            "their masks over the body frames of id0002_c000); a new bench run at 256² with 1 torch thread "
            f"(band PSNR of its net: {band['inpainter v2']} dB)",
            "old_head_shown: share of band pixels where the naive paste shows the body frame's own head (a ghost "
            "beside the new head); the clean plate removes it",
        ],
    ),
)
for h in res.get("headline", []):
    h["measured"] = h["measured"].split("; fixed body split")[0]
    h["measured"] += (
        "; fixed body split: static part {split_fixed_v2_static_256:.0f} (naive {split_fixed_naive_static_256:.0f}), "
        "edge part {split_fixed_v2_edge_256:.5f} vs the real video's {split_fixed_video_edge_256:.5f} on the same "
        "pixels; the naive paste shows the old head on {split_fixed_naive_ghost_pct:.1f} % of the band"
    )
    h["target"] = (
        "band ≥ 30 dB at 256² — met; flicker ≤ naive paste — looped body met, fixed body **not met** as stated (all "
        "of it is the head's edge moving over a still plate, as over the real background; the naive paste wins by "
        "showing the old head); ≤ 10 ms/frame at 256² — met (load ≈ 4)"
    )
F["split_fixed_naive_ghost_pct"] = 100 * F["split_fixed_naive_ghost_256"]
commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
res["record"]["command"] = (
    res["record"]["command"].split("; split:")[0] + "; split: THREADS=1 SIZES=256 NETS=runs/body/nets "
    "OUT=runs/body/bench_body_split_256.json python scripts/issue16/body_run_bench_body.py then "
    f"scripts/issue16/body_write_split.py ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {commit} + tree, "
    f"load {F['split_load'][0]})"
)
json.dump(res, open("results/body.json", "w"), indent=1, ensure_ascii=False)
open("results/body.json", "a").write("\n")
for r in rows:
    print(r)
