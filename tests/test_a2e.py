"A2E audio encoders and denoiser: offline errors, length properties, seamless windowed sampling."

import os
import subprocess
import sys
import textwrap
import time
from dataclasses import replace

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from ggtalker_nb.a2e.audio import MelEncoder, LogMel, resample_frames, frame_mask
from ggtalker_nb.a2e.model import A2EConfig, A2EModel, a2e_loss, sample
from ggtalker_nb.core import MissingDependencyError
from ggtalker_nb.data.speech import n_frames


def test_hf_missing_offline_is_quick_and_clear(tmp_path):
    "A nonexistent hub id with HF_HUB_OFFLINE=1 (set before transformers is imported) fails fast with a hint."
    code = textwrap.dedent("""
        import os, time
        os.environ["HF_HUB_OFFLINE"] = "1"
        import transformers
        from ggtalker_nb.a2e.audio import HFEncoder
        from ggtalker_nb.core import MissingDependencyError
        t = time.time()
        try:
            HFEncoder("no-such-org/no-such-wav2vec2-model")
        except MissingDependencyError as e:
            print("ERR", time.time() - t, e)
        else:
            print("NOERR")
    """)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120).stdout
    assert out.startswith("ERR"), out
    dt = float(out.split()[1])
    msg = out
    assert dt < 5, f"took {dt:.1f} s"
    assert "no-such-org/no-such-wav2vec2-model" in msg and "local folder" in msg and "'mel'" in msg


def test_hf_missing_local_folder(tmp_path):
    os.environ["HF_HUB_OFFLINE"] = "1"
    from ggtalker_nb.a2e.audio import HFEncoder

    with pytest.raises(MissingDependencyError, match="empty_dir"):
        HFEncoder(tmp_path / "empty_dir")


_enc = None


def _mel():
    global _enc
    if _enc is None:
        torch.manual_seed(0)
        _enc = MelEncoder(out_dim=16, channels=16, layers=1).eval()
    return _enc


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 40000))
def test_mel_encoder_length_property(S):
    with torch.no_grad():
        y = _mel()(torch.randn(1, S))
    assert y.shape == (1, n_frames(S, 16000), 16) and torch.isfinite(y).all()
    assert LogMel()(torch.randn(1, S)).shape[-1] == 4 * n_frames(S, 16000)


@settings(max_examples=25, deadline=None)
@given(st.integers(1, 200), st.integers(1, 100))
def test_resample_frames_linear_exact(T0, T):
    "Linear interpolation reproduces a ramp exactly (inside the clamped range) and never extrapolates."
    h = torch.arange(T0, dtype=torch.float64)[None, :, None]
    y = resample_frames(h, T)[0, :, 0]
    pos = ((torch.arange(T, dtype=torch.float64) + 0.5) * 2 - 0.625).clamp(0, T0 - 1)
    torch.testing.assert_close(y, pos)


def test_frame_mask_matches_n_frames():
    L = torch.tensor([1, 639, 640, 641, 16000, 16001])
    assert frame_mask(L, 30).sum(1).tolist() == [n_frames(int(l), 16000) for l in L]


def _smooth(T, dim, g):
    "Sum of a few random sinusoids at 0.3–1.5 Hz (25 fps): a smooth stand-in for audio features."
    t = torch.arange(T, dtype=torch.float32)[:, None, None] / 25
    f = 0.3 + 1.2 * torch.rand(1, dim, 3, generator=g)
    ph = 6.28 * torch.rand(1, dim, 3, generator=g)
    return torch.sin(6.28 * f * t + ph).sum(-1) / 1.7


