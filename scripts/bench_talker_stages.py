"""Per-stage cost of one Talker frame on the CPU (issue 18): FLAME, binding, colour MLP, projection, rasterizer (binning
+
tiles), inpainter, output conversion — ms per frame at each size and thread count, medians of interleaved repeats.

    OMP_WAIT_POLICY=PASSIVE python scripts/bench_talker_stages.py [--sizes 256 512] [--threads 2 1] [--frames 24]
    [--json OUT]

Each stage is timed on its own inputs (computed once), in the order a frame runs them, `torch.no_grad()`, the shipped
sample identity, chunks of 8 frames (as `render_frames`). The machine's 1-minute load average is printed with every
row."""

import argparse
import json
import os
import statistics
import time

import torch


def stage_rows(sizes=(256, 512), threads=(2, 1), frames=24, repeats=5, chunk=8):
    from dataclasses import replace
    from ggtalker_nb.avatar.runtime import color_pose, split_params, pack_track
    from ggtalker_nb.core import data_samples_path, pad_last
    from ggtalker_nb.geometry import Camera
    from ggtalker_nb.render import kernels as RK
    from ggtalker_nb.render.gaussians import render
    from ggtalker_nb.talker import Talker, _resize_body, pingpong, scale_camera, speech_16k, _u8

    t = Talker()
    ident = t.load_identity(data_samples_path("identity_sample", must_exist=True))
    x = speech_16k(data_samples_path("audio", "sample.wav", must_exist=True))
    track, _ = t.motion((x[: int((frames + 2) / ident.fps * 16000)], 16000))
    idx = torch.arange(frames) % track["expr"].shape[0]
    sub = {k: track[k][idx] for k in ("expr", "pose", "translation")}
    flame, mlp = t.flame, ident.color_mlp
    params = pack_track(sub, flame.n_expr)
    shape = pad_last(ident.shape.to(flame.v_template.dtype), flame.n_shape)
    lg = ident.gaussians.local()
    lg = type(lg)(
        *(
            getattr(lg, f) if f == "face_id" else getattr(lg, f).detach()
            for f in ("face_id", "means", "log_scales", "quats", "opacities", "colors")
        )
    )
    chunks = [slice(a, min(a + chunk, frames)) for a in range(0, frames, chunk)]
    rows = []
    for th in threads:
        torch.set_num_threads(th)
        for s in sizes:
            W = max(2, round(ident.camera.width * s / ident.camera.height))
            cam0 = scale_camera(ident.camera, W, s)
            sized = _resize_body(ident.body, W, s)
            bi = pingpong(frames, ident.n_body)
            with torch.no_grad():
                P = [split_params(params[c], flame.n_expr) for c in chunks]
                cams = [
                    Camera(
                        cam0.viewmat.float().expand(c.stop - c.start, 1, 4, 4),
                        cam0.K.float().expand(c.stop - c.start, 1, 3, 3),
                        cam0.width,
                        cam0.height,
                        cam0.near,
                        cam0.far,
                    )
                    for c in chunks
                ]
                V = [flame(shape, p["expr"], p["pose"], p["transl"]).vertices for p in P]
                G = [lg.to_world(v, flame.faces) for v in V]
                Cc = [mlp(lg.colors, None, p["expr"], color_pose(p)) for p in P]
                G = [replace(g, colors=c) for g, c in zip(G, Cc)]
                heads = torch.cat([render(g, cm).rgba[:, 0].clamp(0, 1) for g, cm in zip(G, cams)])
                rgb = sized.compose(heads, bi)

            def proj(g, cm):
                B = g.means.shape[0]
                return RK.project(
                    g.means,
                    g.quats,
                    g.scales,
                    g.opacities,
                    cm.viewmat.reshape(B, 1, 4, 4),
                    cm.K.reshape(B, 1, 3, 3),
                    W,
                    s,
                )

            PR = [proj(g, cm) for g, cm in zip(G, cams)]

            def rast(pr, g):
                m2, con, dep, op, r = pr
                feats = torch.cat([g.colors, dep[..., None]], -1)
                return RK.rasterize(m2, con, op, feats, r, dep, W, s)

            stages = {
                "flame": lambda: [flame(shape, p["expr"], p["pose"], p["transl"]) for p in P],
                "binding": lambda: [lg.to_world(v, flame.faces) for v in V],
                "colour_mlp": lambda: [mlp(lg.colors, None, p["expr"], color_pose(p)) for p in P],
                "projection": lambda: [proj(g, cm) for g, cm in zip(G, cams)],
                "rasterizer": lambda: [rast(pr, g) for pr, g in zip(PR, G)],
                "render_call": lambda: [render(g, cm) for g, cm in zip(G, cams)],
                "inpainter": lambda: sized.compose(heads, bi),
                "to_uint8": lambda: _u8(rgb),
            }
            times = {k: [] for k in stages}
            load0 = os.getloadavg()[0]
            with torch.no_grad():
                for f in stages.values():
                    f()  # warm-up
                for _ in range(repeats):  # interleaved: every stage once per repeat
                    for k, f in stages.items():
                        t0 = time.perf_counter()
                        f()
                        times[k].append(time.perf_counter() - t0)
            ms = {k: round(1000 * statistics.median(v) / frames, 2) for k, v in times.items()}
            frame = sum(ms[k] for k in ("flame", "binding", "colour_mlp", "render_call", "inpainter", "to_uint8"))
            rows.append(
                dict(
                    size=f"{W}x{s}",
                    threads=th,
                    gaussians=lg.n,
                    frames=frames,
                    **{f"{k}_ms": v for k, v in ms.items()},
                    frame_ms=round(frame, 2),
                    fps=round(1000 / frame, 2),
                    fps_without_inpainter=round(1000 / (frame - ms["inpainter"]), 2),
                    load=round((load0 + os.getloadavg()[0]) / 2, 2),
                )
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    ap.add_argument("--threads", type=int, nargs="+", default=[2, 1])
    ap.add_argument("--frames", type=int, default=24)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    rows = stage_rows(a.sizes, a.threads, a.frames, a.repeats)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
