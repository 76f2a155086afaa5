"A2E evaluation: span-wise audio features, loading runs/checkpoints, per-split metric tables, the speed benchmark."

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from ggtalker_nb.a2e.audio import MelEncoder, build_audio_encoder
from ggtalker_nb.a2e.eval import (
    bench_a2e,
    encode_audio,
    evaluate_a2e,
    load_any,
    markdown_table,
    motion_metrics,
    predict_motion,
    summarize,
)
from ggtalker_nb.a2e.model import A2EConfig, A2EModel, save_a2e
from ggtalker_nb.a2e.train import TrainConfig, train_a2e
from ggtalker_nb.core import AssetError, InputError, data_samples_path
from ggtalker_nb.data.video import ClipReader

torch.set_num_threads(1)
MINI = data_samples_path("synthtalk_mini", must_exist=True)
TINY = dict(d=32, layers=1, heads=2, ffn=64, audio_dim=16, window=12, context=4, steps=20)


def _enc():
    torch.manual_seed(0)
    return MelEncoder(out_dim=16, channels=8, layers=1, heads=2).eval()


@settings(max_examples=8, deadline=None)
@given(S=st.integers(1, 16000 * 2), window=st.integers(1, 30), context=st.integers(0, 8))
def test_encode_audio_spans(S, window, context):
    "Any length → ceil(S/640) frames; each span's new frames equal encoding that span's audio alone."
    enc = _enc()
    x = np.random.default_rng(S).standard_normal(S).astype(np.float32) * 0.1
    f = encode_audio(enc, x, window=window, context=context)
    T = -(-S // 640)
    assert f.shape == (1, T, 16)
    a = window * ((T - 1) // window)  # the last span
    s = max(0, a - context)
    xp = np.pad(x, (0, T * 640 - S))
    ref = enc(torch.as_tensor(xp[s * 640 : T * 640])[None])[:, a - s :]
    torch.testing.assert_close(f[:, a:], ref, atol=1e-5, rtol=1e-5)


def test_load_any_checkpoint_run_and_regression(tmp_path):
    "A run stopped early (only latest.safetensors) loads from its folder; a regression file is recognised."
    m = A2EConfig.cpu(**TINY)
    cfg = lambda out, **kw: TrainConfig(
        **{
            **dict(
                steps=6,
                batch_size=2,
                lr=1e-3,
                warmup=1,
                ckpt_every=100,
                out_dir=str(out),
                lip_loss=0.0,
                window_stride=6,
                progress=False,
            ),
            **kw,
        }
    )
    train_a2e(
        cfg(tmp_path / "d", run_steps=2),
        m,
        str(MINI),
        encoder=build_audio_encoder("mel", out_dim=16, channels=8, layers=0),
    )
    assert not (tmp_path / "d" / "final.safetensors").exists()
    model, enc, kind, names = load_any(tmp_path / "d")
    assert kind == "diffusion" and isinstance(model, A2EModel) and enc is not None
    assert names == ["id0000", "id0001", "id0002"]
    train_a2e(
        cfg(tmp_path / "r", steps=2),
        m,
        str(MINI),
        encoder=build_audio_encoder("mel", out_dim=16, channels=8, layers=0),
        kind="regression",
    )
    assert load_any(tmp_path / "r" / "final.safetensors")[2] == "regression"
    with pytest.raises(AssetError, match="no best/final/latest"):
        load_any(tmp_path)
    with pytest.raises(InputError, match="encoder"):
        load_any(A2EModel(m))


def test_evaluate_tables(tmp_path):
    "Per-split rows and summaries; diffusion samples differ (div > 0); identities resolved by name."
    model = A2EModel(A2EConfig.cpu(**TINY, n_identities=2)).eval()
    model.identity_names = ["id0001", "id0000"]
    r = evaluate_a2e(model, MINI, splits=None, encoder=_enc(), n_samples=2, steps=2)
    assert {x["split"] for x in r["rows"]} == {"train", "test_sentence", "heldout_adapt", "heldout_test"}
    rows = {x["clip"]: x for x in r["rows"]}
    assert rows["id0000_c001"]["row"] == 1 and rows["id0001_c001"]["row"] == 0 and rows["id0002_c001"]["row"] == -1
    assert all(x["div"] > 0 and x["lve"] > 0 and -1 <= x["mo_corr"] <= 1 for x in r["rows"])
    s = summarize(r["rows"])
    assert s["test_sentence"]["n"] == 2 and 0 <= s["train"]["av_ok"] <= 1
    t = markdown_table({"A": r, "B": r})
    assert t.count("held-out sentences") == 2 and t.splitlines()[0].startswith("| split | model |")
    with pytest.raises(InputError, match="no clips"):
        evaluate_a2e(model, MINI, splits=["test_language"], encoder=_enc())


def test_motion_metrics_shift():
    "Delaying the true motion by 3 frames: correlation drops, the AV stand-in moves by about 3 frames."
    from ggtalker_nb.flame import FLAME
    from ggtalker_nb.sample_head import load_sample_head

    fl = FLAME(load_sample_head())
    r = ClipReader(MINI / "id0000_c000")
    gt = r.flame_clean
    m = torch.cat([torch.as_tensor(gt.expr[:, :50]), torch.as_tensor(gt.jaw)], -1)
    d = torch.cat([m[:1].repeat(3, 1), m[:-3]])[None]
    a, b = motion_metrics(fl, gt, m[None], r.audio, 50), motion_metrics(fl, gt, d, r.audio, 50)
    assert a["mo_corr"] > 0.999 and b["mo_corr"] < a["mo_corr"] and b["lve"] > a["lve"]
    assert abs(b["av_offset"] - a["av_offset"] - 3) <= 1


def test_predict_regression_repeats_and_bench(tmp_path):
    "The baseline is deterministic; the quick benchmark returns one row per setting."
    m = A2EConfig.cpu(**TINY)
    r = train_a2e(
        TrainConfig(
            steps=1, batch_size=2, warmup=1, out_dir=str(tmp_path / "r"), lip_loss=0, window_stride=6, progress=False
        ),
        m,
        str(MINI),
        encoder=build_audio_encoder("mel", out_dim=16, channels=8, layers=0),
        kind="regression",
    )
    x = np.random.default_rng(0).standard_normal(5000).astype(np.float32)
    p = predict_motion(r["model"], r["encoder"], x, None, n_samples=3)
    assert p.shape == (3, 8, 53) and torch.equal(p[0], p[2])
    save_a2e(A2EModel(m), tmp_path / "s.safetensors", _enc())
    rows = bench_a2e(quick=True, model_path=tmp_path / "s.safetensors", print_table=False)
    assert [x["what"] for x in rows] == ["audio encoder (mel)"] + ["sample DDIM"] * 6 + ["sample DDPM"] * 3 + [
        "training (batch 8, lip loss)"
    ]
    assert [x["guidance"] for x in rows[1:4]] == [
        "none",
        "default 1, 2",
        "audio 2 + id 1.5",
    ]  # no guidance, the default, the old setting
    assert all(x["audio_s"] == 2.0 for x in rows) and rows[-1]["windows_per_s"] > 0


def test_evaluate_style_per_clip_seeds(monkeypatch):
    "With per_clip_seed every clip samples from its own seed (`clip_seed`); without, every clip from the same one."
    import ggtalker_nb.a2e.eval as ev

    model = A2EModel(A2EConfig.cpu(**TINY, n_identities=2)).eval()
    model.identity_names = ["id0000", "id0001"]
    seen, orig = [], ev.predict_motion

    def spy(*a, **kw):
        seen.append(a[8])  # the seed argument
        return orig(*a, **kw)

    monkeypatch.setattr(ev, "predict_motion", spy)
    out = {}
    for pc in (False, True):
        seen.clear()
        r = ev.evaluate_style(model, MINI, MINI, _enc(), steps=2, seed=5, per_clip_seed=pc)
        out[pc] = (list(seen), r)
    names = [p.name for p in ev.clip_paths(MINI) if ClipReader(p).identity in model.identity_names]
    assert out[False][0] == [5] * len(names)
    assert out[True][0] == [ev.clip_seed(5, n) for n in names] and len(set(out[True][0])) == len(names)
    assert out[True][1]["settings"]["per_clip_seed"] and not out[False][1]["settings"]["per_clip_seed"]
    assert out[True][1]["style_dist"] != out[False][1]["style_dist"]
