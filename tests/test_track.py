"""Monocular tracker (ggtalker_nb.data.track): the fit against ground truth, and the bad inputs of issue 13.

A stand-in landmarker (projected ground-truth surface points + noise) replaces MediaPipe here, so these tests check the
tracker, not the detector (33_data.faces has its own tests)."""

import subprocess

import numpy as np
import pytest
import torch

from ggtalker_nb.core import InputError, data_samples_path, ffmpeg_exe
from ggtalker_nb.data.synthtalk import sample_head_flame
from ggtalker_nb.data.track import (
    PointEmbedding,
    TrackConfig,
    fit_flame,
    fit_photo,
    oracle_landmarker,
    probe_media,
    similarity_align,
    track_errors,
    track_video,
    iter_video_frames,
)
from ggtalker_nb.data.video import ClipReader
from ggtalker_nb.e2v.generator import flame_vertices
from ggtalker_nb.geometry import axis_angle_to_matrix
from ggtalker_nb.media import write_video

CLIP = data_samples_path("synthtalk_mini", "id0001_c000")


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    torch.set_num_threads(1)
    fl = sample_head_flame()
    g = torch.Generator().manual_seed(0)
    tris = torch.isin(fl.faces, fl.masks["face"]).all(1).nonzero()[:, 0]
    b = torch.rand(200, 3, generator=g) + 0.1
    emb = PointEmbedding(tris[torch.randperm(len(tris), generator=g)[:200]], b / b.sum(1, keepdim=True))
    r = ClipReader(CLIP)
    gt = r.flame_clean or r.flame
    with torch.no_grad():
        v = flame_vertices(fl, {k: torch.from_numpy(np.ascontiguousarray(x)) for k, x in gt.to_dict().items()})
        pts = r.camera.project(fl.landmarks(v, emb.faces_idx, emb.bary))[0].numpy()
    d = tmp_path_factory.mktemp("track")
    write_video(d / "talk.mp4", r.frames(), 25, audio=r.audio, sr=16000)
    write_video(d / "silent.mp4", r.frames()[:30], 25)
    return dict(fl=fl, emb=emb, r=r, gt=gt, pts=pts, dir=d)


FAST = TrackConfig(rigid_steps=30, steps=80)


def test_similarity_align_recovers_a_similarity():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(50, 3, generator=g)
    R = axis_angle_to_matrix(torch.tensor([0.3, -0.5, 0.2]))
    y = 1.7 * x @ R.T + torch.tensor([0.1, 2.0, -3.0])
    torch.testing.assert_close(similarity_align(x, y), y, atol=1e-4, rtol=1e-4)


def test_long_video_windows_match_one_window(setup):
    "Windows with fixed shape/focal (the long-video path) give a fit as good as one window over the clip."
    s = setup
    x = s["pts"] + np.random.default_rng(0).normal(0, 1.0, s["pts"].shape).astype(np.float32)
    res = fit_flame(
        x, None, s["emb"], s["fl"], (256, 256), TrackConfig(window=20, shape_frames=20, rigid_steps=30, steps=100)
    )
    e = track_errors(s["fl"], res.track, res.camera, s["gt"], s["r"].camera)
    assert e["lmk_px"] < 1.5 and e["vertex_mm"] < 3.0, e
    assert np.isfinite(res.track.expr).all() and len(res.track) == len(x)
    # no seam: frame-to-frame translation steps at window joins are like the others
    d = np.linalg.norm(np.diff(res.track.translation, axis=0), axis=1)
    assert d.max() < 10 * np.median(d) + 1e-3


def test_track_video_without_audio_and_several_faces(setup, tmp_path):
    s = setup
    base = oracle_landmarker(s["pts"], 1.0)

    def two_faces(frames):
        out = base(frames)
        out.n_faces[5:9] = 2
        return out

    out = track_video(
        s["dir"] / "silent.mp4",
        tmp_path / "c",
        size=96,
        embedding=s["emb"],
        landmarker=two_faces,
        segment=False,
        progress=False,
        cfg=FAST,
    )
    m = ClipReader(out).meta
    assert m["has_audio"] is False and not (out / "audio.wav").exists()
    assert any("audio-expression" in w for w in m["warnings"])
    assert m["several_faces"] and m["several_faces_frames"] == [5, 6, 7, 8]
    assert ClipReader(out).frames().shape == (30, 96, 96, 3)


def test_rotated_video_is_decoded_upright(tmp_path):
    a, b = tmp_path / "a.mp4", tmp_path / "b.mp4"
    exe = ffmpeg_exe()
    subprocess.run(
        [
            exe,
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=160x96:rate=25",
            "-t",
            "0.4",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            str(a),
        ],
        check=True,
    )
    subprocess.run(
        [exe, "-v", "error", "-y", "-display_rotation", "90", "-i", str(a), "-c", "copy", str(b)], check=True
    )
    info = probe_media(b)
    assert (info["width"], info["height"], abs(info["rotation"])) == (96, 160, 90.0)
    frames = list(iter_video_frames(b, info=info))
    assert len(frames) == 10 and frames[0].shape == (160, 96, 3)


def test_variable_frame_rate_is_resampled(tmp_path):
    src = tmp_path / "vfr.mp4"
    exe = ffmpeg_exe()
    # frames at irregular times (setpts): a VFR stream
    subprocess.run(
        [
            exe,
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=64x64:rate=20",
            "-t",
            "1",
            "-vf",
            "setpts='N/20/TB+0.02*sin(N)/TB'",
            "-fps_mode",
            "vfr",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
            str(src),
        ],
        check=True,
    )
    n = sum(1 for _ in iter_video_frames(src, fps=25.0))
    assert 22 <= n <= 28, n


