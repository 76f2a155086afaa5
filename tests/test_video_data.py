"""Clip format round trips (property-based), the GaussianAvatars/VHAP conversion, atomic writing and the datasets of
`ggtalker_nb.data.video`."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings, strategies as st

import ggtalker_nb.data.video as V
from ggtalker_nb.core import AssetError, InputError
from ggtalker_nb.data.video import (
    AUDIO_SR,
    AudioMotionDataset,
    Clip,
    ClipCache,
    ClipReader,
    FlameTrack,
    FramePairDataset,
    IdentityFramesDataset,
    convert_transforms,
    list_clips,
    make_transforms_folder,
    opengl_c2w_to_viewmat,
    read_clip,
    remove_partials,
    write_clip,
)
from ggtalker_nb.geometry import Camera, orbit_camera


def toy_clip(T=5, W=20, H=14, E=4, S=6, seed=0, batched=True, static=False, fps=25.0):
    rng = np.random.default_rng(seed)
    fl = FlameTrack(
        rng.normal(size=S),
        rng.normal(size=(T, E)),
        *(rng.normal(size=(T, d)) * 0.1 for d in (3, 3, 3, 6, 3)),
        static_offset=rng.normal(size=(30, 3)) * 1e-3 if static else None,
    )
    cam = orbit_camera(torch.linspace(-30, 30, T) if batched else 10.0, 5.0, 1.1, width=W, height=H)
    return Clip(
        (rng.random((T, H, W, 3)) * 255).astype(np.uint8),
        fl,
        cam,
        dict(fps=fps, identity="p", split="train"),
        (rng.normal(size=int(T * AUDIO_SR / fps)) * 0.1).astype(np.float32),
        rng.random((T, H, W)) > 0.5,
        rng.random((T, 68, 2)).astype(np.float32) * W,
        None,
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    T=st.integers(1, 6),
    W=st.integers(3, 17),
    H=st.integers(3, 17),
    E=st.integers(1, 8),
    batched=st.booleans(),
    static=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_png_round_trip_is_exact(tmp_path_factory, T, W, H, E, batched, static, seed):
    d = tmp_path_factory.mktemp("rt")
    c = toy_clip(T, W, H, E, seed=seed, batched=batched, static=static)
    write_clip(d / "c", c, frames_format="png")
    r = read_clip(d / "c")
    np.testing.assert_array_equal(r.frames, c.frames)
    np.testing.assert_array_equal(r.masks, c.masks)
    for k, v in c.flame.to_dict().items():
        np.testing.assert_array_equal(r.flame.to_dict()[k], v)
    assert (r.flame.static_offset is None) == (not static)
    torch.testing.assert_close(r.camera.viewmat, c.camera.viewmat)
    torch.testing.assert_close(r.camera.K, c.camera.K)
    np.testing.assert_allclose(r.audio, c.audio, atol=1 / 32767 + 1e-6)
    assert r.meta["n_frames"] == T and r.meta["width"] == W and r.meta["height"] == H


def test_mp4_frames_close(tmp_path):
    np.random.default_rng(0)
    c = toy_clip(T=8, W=32, H=32)
    y, x = np.mgrid[:32, :32]
    c.frames = np.stack(
        [np.stack([(x * 8 + t) % 256, (y * 8) % 256, np.full_like(x, 128)], -1) for t in range(8)]
    ).astype(np.uint8)
    write_clip(tmp_path / "c", c)
    f = ClipReader(tmp_path / "c").frames()
    assert f.shape == c.frames.shape
    assert np.abs(f.astype(float) - c.frames).mean() < 4  # CRF 18 on a smooth pattern


def _gl_project(c2w_gl, K, p):
    "Reference: project a world point with an OpenGL camera (looks down -z, y up) to pixels (y down)."
    pc = np.linalg.inv(c2w_gl) @ np.append(p, 1.0)
    x, y, z = pc[:3]
    return np.array([K[0, 2] + K[0, 0] * x / -z, K[1, 2] - K[1, 1] * y / -z]), -z


def test_opengl_conversion_matches_a_reference_projection():
    rng = np.random.default_rng(3)
    for _ in range(20):
        # a random OpenGL camera looking roughly at the origin
        eye = rng.normal(size=3)
        eye = eye / np.linalg.norm(eye) * rng.uniform(0.5, 3)
        back = eye / np.linalg.norm(eye)  # OpenGL +z points away from the target
        right = np.cross([0, 1, 0], back)
        right /= np.linalg.norm(right)
        up = np.cross(back, right)
        c2w = np.eye(4)
        c2w[:3, :3] = np.stack([right, up, back], 1)
        c2w[:3, 3] = eye
        K = np.array([[300.0, 0, 64], [0, 310.0, 48], [0, 0, 1]])
        cam = Camera(torch.tensor(opengl_c2w_to_viewmat(c2w), dtype=torch.float64), torch.tensor(K), 128, 96)
        p = rng.normal(size=3) * 0.1
        uv_ref, z_ref = _gl_project(c2w, K, p)
        uv, z = cam.project(torch.tensor(p)[None])
        np.testing.assert_allclose(uv[0].numpy(), uv_ref, atol=1e-8)
        np.testing.assert_allclose(z.item(), z_ref, atol=1e-10)


def test_transforms_folder_multi_camera_and_conversion(tmp_path):
    c = toy_clip(T=6, static=True)
    src = make_transforms_folder(tmp_path / "vhap", c, split_names=("train", "val", "test"))
    # add a second camera to every frame and shuffle the frame order, as multi-view exports do
    for f in src.glob("transforms_*.json"):
        d = json.loads(f.read_text())
        extra = []
        for fr in d["frames"]:
            g = dict(
                fr,
                camera_index=3,
                transform_matrix=(np.array(fr["transform_matrix"]) @ np.diag([1, 1, 1, 1.0])).tolist(),
            )
            g["transform_matrix"][0][3] += 0.5
            extra.append(g)
        d["frames"] = (d["frames"] + extra)[::-1]
        f.write_text(json.dumps(d))
    r0, r3 = ClipReader(src), ClipReader(src, camera_index=3)
    assert r0.meta["camera_index"] == 0 and r3.meta["camera_index"] == 3
    torch.testing.assert_close(r0.camera.viewmat, c.camera.viewmat, atol=1e-5, rtol=0)
    assert not torch.allclose(r3.camera.viewmat, c.camera.viewmat, atol=1e-3)
    np.testing.assert_allclose(r0.flame.expr, c.flame.expr, atol=1e-6)
    np.testing.assert_allclose(r0.flame.static_offset, c.flame.static_offset, atol=1e-7)
    with pytest.raises(InputError, match="camera_index 7"):
        ClipReader(src, camera_index=7)
    out = convert_transforms(src, tmp_path / "ours", meta=dict(text="converted"), frames_format="png")
    r = ClipReader(out)
    assert r.kind == "ggtalker" and r.meta["text"] == "converted"
    np.testing.assert_array_equal(r.frames(), c.frames)
    np.testing.assert_array_equal(r.masks, c.masks)
    torch.testing.assert_close(r.camera.viewmat, c.camera.viewmat, atol=1e-5, rtol=0)


def test_transforms_top_level_intrinsics_and_missing_keys(tmp_path):
    c = toy_clip(T=3, batched=False)
    src = make_transforms_folder(tmp_path / "v", c, split_names=())
    d = json.loads((src / "transforms.json").read_text())
    K = d["frames"][0]
    top = {k: K[k] for k in ("fl_x", "fl_y", "cx", "cy", "w", "h")}
    for fr in d["frames"]:
        for k in top:
            fr.pop(k)
    (src / "transforms.json").write_text(json.dumps(dict(top, frames=d["frames"], fps=30)))
    r = ClipReader(src)
    assert r.fps == 30.0
    torch.testing.assert_close(r.camera.K[0], c.camera.K, atol=1e-5, rtol=0)
    np.savez(src / "flame_param" / "00001.npz", rotation=np.zeros((1, 3)))
    with pytest.raises(AssetError, match="missing FLAME keys"):
        ClipReader(src).flame


def test_interrupted_write_leaves_no_clip(tmp_path, monkeypatch):
    c = toy_clip()

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(V, "write_wav", boom)
    with pytest.raises(KeyboardInterrupt):
        write_clip(tmp_path / "c", c)
    assert not (tmp_path / "c").exists() and list_clips(tmp_path) == []
    # a crash that could not clean up leaves a hidden partial folder: ignored, then removed
    (tmp_path / ".c.partial-1-abc").mkdir()
    (tmp_path / ".c.partial-1-abc" / "meta.json").write_text("{}")
    assert list_clips(tmp_path) == [] and remove_partials(tmp_path) == 1


def test_bad_files_give_clear_errors(tmp_path):
    c = toy_clip()
    write_clip(tmp_path / "c", c, frames_format="png")
    m = json.loads((tmp_path / "c" / "meta.json").read_text())
    (tmp_path / "c" / "meta.json").write_text(json.dumps(dict(m, version=99)))
    with pytest.raises(AssetError, match="newer"):
        ClipReader(tmp_path / "c")
    (tmp_path / "c" / "meta.json").write_text(json.dumps(m))
    (tmp_path / "c" / "flame.npz").unlink()
    with pytest.raises(AssetError, match="flame.npz"):
        ClipReader(tmp_path / "c").flame
    with pytest.raises(InputError, match="frames"):
        write_clip(tmp_path / "d", replace(c, frames=c.frames[:2]))
    with pytest.raises(InputError, match="no such"):
        ClipReader(tmp_path / "nope")


def test_datasets_with_dataloader_and_bounded_cache(tmp_path):
    for n in range(5):
        c = toy_clip(T=12, seed=n)
        c.meta.update(identity=f"p{n % 2}", split="train" if n < 4 else "test")
        write_clip(tmp_path / f"c{n}", c, frames_format="png")
    am = AudioMotionDataset(tmp_path, window=6, stride=6, split="train", with_pose=True, cache_size=2)
    assert len(am) == 8
    batch = next(iter(torch.utils.data.DataLoader(am, batch_size=4, shuffle=False)))
    assert (
        batch["audio"].shape == (4, 6 * 640) and batch["expr"].shape == (4, 6, 4) and batch["neck"].shape == (4, 6, 3)
    )
    for i in range(len(am)):
        am[i]
    assert len(am.cache) <= 2
    fp = FramePairDataset(tmp_path, split="train", seed=0, same_clip=True)
    for i in range(0, len(fp), 7):
        assert fp.frames[fp.source_index(i)][0] == fp.frames[i][0]
    fp.set_epoch(1)
    a = [fp.source_index(i) for i in range(10)]
    fp.set_epoch(2)
    assert a != [fp.source_index(i) for i in range(10)]
    pb = next(iter(torch.utils.data.DataLoader(fp, batch_size=3)))
    assert pb["source_image"].shape == (3, 14, 20, 3) and pb["target_flame"]["jaw"].shape == (3, 3)
    idf = IdentityFramesDataset(tmp_path, "p1")
    assert len(idf) == 24 and set(idf.metas[j]["identity"] for j in range(len(idf.clips))) == {"p1"}


def test_clip_cache_evicts_least_recent(tmp_path):
    for n in range(3):
        write_clip(tmp_path / f"c{n}", toy_clip(seed=n), frames_format="png")
    cache = ClipCache(2)
    a = cache(tmp_path / "c0")
    cache(tmp_path / "c1")
    cache(tmp_path / "c0")
    cache(tmp_path / "c2")
    assert cache(tmp_path / "c0") is a and len(cache) == 2
    with pytest.raises(InputError):
        ClipCache(0)
