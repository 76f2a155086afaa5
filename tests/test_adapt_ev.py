"Cross-module tests of E-V adaptation: phase 2 on a tracking-noise clip, PSNR gain, resume, bad inputs (tiny sizes)."

import numpy as np
import pytest
import torch

from ggtalker_nb.core import InputError, data_samples_path
from ggtalker_nb.data.synthtalk import add_tracking_noise, sample_head_flame
from ggtalker_nb.data.video import Clip, ClipReader
from ggtalker_nb.adapt.ev import EVAdaptConfig, adapt_ev, evaluate_heads, load_identity_frames, pack_track
from ggtalker_nb.avatar.runtime import split_params as _split

MINI = data_samples_path("synthtalk_mini")
T = 12


@pytest.fixture(scope="module")
def noisy_clip():
    "The first frames of the held-out mini clip, tracked with 3× SynthTalk's simulated tracking noise."
    c = ClipReader(MINI / "id0002_c000").load()
    clean = c.flame_clean.slice(0, T)
    noisy = add_tracking_noise(clean, np.random.default_rng(1), level=3.0)
    return Clip(c.frames[:T], noisy, c.camera, dict(c.meta), None, c.masks[:T], None, clean), clean


def _vertex_error_mm(track, shape, clean) -> float:
    f = sample_head_flame()
    p, q = _split(pack_track(track, f.n_expr), f.n_expr), _split(pack_track(clean, f.n_expr), f.n_expr)
    with torch.no_grad():
        a = f(torch.as_tensor(shape).float()[: f.n_shape], p["expr"], p["pose"], p["transl"]).vertices
        b = f(torch.as_tensor(clean.shape), q["expr"], q["pose"], q["transl"]).vertices
    return float((a - b).norm(dim=-1).mean() * 1000)


def _pose_error(track, clean) -> float:
    "RMS error of rotation, neck, jaw (radians) against the clean track."
    d = np.concatenate([track.rotation - clean.rotation, track.neck - clean.neck, track.jaw - clean.jaw], 1)
    return float(np.sqrt((d**2).mean()))


def test_phase2_reduces_flame_and_image_error(noisy_clip):
    torch.set_num_threads(1)
    clip, clean = noisy_clip
    base = dict(
        uv_res=32,
        image_size=48,
        phase1_steps=40,
        phase2_steps=70,
        batch_frames=2,
        eval_every=0,
        lr_map=3e-2,
        lr_flame=0.1,
        progress=False,
    )
    fixed = adapt_ev([clip], None, EVAdaptConfig(**base, refine_flame=False), eval_clips=[clip])
    refined = adapt_ev([clip], None, EVAdaptConfig(**base), eval_clips=[clip])
    # adapting improved the image over the mean-head start
    assert refined.history[-1]["psnr_eval"] > refined.history[0]["psnr_eval"] + 3
    # FLAME error against the clean parameters went down (vertices and pose)
    v0, v1 = (
        _vertex_error_mm(clip.flame, clip.flame.shape, clean),
        _vertex_error_mm(refined.tracks[0], refined.shape, clean),
    )
    p0, p1 = _pose_error(clip.flame, clean), _pose_error(refined.tracks[0], clean)
    print("vertex mm", v0, v1, "pose", _pose_error(clip.flame, clean), _pose_error(refined.tracks[0], clean))
    assert v1 < 0.9 * v0, (v0, v1)
    assert p1 < p0, (p0, p1)
    # and the image error on the training frames is lower than with the noisy tracks frozen
    f = sample_head_flame()
    idf = load_identity_frames([clip], f.n_expr, 48)
    e_fixed = evaluate_heads(fixed.gaussians.local(), fixed.color_mlp, f, fixed.shape, idf, torch.arange(T))
    e_ref = evaluate_heads(
        refined.gaussians.local(),
        refined.color_mlp,
        f,
        refined.shape,
        idf,
        torch.arange(T),
        pack_track(refined.tracks[0], f.n_expr),
    )
    print(e_fixed, e_ref)
    assert e_ref["psnr_head"] > e_fixed["psnr_head"] + 0.5, (e_fixed, e_ref)


