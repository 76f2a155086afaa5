# write the flicker-split figures of results/body.json into 61_adapt.inpainter's markdown (issue #16.1)
# run from the repository root after body_write_split.py: python scripts/issue16/body_nb_text.py
import json

d = json.load(open("results/body.json"))
F = d["figures"]
t = [x for x in d["tables"] if x["name"] == "body_flicker_split"][0]
cols = t["columns"]
table = "\n".join(
    ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    + ["| " + " | ".join(str(r.get(c, "")) for c in cols) + " |" for r in t["rows"]]
)
v = dict(
    lv=F["flicker_loop_v2_256"],
    ln=F["flicker_loop_naive_256"],
    fv=F["flicker_fixed_v2_256"],
    fn=F["flicker_fixed_naive_256"],
    vid=F["flicker_video_256"],
    bp=F["split_band_psnr_256"],
    share=100 * F["split_fixed_edge_share_256"],
    ve=F["split_fixed_v2_edge_256"],
    re=F["split_fixed_video_edge_256"],
    ratio=F["split_fixed_v2_edge_256"] / F["split_fixed_video_edge_256"],
    ghost=100 * F["split_fixed_naive_ghost_256"],
    lvs=F["split_loop_v2_static_256"],
    lns=F["split_loop_naive_static_256"],
)
bullet = """- **Seam flicker**: over a looped body (the Talker's case) {lv:.5f} against {ln:.5f} for a naive paste
  (met); over one fixed body frame {fv:.5f} against {fn:.5f} (**not met** as stated; the held-out video's own band
  flicker is {vid:.5f}). **What flickers** there (`seam_flicker_parts`; a 1-thread re-run of the bench at 256²,
  band PSNR {bp:.2f} dB):

TABLE

  Over a fixed body frame the clean plate does not change at all: the `static` part is exactly 0 for both methods,
  and *all* of the change sits on the {share:.1f} % of band pixels that the head's edge crosses between two frames —
  that is the head moving, not flicker. On those pixels the output changes by {ve:.5f} over the plate and the real
  video by {re:.5f} ({ratio:.2f}×): the edge moves over the plate as it moves over the real background. The naive
  paste scores lower only because behind the moving edge it shows the body frame's own head — a ghost on {ghost:.1f} %
  of the band pixels (old head against new head is a small |ΔI|). So there is no defect to fix here: a compositor
  that meets "≤ naive paste" over a fixed frame would have to keep the old head. The measures that say what a viewer
  sees are the `static` part (0 against 0 over a fixed frame; {lvs:.5f} against {lns:.5f} over the looped body) and
  the edge part against the real video's. The shipped identity's own renders (soft alpha,
  `scripts/issue16/body_flicker_diag.py`) agree: over its body frame 0 the static part is 8e-6 for both methods, the
  rest is the moving edge.
""".format(**v).replace("TABLE", table)
nb = json.load(open("nbs/61_adapt.inpainter.ipynb"))
c = next(c for c in nb["cells"] if c.get("id") == "b0dyrec1")
s = "".join(c["source"])
i, j = s.index("- **Seam flicker**"), s.index("- **Speed**")
s = s[:i] + bullet + s[j:]
fig = "\n\nThe fixed-body case at the frame where the naive paste shows most of the old head (bench net, 256², crop; "
fig += "`scripts/issue16/body_flicker_figure.py`): the outputs, and each one's change from the previous frame (×4).\n"
fig += "The plate's change is the moving edge only, like the real video's; the naive paste keeps the old jaw line.\n\n"
fig += "![fixed body frame: naive paste, clean plate, real video](images/body_fixed_flicker.png)\n"
if "body_fixed_flicker.png" not in s:
    s = s.rstrip("\n") + fig
c["source"] = s.rstrip("\n").splitlines(keepends=True)
json.dump(nb, open("nbs/61_adapt.inpainter.ipynb", "w"), indent=1, ensure_ascii=False)
open("nbs/61_adapt.inpainter.ipynb", "a").write("\n")
print(bullet)