def test_windowed_sampling_is_seamless():
    """Train a tiny model on a signal with a per-sequence offset that audio cannot explain. With context frames
    the window borders must be as smooth as the inside of windows; with the context switched off (independent
    windows) the same model jumps at the borders — so the test sees the context mechanism, not just smoothness.
    Measured (600 steps, ~10–17 s on a shared 2-core CPU): border/inside ≈ 1.5 with context, ≈ 7 without."""
    nt = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        g = torch.Generator().manual_seed(0)
        torch.manual_seed(0)
        cfg = A2EConfig(
            motion_dim=4,
            n_expr=1,
            audio_dim=6,
            d=64,
            layers=2,
            heads=4,
            ffn=128,
            cond_layers=1,
            window=16,
            context=4,
            steps=50,
            dropout=0.0,
            p_drop_audio=0.0,
            p_drop_id=0.0,
            lambda_temp=1.0,
        )
        W = torch.randn(6, 4, generator=g) * 0.5

        def make(B, T):
            a = torch.stack([_smooth(T, 6, g) for _ in range(B)])
            m = a @ W + torch.randn(B, 1, 4, generator=g)
            return a, m

        model = A2EModel(cfg)
        opt = torch.optim.AdamW(model.parameters(), lr=6e-3)
        sch = torch.optim.lr_scheduler.OneCycleLR(opt, 6e-3, total_steps=600, pct_start=0.1)
        time.time()
        losses = []
        for it in range(600):
            a, m = make(32, cfg.n)
            batch = dict(audio_feats=a, expr=m[..., :1], jaw=m[..., 1:], identity=torch.full((32,), -1))
            l = a2e_loss(model, batch, generator=g)["loss"]
            opt.zero_grad()
            l.backward()
            opt.step()
            sch.step()
            losses.append(l.item())
        assert np.mean(losses[-20:]) < 0.3 * np.mean(losses[:20]), (losses[:5], losses[-5:])
        a, m = make(4, 96)

        def jumps(x):
            d = (x[:, 1:] - x[:, :-1]).norm(dim=-1)  # d[:, i] = change from frame i to i+1
            border = torch.tensor([i - 1 for i in range(cfg.window, 96, cfg.window)])
            inside = torch.tensor([i for i in range(95) if i not in set(border.tolist())])
            return d[:, border].mean().item(), d[:, inside].mean().item()

        x = sample(model, a, steps=10, generator=torch.Generator().manual_seed(1))
        b_ctx, i_ctx = jumps(x)
        model.config = replace(cfg, context=0)
        b_ind, i_ind = jumps(sample(model, a, steps=10, generator=torch.Generator().manual_seed(1)))
        model.config = cfg
        print(
            f"seams: context {b_ctx:.3f} vs inside {i_ctx:.3f}; independent windows {b_ind:.3f} vs inside {i_ind:.3f}"
        )
        assert b_ctx < 2.0 * i_ctx, (b_ctx, i_ctx)
        assert b_ind > 3.0 * b_ctx, (b_ind, b_ctx, i_ind)
    finally:
        torch.set_num_threads(nt)


def test_loss_gradients_reach_every_parameter():
    """With both CFG dropouts likely, one loss backward reaches every parameter (null audio and unknown identity
    included)."""
    torch.manual_seed(0)
    cfg = A2EConfig.cpu(
        d=32,
        layers=2,
        heads=4,
        ffn=64,
        audio_dim=8,
        n_identities=2,
        window=6,
        context=2,
        steps=20,
        p_drop_audio=0.5,
        p_drop_id=0.5,
    )
    model = A2EModel(cfg)
    B, N = 16, cfg.n
    batch = dict(
        audio_feats=torch.randn(B, N, 8),
        expr=torch.randn(B, N, 50),
        jaw=torch.randn(B, N, 3),
        identity=torch.arange(B) % 2,
    )
    out = a2e_loss(
        model,
        batch,
        generator=torch.Generator().manual_seed(0),
        extra={"jaw_l1": (0.5, lambda p, t, b: (p[..., 50:] - t[..., 50:]).abs().mean())},
    )
    assert set(out) == {"loss", "exp", "temp", "jaw_l1"}
    out["loss"].backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert not missing, missing


