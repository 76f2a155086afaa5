"""The hidden neck (#16.3): the occlusion-edge band, hidden_neck='prior', resuming runs from before these settings, and
the body frames' occluders through fit_body, the body file and compose (tiny sizes)."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from ggtalker_nb.adapt.ev import (
    CKPT,
    EVAdaptConfig,
    _hidden_neck,
    adapt_ev,
    fit_body,
    load_identity_frames,
    neck_faces_of,
)
from ggtalker_nb.avatar.body import BodyModel, dilate
from ggtalker_nb.avatar.runtime import render_batch
from ggtalker_nb.core import InputError, data_samples_path, load_safetensors, save_safetensors
from ggtalker_nb.data.synthtalk import sample_head_flame
from ggtalker_nb.data.video import ClipReader
from ggtalker_nb.e2v.generator import neutral_vertices
from ggtalker_nb.gaussians.uvmap import UVMapSpec, uv_texel_table, uvmap_to_gaussians
from ggtalker_nb.geometry import Camera
from ggtalker_nb.render.mesh import rasterize
from ggtalker_nb.avatar.runtime import posed_vertices

MINI = data_samples_path("synthtalk_mini")
CFG = EVAdaptConfig(
    uv_res=32,
    image_size=48,
    phase1_steps=3,
    phase2_steps=3,
    batch_frames=1,
    eval_every=0,
    lr_map=3e-2,
    progress=False,
    color_mlp=False,
)


@pytest.fixture(scope="module")
def clip():
    return ClipReader(MINI / "id0002_c000").load()


def test_band_grows_the_hidden_neck_on_the_mesh(clip):
    f = sample_head_flame()
    idf = load_identity_frames([clip], f.n_expr, 64)
    i = torch.arange(3)
    cams = Camera(idf.viewmat[i], idf.K[i], idf.width, idf.height)
    shape = torch.as_tensor(idf.shape).float()[: f.n_shape]
    faces = neck_faces_of(f)
    h0 = _hidden_neck(f, shape, idf.params[i], cams, faces, idf.masks[i])
    h2 = _hidden_neck(f, shape, idf.params[i], cams, faces, idf.masks[i], band_px=2)
    mesh = rasterize(posed_vertices(f, shape, idf.params[i]), f.faces, cams).face_id.reshape(h0.shape) >= 0
    assert h0.any() and (h0 <= h2).all() and (h2 <= mesh).all()
    test = dilate(h0, 2) & mesh  # exactly: the mesh pixels within 2 px (square) of the hidden neck
    assert torch.equal(h2, test)
    assert (h2 & idf.masks[i]).any()  # the band reaches into the mask: the mixed pixels at the occlusion edge


def _render_hidden_error(M, M0, f, idf, spec, table):
    "Mean |render(M) − render(M0)| over the hidden-neck pixels of the first frames."
    i = torch.arange(4)
    shape = torch.as_tensor(idf.shape).float()[: f.n_shape]
    cams = Camera(idf.viewmat[i], idf.K[i], idf.width, idf.height)
    hid = _hidden_neck(f, shape, idf.params[i], cams, neck_faces_of(f), idf.masks[i])
    with torch.no_grad():
        nv = neutral_vertices(f, shape)
        a = render_batch(uvmap_to_gaussians(M, table, nv, f.faces, spec), None, f, shape, idf.params[i], idf.camera(i))
        b = render_batch(uvmap_to_gaussians(M0, table, nv, f.faces, spec), None, f, shape, idf.params[i], idf.camera(i))
    return float((a - b).abs()[hid].mean())


def test_prior_mode_keeps_the_hidden_neck_as_the_start_draws_it(clip):
    "'prior' asks the hidden neck to look as the starting map draws it; 'ignore' leaves it to whatever else pulls it."
    f = sample_head_flame()
    cfg = replace(CFG, phase1_steps=40, phase2_steps=0, batch_frames=2, lambda_prior=0.0, hidden_band_px=0)
    M0 = adapt_ev([clip], None, replace(cfg, phase1_steps=0)).uvmap
    idf = load_identity_frames([clip], f.n_expr, 48)
    table = uv_texel_table(f.vt, f.ft, 32)
    err = {
        m: _render_hidden_error(
            adapt_ev([clip], None, replace(cfg, hidden_neck=m)).uvmap, M0, f, idf, UVMapSpec(), table
        )
        for m in ("ignore", "prior")
    }
    assert err["prior"] < 0.7 * err["ignore"], err
    with pytest.raises(InputError, match="hidden_neck"):
        EVAdaptConfig(hidden_neck="drop").validate()
    with pytest.raises(InputError, match="hidden_band_px"):
        EVAdaptConfig(hidden_band_px=-1).validate()


@pytest.mark.parametrize("mode,lam", [("prior", 1.0), ("prior", 0.0), ("ignore", 1.0)])
def test_resume_is_bit_identical(tmp_path, clip, mode, lam):
    "A run stopped in phase 2 and resumed ends bit for bit as one run ('prior' keeps its start map even unanchored)."
    cfg = replace(CFG, hidden_neck=mode, hidden_band_px=2, lambda_prior=lam)
    full = adapt_ev([clip], None, cfg, out_dir=tmp_path / "a")
    adapt_ev([clip], None, replace(cfg, phase2_steps=1), out_dir=tmp_path / "b")
    resumed = adapt_ev([clip], None, cfg, out_dir=tmp_path / "b")
    assert resumed.config["steps"] == 6
    assert torch.equal(resumed.uvmap, full.uvmap)
    np.testing.assert_array_equal(resumed.tracks[0].expr, full.tracks[0].expr)
    with pytest.raises(InputError, match="hidden_band_px"):  # a run's band cannot change on resume
        adapt_ev([clip], None, replace(cfg, hidden_band_px=1), out_dir=tmp_path / "b")


def test_a_run_keeps_its_neck_settings_on_resume(tmp_path, clip):
    """Where the caller leaves the defaults, a resumed run keeps its own `hidden_neck`/`hidden_band_px`; a checkpoint
    from before these fields continues as such runs were made (the neck faded, no band)."""
    d = EVAdaptConfig()
    cfg = replace(CFG, hidden_neck="ignore", hidden_band_px=2)
    full = adapt_ev([clip], None, cfg, out_dir=tmp_path / "a")
    adapt_ev([clip], None, replace(cfg, phase2_steps=1), out_dir=tmp_path / "b")
    plain = replace(cfg, hidden_neck=d.hidden_neck, hidden_band_px=d.hidden_band_px)
    resumed = adapt_ev([clip], None, plain, out_dir=tmp_path / "b")
    assert (resumed.config["hidden_neck"], resumed.config["hidden_band_px"]) == ("ignore", 2)
    assert torch.equal(resumed.uvmap, full.uvmap)
    # an old checkpoint: no hidden_neck, no hidden_band_px in its config
    old = replace(CFG, hidden_neck="transparent", hidden_band_px=0)
    full = adapt_ev([clip], None, old, out_dir=tmp_path / "c")
    adapt_ev([clip], None, replace(old, phase2_steps=1), out_dir=tmp_path / "d")
    t, m = load_safetensors(tmp_path / "d" / CKPT)
    m["config"] = {k: v for k, v in m["config"].items() if k not in ("hidden_neck", "hidden_band_px")}
    save_safetensors(t, tmp_path / "d" / CKPT, m)
    resumed = adapt_ev([clip], None, replace(plain, hidden_neck=d.hidden_neck), out_dir=tmp_path / "d")
    assert (resumed.config["hidden_neck"], resumed.config["hidden_band_px"]) == ("transparent", 0)
    assert torch.equal(resumed.uvmap, full.uvmap)


def test_fit_body_occluders_reach_the_front_view(tmp_path, clip):
    "fit_body's occluders survive the file; where they are set, compose shows the body frame whatever the head."
    res = adapt_ev([clip], None, replace(CFG, phase1_steps=2, phase2_steps=0))
    body = fit_body(res, [clip], steps=2, batch_size=2, max_frames=4, progress=False)
    occ = body.occluders
    assert occ is not None and occ.shape == body.masks.shape and occ.any() and not (occ & body.masks).any()
    body.save(tmp_path / "body.safetensors")
    b2 = BodyModel.load(tmp_path / "body.safetensors")
    assert torch.equal(b2.occluders, occ)
    K, H, W = occ.shape
    head = torch.cat([torch.rand(K, H, W, 3), torch.ones(K, H, W, 1)], -1)  # opaque everywhere
    with torch.no_grad():
        out = b2.compose(head, "loop")
    inner = ~dilate(~occ, 1)  # away from the feathered edge
    assert inner.any()
    torch.testing.assert_close(out[inner], b2.frames[inner].float() / 255, atol=0, rtol=0)