def test_corrupt_video_clear_error_and_nothing_left(setup, tmp_path):
    s = setup
    bad = tmp_path / "bad.mp4"
    bad.write_bytes((s["dir"] / "talk.mp4").read_bytes()[:4000])
    with pytest.raises(InputError, match="bad.mp4"):
        track_video(bad, tmp_path / "out", embedding=s["emb"], landmarker=oracle_landmarker(s["pts"]), progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mp4"]
    with pytest.raises(InputError, match="no such video"):
        track_video(tmp_path / "missing.mp4", tmp_path / "out", embedding=s["emb"], progress=False)


def test_no_face_and_lost_face_errors_name_the_frames(setup, tmp_path):
    s = setup
    base = oracle_landmarker(s["pts"])

    def none(frames):
        out = base(frames)
        out.detected[:] = False
        out.points[:] = np.nan
        return out

    with pytest.raises(InputError, match="no face found in any"):
        track_video(s["dir"] / "talk.mp4", tmp_path / "o", embedding=s["emb"], landmarker=none, progress=False)

    def mostly_lost(frames):
        out = base(frames)
        out.detected[3:40] = False
        out.points[3:40] = np.nan
        return out

    with pytest.raises(InputError, match=r"frames 3-39"):
        track_video(s["dir"] / "talk.mp4", tmp_path / "o", embedding=s["emb"], landmarker=mostly_lost, progress=False)
    assert not (tmp_path / "o").exists()


def test_small_face_is_refused(setup, tmp_path):
    s = setup
    c = s["pts"].mean(1, keepdims=True)
    tiny = oracle_landmarker((s["pts"] - c) * 0.3 + c, 0.0)
    with pytest.raises(InputError, match="64 px"):
        track_video(s["dir"] / "talk.mp4", tmp_path / "o", embedding=s["emb"], landmarker=tiny, progress=False)


def test_stale_partial_folder_is_removed_on_rerun(setup, tmp_path):
    s = setup
    stale = tmp_path / ".clip.partial-123-abcdef12"
    stale.mkdir()
    (stale / "flame.npz").write_bytes(b"half")
    out = track_video(
        s["dir"] / "silent.mp4",
        tmp_path / "clip",
        size=64,
        embedding=s["emb"],
        landmarker=oracle_landmarker(s["pts"]),
        segment=False,
        progress=False,
        cfg=FAST,
    )
    assert not stale.exists() and ClipReader(out).n_frames == 30
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip"]


def test_failure_while_writing_frames_leaves_nothing_and_keeps_the_old_clip(setup, tmp_path, monkeypatch):
    # an error in the second pass (frames + masks being written) removes the partial folder and the half-encoded
    # video, and a clip already at `out` survives untouched
    import ggtalker_nb.data.track as trk

    s = setup
    kw = dict(
        size=64, embedding=s["emb"], landmarker=oracle_landmarker(s["pts"]), segment=False, progress=False, cfg=FAST
    )
    out = track_video(s["dir"] / "silent.mp4", tmp_path / "clip", **kw)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    calls = []

    def failing_masks(*a, **k):
        calls.append(1)
        if len(calls) == 2:  # the first chunk is already in the encoder
            raise RuntimeError("disk full")
        return real(*a, **k)

    real = trk.tracked_masks  # the masks of each chunk, written with its frames
    monkeypatch.setattr(trk, "tracked_masks", failing_masks)
    with pytest.raises(RuntimeError, match="disk full"):
        track_video(s["dir"] / "silent.mp4", tmp_path / "clip", chunk=8, overwrite=True, **kw)
    assert len(calls) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip"]  # no partial folder, no stray video
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


@pytest.mark.parametrize("kind", ["rgba", "uint16", "float", "huge"])
def test_fit_photo_accepts_odd_photos(setup, kind):
    s = setup
    img = s["r"].frame(0)
    pts = s["pts"][:1]
    if kind == "rgba":
        img = np.concatenate([img, np.full(img.shape[:2] + (1,), 255, np.uint8)], -1)
    elif kind == "uint16":
        img = img.astype(np.uint16) * 257
    elif kind == "float":
        img = img.astype(np.float32) / 255
    elif kind == "huge":
        img = np.repeat(np.repeat(img, 12, 0), 12, 1)  # 3072², decimated to ≤ 2048 before detection
        seen = {}

        def lm(im):
            seen["shape"] = im.shape
            k = im.shape[0] / 256
            return oracle_landmarker(pts * k, 0.0)(im[None])

        ref = fit_photo(img, embedding=s["emb"], landmarker=lm, segment=False, size=64, cfg=FAST)
        assert max(seen["shape"][:2]) <= 2048 and ref["fit_error_px"] < 2.0
        return
    ref = fit_photo(
        img,
        embedding=s["emb"],
        landmarker=lambda im: oracle_landmarker(pts, 0.5)(im[None]),
        segment=False,
        size=64,
        cfg=FAST,
    )
    assert ref["image"].shape == (1, 64, 64, 3) and ref["fit_error_px"] < 2.0
    assert ref["flame"]["expr"].shape == (1, s["fl"].n_expr)