def test_resume_same_result(tmp_path, noisy_clip):
    clip, _ = noisy_clip
    cfg = EVAdaptConfig(
        uv_res=32,
        image_size=32,
        phase1_steps=2,
        phase2_steps=2,
        batch_frames=1,
        eval_every=0,
        progress=False,
        color_mlp=False,
    )
    full = adapt_ev([clip], None, cfg, out_dir=tmp_path / "a")
    # stop in the middle of phase 2, then resume to the end
    from dataclasses import replace

    adapt_ev([clip], None, replace(cfg, phase2_steps=1), out_dir=tmp_path / "b")
    resumed = adapt_ev([clip], None, cfg, out_dir=tmp_path / "b")
    assert resumed.config["steps"] == 4 and resumed.color_mlp is None
    torch.testing.assert_close(resumed.uvmap, full.uvmap, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(resumed.tracks[0].expr, full.tracks[0].expr, atol=1e-6)


def test_prior_anchor_holds_the_map_and_resumes(tmp_path, noisy_clip):
    "lambda_prior pulls the map back to its start (the prior's map); the start is checkpointed, so a resume matches."
    from dataclasses import replace

    clip, _ = noisy_clip
    cfg = EVAdaptConfig(
        uv_res=32,
        image_size=32,
        phase1_steps=6,
        phase2_steps=2,
        batch_frames=1,
        eval_every=0,
        lr_map=3e-2,
        progress=False,
        color_mlp=False,
    )
    start = adapt_ev([clip], None, replace(cfg, phase1_steps=0, phase2_steps=0)).uvmap
    free = adapt_ev([clip], None, replace(cfg, lambda_prior=0.0)).uvmap
    held = adapt_ev([clip], None, replace(cfg, lambda_prior=1e4)).uvmap
    drift_free, drift_held = (free - start).abs().mean().item(), (held - start).abs().mean().item()
    assert drift_held < 0.5 * drift_free, (drift_free, drift_held)
    # stop in phase 2, resume to the end: the anchor is the run's start, not the checkpoint's map
    c = replace(cfg, lambda_prior=1e2)
    full = adapt_ev([clip], None, c, out_dir=tmp_path / "a").uvmap
    adapt_ev([clip], None, replace(c, phase2_steps=1), out_dir=tmp_path / "b")
    resumed = adapt_ev([clip], None, c, out_dir=tmp_path / "b").uvmap
    torch.testing.assert_close(resumed, full, atol=1e-5, rtol=1e-5)
    from safetensors.torch import load_file

    from ggtalker_nb.adapt.ev import CKPT

    ck = load_file(tmp_path / "b" / CKPT)
    torch.testing.assert_close(ck["uvmap_start"], start)  # the checkpoint keeps the start, not only the current map
    assert not torch.equal(ck["uvmap"], start)
    with pytest.raises(InputError, match="lambda_prior"):  # a run's settings cannot change on resume
        adapt_ev([clip], None, replace(c, lambda_prior=3.0), out_dir=tmp_path / "a")
    with pytest.raises(InputError, match="lambda_prior"):
        EVAdaptConfig(lambda_prior=-1.0).validate()


def test_texel_coverage_sees_the_front_not_the_back(noisy_clip):
    from ggtalker_nb.adapt.ev import texel_coverage
    from ggtalker_nb.e2v.generator import texel_points
    from ggtalker_nb.gaussians.uvmap import uv_texel_table

    clip, _ = noisy_clip
    f = sample_head_flame()
    idf = load_identity_frames([clip], f.n_expr, 64)
    table = uv_texel_table(f.vt, f.ft, 32)
    shape = torch.as_tensor(idf.shape).float()[: f.n_shape]
    cover = texel_coverage(f, shape, idf, table, n_frames=4)
    assert cover.shape == (32, 32) and 0 <= cover.min() and cover.max() <= 1
    # independent check on the first frame's posed mesh: texels turned away from the camera are never covered
    p = _split(idf.params[:1], f.n_expr)
    with torch.no_grad():
        v = f(shape, p["expr"], p["pose"], p["transl"]).vertices
    pts, nrm = texel_points(v, f.faces, table)
    R, t = idf.viewmat[0, :3, :3], idf.viewmat[0, :3, 3]
    facing = (nrm[0] * torch.nn.functional.normalize(-R.T @ t - pts[0], dim=-1)).sum(-1)
    c = table.gather(cover[None])[:, 0]  # per texel with a Gaussian
    assert len(c) == len(facing)
    away = facing < -0.2
    assert away.sum() > 50 and (c[away] == 0).all()
    assert (c[facing > 0.8] > 0.5).float().mean() > 0.5  # most squarely seen texels count as well covered


def test_hidden_neck_ignore_keeps_the_neck(noisy_clip):
    "The head mask leaves out the lower neck: 'transparent' fades those Gaussians, 'ignore' leaves them alone."
    from dataclasses import replace

    from ggtalker_nb.adapt.ev import _hidden_neck
    from ggtalker_nb.gaussians.uvmap import UVMapSpec, uv_texel_table
    from ggtalker_nb.geometry import Camera

    clip, _ = noisy_clip
    f = sample_head_flame()
    idf = load_identity_frames([clip], f.n_expr, 48)
    neck = torch.zeros(f.n_verts, dtype=torch.bool)
    neck[torch.as_tensor(f.masks["neck"]).long()] = True
    neck_faces = neck[f.faces].all(1)
    i = torch.arange(2)
    cams = Camera(idf.viewmat[i], idf.K[i], idf.width, idf.height)
    shape = torch.as_tensor(idf.shape).float()[: f.n_shape]
    hidden = _hidden_neck(f, shape, idf.params[i], cams, neck_faces, idf.masks[i])
    assert hidden.any() and not (hidden & idf.masks[i]).any()  # some neck pixels, none inside the mask
    cfg = EVAdaptConfig(
        uv_res=32,
        image_size=48,
        phase1_steps=60,
        phase2_steps=0,
        batch_frames=2,
        eval_every=0,
        lr_map=3e-2,
        progress=False,
        color_mlp=False,
    )
    table = uv_texel_table(f.vt, f.ft, 32)
    texel_neck = neck_faces[table.face_id]  # texels on neck triangles
    op = UVMapSpec.opacity

    def neck_opacity(mode):
        M = adapt_ev([clip], None, replace(cfg, hidden_neck=mode)).uvmap
        return torch.sigmoid(table.gather(M[op])[texel_neck, 0]).mean().item()

    start = torch.sigmoid(table.gather(adapt_ev([clip], None, replace(cfg, phase1_steps=0)).uvmap[op])[texel_neck, 0])
    start = start.mean().item()
    kept, faded = neck_opacity("ignore"), neck_opacity("transparent")
    assert faded < kept - 0.03 and kept < start, (start, kept, faded)  # both fit, 'transparent' fades the neck more
    with pytest.raises(InputError, match="hidden_neck"):
        EVAdaptConfig(hidden_neck="drop").validate()


def test_bad_inputs(noisy_clip, tmp_path):
    clip, _ = noisy_clip
    with pytest.raises(InputError, match="one identity"):
        adapt_ev([clip, MINI / "id0001_c000"], cfg=EVAdaptConfig(progress=False))
    no_masks = Clip(clip.frames, clip.flame, clip.camera, dict(clip.meta), None, None)
    with pytest.raises(InputError, match="no head masks"):
        adapt_ev([no_masks], cfg=EVAdaptConfig(progress=False))
    with pytest.raises(InputError, match="uv_res"):
        adapt_ev([clip], cfg=EVAdaptConfig(uv_res=2))
    with pytest.raises(InputError, match="empty"):
        adapt_ev([], cfg=EVAdaptConfig(progress=False))
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "ckpt.safetensors").write_bytes(b"not a checkpoint")
    with pytest.warns(UserWarning, match="cannot resume"):  # a corrupt checkpoint is skipped with a warning
        r = adapt_ev(
            [clip],
            None,
            EVAdaptConfig(uv_res=32, image_size=32, phase1_steps=1, phase2_steps=0, eval_every=0, progress=False),
            out_dir=tmp_path / "c",
        )
    assert r.config["steps"] == 1


def test_prior_init_resampled(noisy_clip):
    "A generator map of another resolution is resampled to `uv_res`; its colours (from the reference frame) are kept."
    from ggtalker_nb.e2v.generator import E2VConfig, IdentityGaussianGenerator
    from ggtalker_nb.gaussians.uvmap import uv_texel_table

    clip, _ = noisy_clip
    f = sample_head_flame()
    torch.manual_seed(0)
    gen = IdentityGaussianGenerator(f, E2VConfig.tiny())  # uv 32
    cfg = EVAdaptConfig(uv_res=64, image_size=64, phase1_steps=0, phase2_steps=0, color_mlp=False, progress=False)
    r = adapt_ev([clip], gen, cfg, eval_clips=[clip])
    assert r.gaussians.n == uv_texel_table(f.vt, f.ft, 64).n
    assert r.gaussians.colors.std() > 0.02  # not a uniform grey map
    scratch = adapt_ev([clip], None, cfg, eval_clips=[clip])
    assert r.history[0]["psnr_head"] > scratch.history[0]["psnr_head"]  # the prior's start beats the mean head
