"""The residual parameterisation of the A2E prior (issue #17): a deterministic mean head + diffusion over x − mean.
x0 files written before it load and sample bit-identically; the residual model reconstructs x0, its temperature 0 is
the mean head, its fixed parts get no gradient and do not move in training."""

import hashlib
import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from ggtalker_nb.a2e.audio import build_audio_encoder
from ggtalker_nb.a2e.model import (
    A2EConfig,
    A2EModel,
    a2e_loss,
    load_a2e,
    motion_from_batch,
    residual_state,
    sample,
    sample_span,
    save_a2e,
)
from ggtalker_nb.a2e.train import A2ERegressor, TrainConfig, fit_residual_scale, train_a2e
from ggtalker_nb.core import InputError, data_samples_path, load_safetensors

torch.set_num_threads(1)
ROOT = Path(__file__).resolve().parent.parent
FIX = ROOT / "tests" / "fixtures" / "a2e_x0_v1"
SHIPPED_FIX = ROOT / "tests" / "fixtures" / "a2e_shipped"
SHIPPED = ROOT / "data_samples" / "priors" / "a2e_cpu.safetensors"
TINY = dict(d=32, layers=2, heads=2, ffn=64, audio_dim=16, n_identities=3, window=12, context=4, steps=50)


@pytest.fixture(autouse=True)
def one_thread():
    "The references were written with one thread; float sums must run in the same order."
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def _residual(seed=0, **kw):
    torch.manual_seed(seed)
    m = A2EModel(A2EConfig.cpu(**{**TINY, "parameterization": "residual", **kw}))
    m.normalizer.fit(torch.randn(200, 53) * 2 + 1)
    m.res_std.copy_(torch.rand(53) * 0.5 + 0.1)
    return m.eval()


def test_x0_file_of_the_old_code_samples_bit_identically():
    ref, _ = load_safetensors(FIX / "reference.safetensors")
    m, _ = load_a2e(FIX / "tiny_x0.safetensors")
    assert not m.residual and not hasattr(m, "res_std") and not hasattr(m, "mean_dec")
    f = torch.randn(2, 31, 16, generator=torch.Generator().manual_seed(1))
    got = sample(m, f, torch.tensor([0, -1]), steps=7, guidance=(1.5, 2.0), generator=torch.Generator().manual_seed(2))
    assert torch.equal(got, ref["tiny_ddim"])
    got = sample(m, f[:, :13], 1, sampler="ddpm", generator=torch.Generator().manual_seed(2))
    assert torch.equal(got, ref["tiny_ddpm"])


