# ms/frame of compose() with the shipped identity's version-2 body (plates cached) vs a naive paste, same run (issue
# #18.2)
# run from the repository root: PYTHONPATH=. python scripts/issue16/body_time_compose.py  (outputs under runs/, which
# git ignores)
import json
import os
import time
import numpy as np
import torch
from ggtalker_nb.adapt.inpainter import compose
from ggtalker_nb.avatar.body import BodyModel
from ggtalker_nb.core import data_samples_path

b = BodyModel.load(data_samples_path("identity_sample", "body.safetensors"))
fr, ms = b.frames.float() / 255, b.masks
rows = []
for size in (256, 512):
    f, m = fr, ms
    if size != fr.shape[1]:
        f = (
            torch.nn.functional.interpolate(fr.permute(0, 3, 1, 2), size=(size, size), mode="bilinear", antialias=True)
            .permute(0, 2, 3, 1)
            .contiguous()
        )
        m = torch.nn.functional.interpolate(ms[:, None].float(), size=(size, size), mode="bilinear")[:, 0] > 0.5
    r = max(1, round(b.radius_px * size / fr.shape[1]))
    hd = torch.zeros(16, size, size, 4)
    hd[..., 3] = m[:16].float()
    hd[..., :3] = f[:16] * hd[..., 3:]
    for th in (2, 1):
        torch.set_num_threads(th)
        with torch.no_grad():
            b.inpainter._plates.clear()
            t0 = time.perf_counter()
            compose(b.inpainter, hd, f[:16], m[:16], "loop", radius_px=r)
            first = (time.perf_counter() - t0) / 16 * 1e3

            def med(fn, k=7):
                ts = []
                for _ in range(k):
                    t0 = time.perf_counter()
                    fn()
                    ts.append(time.perf_counter() - t0)
                return float(np.median(ts)) / 16 * 1e3

            steady = med(lambda: compose(b.inpainter, hd, f[:16], m[:16], "loop", radius_px=r))
            naive = med(lambda: compose(None, hd, f[:16], m[:16], "loop"))
        rows.append(
            dict(
                size=size,
                threads=th,
                load=round(os.getloadavg()[0], 1),
                v2_steady_ms=round(steady, 2),
                naive_ms=round(naive, 2),
                v2_plate_ms=round(first, 1),
            )
        )
        print(rows[-1], flush=True)
json.dump(rows, open("runs/body/time_compose.json", "w"), indent=1)