@pytest.mark.parametrize("ga", [0.0, 0.5, 1.0, 2.0])
@pytest.mark.parametrize("gi", [0.0, 1.0, 1.7])
def test_guidance_matches_per_branch_formula(ga, gi):
    """Every (s_audio, s_identity) equals x̂(∅,∅) + s_a (x̂(a,∅) − x̂(∅,∅)) + s_i (x̂(a,i) − x̂(a,∅)) from three
    explicit calls."""
    from ggtalker_nb.a2e.model import _guided

    torch.manual_seed(0)
    cfg = A2EConfig.cpu(d=32, layers=1, heads=4, ffn=64, audio_dim=8, n_identities=3, window=6, context=2, steps=20)
    model = A2EModel(cfg).eval()
    with torch.no_grad():  # a trained identity table is not zero-mean: make the identity visibly matter
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    B, N = 2, cfg.n
    x, k, au, idn = torch.randn(B, N, cfg.motion_dim), torch.tensor([3, 15]), torch.randn(B, N, 8), torch.tensor([0, 2])
    yes, no = torch.ones(B, dtype=torch.bool), torch.zeros(B, dtype=torch.bool)
    with torch.no_grad():
        full = model(x, k, au, idn, drop_audio=no, drop_id=no)
        aud = model(x, k, au, idn, drop_audio=no, drop_id=yes)
        unc = model(x, k, au, idn, drop_audio=yes, drop_id=yes)
        assert (full - aud).abs().max() > 1e-2
        got = _guided(model, x, k, au, idn, None, None, ga, gi)
    torch.testing.assert_close(got, unc + ga * (aud - unc) + gi * (full - aud), atol=1e-4, rtol=1e-4)


def test_config_built_hf_encoder_survives_save_and_load(tmp_path):
    "An HFEncoder built from a transformers config (no hub id) is saved with that config, and load_a2e rebuilds it."
    import transformers
    from ggtalker_nb.a2e.audio import HFEncoder
    from ggtalker_nb.a2e.model import load_a2e, save_a2e

    torch.manual_seed(0)
    cfg = transformers.Wav2Vec2Config(
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        conv_dim=(8,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=4,
    )
    enc = HFEncoder(None, config=cfg).eval()
    model = A2EModel(A2EConfig.cpu(d=32, layers=1, heads=2, ffn=64, audio_dim=32, window=6, context=2, steps=20)).eval()
    save_a2e(model, tmp_path / "a2e.safetensors", enc)
    _, enc2 = load_a2e(tmp_path / "a2e.safetensors")
    wav = torch.randn(1, 4000)
    with torch.no_grad():
        torch.testing.assert_close(enc2(wav), enc(wav))


def test_load_a2e_checks_every_tensor(tmp_path):
    "A tensor of the wrong dtype or shape for the recorded config is an AssetError naming the file and the tensor."
    from ggtalker_nb.a2e.audio import MelEncoder
    from ggtalker_nb.a2e.model import load_a2e, save_a2e
    from ggtalker_nb.core import AssetError, load_safetensors, save_safetensors

    model = A2EModel(A2EConfig.cpu(d=32, layers=1, heads=2, ffn=64, audio_dim=16, window=6, context=2, steps=20))
    p = tmp_path / "a2e.safetensors"
    save_a2e(model, p, MelEncoder(out_dim=16, channels=16, layers=1))
    t, meta = load_safetensors(p)
    name = next(k for k, v in t.items() if k.startswith("model.") and v.ndim == 2)
    for bad, what in [(t[name].half(), "float16"), (t[name][:, :-1].contiguous(), "expected float32")]:
        save_safetensors({**t, name: bad}, tmp_path / "bad.safetensors", meta)
        with pytest.raises(AssetError, match=rf"bad.safetensors: tensor '{name}' .*{what}"):
            load_a2e(tmp_path / "bad.safetensors")
    save_safetensors({**t, "model.extra": torch.zeros(2)}, tmp_path / "bad.safetensors", meta)
    with pytest.raises(AssetError, match="unexpected tensor"):
        load_a2e(tmp_path / "bad.safetensors")


def test_summary_of_undefined_metrics_is_nan_without_warnings():
    "One sample per clip has no diversity (NaN): the summary says NaN and numpy warns about no empty slice."
    import warnings
    from ggtalker_nb.a2e.eval import METRIC_COLS, summarize

    rows = [
        dict(split="s", gt_av_offset=0, **{k: float("nan") if k == "div" else 1.0 for k in METRIC_COLS})
        for _ in range(2)
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = summarize(rows)["s"]
    assert np.isnan(out["div"]) and out["lve"] == 1.0 and out["n"] == 2
