"Colour settings: EVAdaptConfig.color_fourier and color_deform reach the colour MLP; old runs and files keep theirs."

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from ggtalker_nb.adapt.ev import EVAdaptConfig, adapt_ev
from ggtalker_nb.avatar.color import ColorMLP
from ggtalker_nb.core import InputError, data_samples_path, load_safetensors
from ggtalker_nb.data.video import Clip, ClipReader

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "train_v0"


@pytest.fixture(scope="module")
def clip():
    c = ClipReader(data_samples_path("synthtalk_mini") / "id0002_c000").load()
    return Clip(c.frames[:6], c.flame.slice(0, 6), c.camera, dict(c.meta), None, c.masks[:6])


def _cfg(**kw):
    return EVAdaptConfig(
        uv_res=16, image_size=16, phase1_steps=1, phase2_steps=0, batch_frames=1, eval_every=0, progress=False, **kw
    )


@pytest.mark.parametrize("fourier", [2, 7])
def test_adapt_ev_builds_the_colour_mlp_from_its_config(clip, fourier):
    r = adapt_ev([clip], None, _cfg(color_fourier=fourier))
    assert r.color_mlp.config["fourier"] == fourier
    assert r.config["color_fourier"] == fourier


def test_color_fourier_is_checked():
    with pytest.raises(InputError, match="color_fourier"):
        _cfg(color_fourier=-1).validate()


def test_a_run_from_before_the_field_resumes_with_its_own_colour_settings(clip, tmp_path):
    "A checkpoint written before `color_fourier` existed (4 octaves) resumes with the default config, unchanged."
    out = tmp_path / "ev"
    out.mkdir()
    shutil.copy(FIXTURES / "ev_adapt_ckpt.safetensors", out / "ckpt.safetensors")
    t_old, m_old = load_safetensors(out / "ckpt.safetensors")
    assert "color_fourier" not in m_old["config"]
    cfg = EVAdaptConfig(
        uv_res=16,
        image_size=16,
        phase1_steps=1,
        phase2_steps=1,
        batch_frames=1,
        eval_every=0,
        ckpt_every=1,
        progress=False,
    )
    r = adapt_ev([clip], None, cfg, out_dir=out)  # at its end already: loads, no step
    assert r.config["color_fourier"] == 4 and r.config["lr_color"] == m_old["config"]["lr_color"]
    assert r.color_mlp.config["fourier"] == 4
    for k, v in r.color_mlp.state_dict().items():
        assert torch.equal(v, t_old[f"mlp.{k}"]), k
    # a run that asks for other colour settings explicitly is refused, as for any other setting
    other = 3 if cfg.color_fourier != 3 else 5
    with pytest.raises(InputError, match="other settings"):
        adapt_ev([clip], None, replace(cfg, color_fourier=other), out_dir=out)


def test_the_shipped_identity_keeps_its_colour_mlp():
    "Identity folders store the colour MLP's own config: a change of the adaptation defaults does not touch them."
    f = data_samples_path("identity_sample") / "color_mlp.safetensors"
    t, m = load_safetensors(f)
    mlp = ColorMLP.load(f)
    assert mlp.config == m["config"]
    for k, v in mlp.state_dict().items():
        assert torch.equal(v, t[k]), k


# --- the deformation input (EVAdaptConfig.color_deform → ColorMLP(deform_dims=4), features from avatar.runtime)


@pytest.mark.parametrize("deform", [False, True])
def test_adapt_ev_builds_the_colour_mlp_with_or_without_the_deformation_input(clip, deform):
    r = adapt_ev([clip], None, _cfg(color_deform=deform))
    assert r.config["color_deform"] == deform
    assert r.color_mlp.config.get("deform_dims", 0) == (4 if deform else 0)
    assert (r.color_mlp.first_d is not None) == deform


def test_a_run_from_before_the_deformation_input_resumes_without_it(clip, tmp_path):
    "A checkpoint written before `color_deform` existed resumes without the input, its MLP unchanged."
    out = tmp_path / "ev"
    out.mkdir()
    shutil.copy(FIXTURES / "ev_adapt_ckpt.safetensors", out / "ckpt.safetensors")
    t_old, m_old = load_safetensors(out / "ckpt.safetensors")
    assert "color_deform" not in m_old["config"]
    cfg = EVAdaptConfig(
        uv_res=16, image_size=16, phase1_steps=1, phase2_steps=1, batch_frames=1, eval_every=0, ckpt_every=1
    )
    cfg = replace(cfg, progress=False)
    r = adapt_ev([clip], None, cfg, out_dir=out)  # at its end already: loads, no step
    assert r.config["color_deform"] is False and "deform_dims" not in r.color_mlp.config
    assert {f"mlp.{k}" for k in r.color_mlp.state_dict()} == {k for k in t_old if k.startswith("mlp.")}
    for k, v in r.color_mlp.state_dict().items():
        assert torch.equal(v, t_old[f"mlp.{k}"]), k
    # and goes on without it (the checkpoint now records color_deform=False; the default leaves it so)
    r = adapt_ev([clip], None, replace(cfg, phase2_steps=2), out_dir=out)
    assert r.config["steps"] == 3 and r.config["color_deform"] is False and r.color_mlp.first_d is None


@pytest.fixture(scope="module")
def sample():
    from ggtalker_nb.avatar.identity import load_identity

    return load_identity(data_samples_path("identity_sample"))