def _shipped_reference():
    spec = importlib.util.spec_from_file_location("make_reference", SHIPPED_FIX / "make_reference.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.reference


def test_shipped_prior_samples_bit_identically():
    """The shipped prior's samples (default temperature and the mean head alone) do not change with the code; shipping
    a new prior means re-recording the reference. The shipped file lets adaptation train the mean head and identity
    row."""
    ref, meta = load_safetensors(SHIPPED_FIX / "reference.safetensors")
    assert hashlib.sha256(SHIPPED.read_bytes()).hexdigest() == meta["shipped_sha256"], (
        "data_samples/priors/a2e_cpu.safetensors is not the prior the reference was recorded with: after shipping a "
        "new prior, run python tests/fixtures/a2e_shipped/make_reference.py"
    )
    m, _ = load_a2e(SHIPPED)
    assert not m.config.freeze_shared
    got = _shipped_reference()(m)
    assert sorted(got) == sorted(ref)
    for k in ref:
        assert torch.equal(got[k], ref[k]), k


def test_config_checks():
    with pytest.raises(InputError, match="parameterization"):
        A2EConfig.cpu(parameterization="eps")
    with pytest.raises(InputError, match="temperature"):
        A2EConfig.cpu(temperature=-1.0)
    with pytest.raises(InputError, match="mean head"):
        A2EModel(A2EConfig.cpu(**TINY)).mean_motion(torch.randn(1, 5, 16), torch.tensor([0]))


def test_residual_plus_mean_reconstructs_x0(monkeypatch):
    "A network that predicts the true residual gives x̂₀ = x₀ to the geometric losses (and zero diffusion loss)."
    m = _residual()
    B, N = 3, m.config.n
    g = torch.Generator().manual_seed(0)
    batch = dict(
        audio_feats=torch.randn(B, N, 16, generator=g),
        expr=torch.randn(B, N, 50, generator=g),
        jaw=torch.randn(B, N, 3, generator=g),
        identity=torch.tensor([0, 2, -1]),
    )
    xn = m.normalizer.normalize(motion_from_batch(batch))
    with torch.no_grad():
        true_res = (xn - m.mean_motion(batch["audio_feats"], batch["identity"])) / m.res_std
    monkeypatch.setattr(m, "forward", lambda *a, **k: true_res)
    seen = {}

    def probe(pd, td, b):
        seen["err"] = float((pd - td).detach().abs().max())
        return (pd - td).square().mean()

    out = a2e_loss(m, batch, extra={"probe": (1.0, probe)}, generator=torch.Generator().manual_seed(1))
    assert seen["err"] < 1e-4, seen
    assert float(out["exp"]) < 1e-10 and float(out["temp"]) < 1e-10


@pytest.mark.parametrize("guidance", [(1.0, 1.0), (1.0, 2.0)])
def test_temperature_zero_is_the_mean_head_and_temperature_scales_the_residual(guidance):
    m = _residual()
    f = torch.randn(2, 29, 16, generator=torch.Generator().manual_seed(4))
    ident = torch.tensor([1, -1])
    with torch.no_grad():
        mean = m.normalizer.denormalize(m.mean_motion(f, ident))
    kw = dict(steps=5, guidance=guidance)
    s0 = sample(m, f, ident, temperature=0.0, generator=torch.Generator().manual_seed(0), **kw)
    torch.testing.assert_close(s0, mean, rtol=0, atol=1e-6)
    s1 = sample(m, f, ident, temperature=1.0, generator=torch.Generator().manual_seed(0), **kw)
    sh = sample(m, f, ident, temperature=0.5, generator=torch.Generator().manual_seed(0), **kw)
    assert (s1 - mean).abs().max() > 1e-3  # the residual is not nothing
    torch.testing.assert_close(sh - mean, 0.5 * (s1 - mean), rtol=0, atol=1e-4)
    m.config.temperature = 0.5  # the config's default is what `sample` uses without an argument
    torch.testing.assert_close(sample(m, f, ident, generator=torch.Generator().manual_seed(0), **kw), sh)
    with pytest.raises(InputError, match="temperature"):
        sample(m, f, ident, temperature=-0.1)


def test_sample_span_of_a_residual_model():
    "One span: temperature 0 is the span's mean; with `n_context` known frames the span's other frames are sampled."
    m = _residual()
    f = torch.randn(1, m.config.n, 16, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        mean = m.mean_motion(f, torch.tensor([0]))
    z = sample_span(m, f, None, 0, 0, steps=4, temperature=0.0, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(z, mean, rtol=0, atol=1e-6)
    ctx = mean + 0.3 * torch.randn(mean.shape, generator=torch.Generator().manual_seed(6))
    out = sample_span(m, f, ctx, 4, 0, steps=4, generator=torch.Generator().manual_seed(0))
    assert out.shape == ctx.shape and torch.isfinite(out).all()


def test_residual_state_takes_the_regressor_as_mean_head_and_survives_save_load(tmp_path):
    torch.manual_seed(1)
    x0 = A2EModel(A2EConfig.cpu(**TINY))
    reg = A2ERegressor(A2EConfig.cpu(**TINY)).eval()
    reg.normalizer.fit(torch.randn(100, 53) * 3)
    m = _residual(seed=2)
    m.load_state_dict(residual_state(m, x0.state_dict(), reg.state_dict()))
    f, ident = torch.randn(2, 20, 16), torch.tensor([0, -1])
    with torch.no_grad():
        torch.testing.assert_close(m.mean_motion(f, ident), reg(f, ident), rtol=0, atol=1e-6)
        torch.testing.assert_close(m.blocks[1].ff[0].weight, x0.blocks[1].ff[0].weight, rtol=0, atol=0)
    with pytest.raises(InputError, match="not 'residual'"):
        residual_state(x0, x0.state_dict(), reg.state_dict())
    with pytest.raises(InputError, match="decoder"):
        residual_state(m, x0.state_dict(), {k: v for k, v in reg.state_dict().items() if "decoder" not in k})
    p = tmp_path / "res.safetensors"
    save_a2e(m, p, extra_meta=dict(identity_names=["a", "b", "c"]))
    m2, _ = load_a2e(p)
    assert m2.residual and load_safetensors(p)[1]["a2e_config"]["parameterization"] == "residual"
    g = lambda: torch.Generator().manual_seed(7)
    assert torch.equal(sample(m2, f, ident, steps=4, generator=g()), sample(m, f, ident, steps=4, generator=g()))


def test_fixed_parts_get_no_gradient_and_a_trained_mean_head_learns_the_regression_loss():
    batch = dict(
        audio_feats=torch.randn(4, 16, 16),
        expr=torch.randn(4, 16, 50),
        jaw=torch.randn(4, 16, 3),
        identity=torch.tensor([0, 1, 2, -1]),
    )
    fixed = _residual(freeze_shared=True, p_drop_audio=0.5, p_drop_id=0.5).train()
    assert all(not m.training for m in fixed.shared_modules()) and fixed.blocks[0].training
    out = a2e_loss(fixed, batch, generator=torch.Generator().manual_seed(0))
    assert "mean_exp" not in out
    out["loss"].backward()
    shared = {id(p) for m in fixed.shared_modules() for p in m.parameters()}
    for n, p in fixed.named_parameters():
        if id(p) in shared:
            assert p.grad is None and not p.requires_grad, n
        else:
            assert p.grad is not None and p.grad.abs().sum() > 0, n
    free = _residual().train()
    out = a2e_loss(free, batch, generator=torch.Generator().manual_seed(0))
    assert {"mean_exp", "mean_temp"} <= set(out)
    out["loss"].backward()
    assert free.mean_out.weight.grad.abs().sum() > 0 and free.cond_enc.layers[0].linear1.weight.grad.abs().sum() > 0


def test_training_leaves_the_fixed_parts_bit_identical_and_fits_the_residual_scale(tmp_path):
    from ggtalker_nb.data.video import AudioMotionDataset

    clips = str(data_samples_path("synthtalk_mini", must_exist=True))
    cfg = A2EConfig.cpu(**{**TINY, "n_identities": 3, "parameterization": "residual", "freeze_shared": True})
    torch.manual_seed(3)
    enc = build_audio_encoder("mel", out_dim=16, channels=16, layers=0).requires_grad_(False)
    ds = AudioMotionDataset(clips, window=cfg.n, stride=6)
    m = A2EModel(cfg)
    m.normalizer.fit(torch.cat([motion_from_batch(ds[i]) for i in range(len(ds))]))
    std = fit_residual_scale(m, enc, ds, n_windows=8)
    assert torch.isfinite(std).all() and (std >= 1e-2).all() and std.max() > 0.05
    before = {k: v.clone() for k, v in m.state_dict().items()}
    r = train_a2e(
        TrainConfig(steps=4, batch_size=2, warmup=1, ckpt_every=10, out_dir=str(tmp_path / "run"), lip_loss=0.2),
        cfg,
        ds,
        encoder=enc,
        model_init=before,
        freeze_encoder=True,
    )
    after = r["model"].state_dict()
    fixed = ("audio_in.", "cond_enc.", "id_emb.", "id_proj.", "mean_", "normalizer.", "res_std")
    for k, v in before.items():
        if k.startswith(fixed):
            assert torch.equal(after[k], v), k
    assert not torch.equal(after["blocks.0.ff.0.weight"], before["blocks.0.ff.0.weight"])


def test_speak_motion_temperature_scales_the_residual_around_the_mean_head():
    """The runtime's `speak_motion` passes `temperature` through: 0 is the mean head whatever the seed, and for one seed
    the output moves linearly in the temperature (mean + τ · residual)."""
    from ggtalker_nb.avatar.runtime import speak_motion

    torch.manual_seed(0)
    m = A2EModel(A2EConfig.cpu(**{**TINY, "parameterization": "residual"})).eval()
    m.normalizer.fit(torch.randn(200, 53) * 2 + 1)
    m.res_std.copy_(torch.rand(53) * 0.5 + 0.1)
    enc = build_audio_encoder("mel", out_dim=16, channels=16, layers=0).eval()
    audio = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    run = lambda t, seed=1: speak_motion(m, enc, audio, 0, steps=3, seed=seed, temperature=t)["jaw"]
    np.testing.assert_array_equal(run(0.0, seed=1), run(0.0, seed=2))
    j0, j5, j1 = run(0.0), run(0.5), run(1.0)
    assert np.abs(j1 - j0).max() > 1e-4
    np.testing.assert_allclose(j1 - j0, 2 * (j5 - j0), atol=1e-5)
    m.config.temperature = 0.5  # None: the file's default
    np.testing.assert_array_equal(run(None), j5)