def _old_format_mlp(mlp, path):
    "Write `mlp` without the deformation input as files from before the field were written (no deform_dims key)."
    from ggtalker_nb.core import save_safetensors

    config = {k: v for k, v in mlp.config.items() if k != "deform_dims"}
    state = {k: v for k, v in mlp.state_dict().items() if k != "first_d.weight"}
    save_safetensors(state, path, {"kind": "ColorMLP", "config": config, "enabled": True})
    return path


def test_an_identity_from_before_the_field_renders_as_before(sample, tmp_path):
    """A colour-MLP file from before the field loads without the input and re-saves to the same metadata; render_batch
    with it = the colour MLP applied exactly as before the field, then rendered."""
    from ggtalker_nb.avatar.runtime import color_pose, pack_track, posed_vertices, render_batch, split_params
    from ggtalker_nb.render.gaussians import render

    ident, flame = sample
    f = _old_format_mlp(ident.color_mlp, tmp_path / "old.safetensors")
    mlp = ColorMLP.load(f).eval()
    assert "deform_dims" not in mlp.config and mlp.first_d is None and mlp.deform_dims == 0
    mlp.save(tmp_path / "again.safetensors")
    assert load_safetensors(tmp_path / "again.safetensors")[1] == load_safetensors(f)[1]
    cam = ident.camera
    cam = type(cam)(cam.viewmat, cam.K * torch.tensor([[0.25], [0.25], [1.0]]), 64, 64)
    params = pack_track({k: v[:2] for k, v in ident.pose.items()}, flame.n_expr)
    with torch.no_grad():
        lg = ident.gaussians.local()
        new = render_batch(lg, mlp, flame, ident.shape, params, cam)
        parts = split_params(params, flame.n_expr)
        world = lg.to_world(posed_vertices(flame, ident.shape, params), flame.faces)
        colors = mlp(lg.colors, None, parts["expr"], color_pose(parts))  # the call before the field
        world = replace(world, colors=colors)
        old = render(world, cam).rgba
    assert torch.equal(new, old[:, 0] if old.ndim == 5 else old)


def test_an_identity_with_the_deformation_input_saves_and_loads(sample, tmp_path):
    "The input's switch travels in the colour MLP file's config; the identity folder's checks accept the extra weight."
    from dataclasses import replace as dc_replace

    from ggtalker_nb.avatar.identity import load_identity, save_identity
    from ggtalker_nb.avatar.runtime import render_frames

    ident, flame = sample
    torch.manual_seed(0)
    mlp = ColorMLP(flame.n_expr, 6, deform_dims=4).set_uv(ident.color_mlp.uv)  # whatever the sample has
    with torch.no_grad():
        mlp.out.weight.normal_(0, 0.1)
    save_identity(tmp_path / "id", dc_replace(ident, color_mlp=mlp.eval()))
    back, _ = load_identity(tmp_path / "id")
    assert back.color_mlp.config["deform_dims"] == 4
    for k, v in mlp.state_dict().items():
        assert torch.equal(v, back.color_mlp.state_dict()[k]), k
    cam = ident.camera
    cam = type(cam)(cam.viewmat, cam.K * torch.tensor([[0.25], [0.25], [1.0]]), 64, 64)
    track = {k: v[:2] for k, v in ident.pose.items()}
    a = render_frames(back.gaussians, back.color_mlp, flame, back.shape, track, cam)
    b = render_frames(back.gaussians, None, flame, back.shape, track, cam)
    assert torch.equal(a, render_frames(ident.gaussians, mlp, flame, ident.shape, track, cam))
    assert not torch.equal(a, b)  # the deformation-fed MLP does recolour


def test_the_deformation_input_is_differentiable():
    "Gradcheck of the MLP in its deformation input (inside the clip range), and the chain FLAME → features → colours."
    from ggtalker_nb.avatar.runtime import deform_features, neutral_vertices, posed_vertices
    from ggtalker_nb.sample_head import sample_head_flame

    torch.manual_seed(0)
    m = ColorMLP(3, 2, hidden=8, layers=2, fourier=2, deform_dims=4).double()
    with torch.no_grad():
        m.out.weight.normal_(0, 0.3)
    base, uv = torch.rand(5, 3, dtype=torch.double), torch.rand(5, 2, dtype=torch.double)
    expr, pose = torch.randn(2, 3, dtype=torch.double), torch.randn(2, 2, dtype=torch.double)
    dfm = (0.1 * torch.randn(2, 5, 4, dtype=torch.double)).requires_grad_()  # |5 x| < 3: inside the clip
    assert torch.autograd.gradcheck(lambda d: m(base, uv, expr, pose, d), (dfm,))
    # the jaw moves the colours through the features alone (frame code's weights zeroed): the gradient reaches it
    flame = sample_head_flame()
    mf = ColorMLP(flame.n_expr, 6, deform_dims=4)
    with torch.no_grad():
        mf.out.weight.normal_(0, 0.1)
        mf.first_f.weight.zero_()
    shape = torch.zeros(flame.n_shape)
    params = torch.zeros(1, flame.n_expr + 18, requires_grad=True)
    fid = torch.arange(0, flame.faces.shape[0], 7)
    n = len(fid)
    verts = posed_vertices(flame, shape, params + torch.eye(flame.n_expr + 18)[flame.n_expr + 6] * 0.2)  # jaw open
    feats = deform_features(verts, neutral_vertices(flame, shape), flame.faces, fid)
    cols = mf(torch.full((n, 3), 0.5), torch.rand(n, 2), params[:, : flame.n_expr], torch.zeros(1, 6), feats)
    cols.sum().backward()
    assert params.grad[0, flame.n_expr + 6 : flame.n_expr + 9].abs().sum() > 0  # jaw
    assert params.grad[0, : flame.n_expr].abs().sum() > 0  # expression (through the mesh only)
