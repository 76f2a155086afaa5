"#17 ablation: ground-truth re-synthesis, the variety floor, means of K samples, and the ship gate."

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ggtalker_nb.a2e.audio import MelEncoder
from ggtalker_nb.a2e.eval import (
    evaluate_a2e,
    predict_motion,
    resynthesize_truth,
    sample_mean_ablation,
    variety_floor,
)
from ggtalker_nb.a2e.model import A2EConfig, A2EModel
from ggtalker_nb.core import InputError, data_samples_path
from ggtalker_nb.data.synthtalk import SynthTalk
from ggtalker_nb.data.video import ClipReader, write_clip
from ggtalker_nb.flame import FLAME
from ggtalker_nb.sample_head import load_sample_head

torch.set_num_threads(1)
MINI = data_samples_path("synthtalk_mini", must_exist=True)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def flame():
    return FLAME(load_sample_head())


@pytest.fixture(scope="module")
def v2_clip(tmp_path_factory):
    "One motion-version-2 SynthTalk clip (speech and motion only), as scripts/a2e_data.py writes them."
    out = tmp_path_factory.mktemp("st_v2") / "id0000_c011"
    gen = SynthTalk(0, 20, 12, size=64, motion_version=2)
    write_clip(out, gen.make_clip(0, 11, render=False))
    return ClipReader(out)


def _tiny():
    torch.manual_seed(0)
    m = A2EModel(
        A2EConfig.cpu(d=32, layers=1, heads=2, ffn=64, audio_dim=16, window=20, context=5, steps=20, n_identities=2)
    ).eval()
    m.identity_names = ["id0000", "id0001"]
    return m, MelEncoder(out_dim=16, channels=8, layers=1, heads=2).eval()


def test_resynthesis_of_own_draws_is_the_ground_truth(v2_clip, flame):
    "Seed None re-runs the clip's own draws (its recorded utterance variety): the ground truth, bit for bit."
    gt = v2_clip.flame_clean if v2_clip.flame_clean is not None else v2_clip.flame
    own, new = resynthesize_truth(v2_clip, [None, 0], flame)
    np.testing.assert_allclose(own.expr, gt.expr, atol=1e-6)
    np.testing.assert_allclose(own.jaw, gt.jaw, atol=1e-6)
    assert np.abs(new.jaw - gt.jaw).max() > 1e-3  # another variety moves the jaw


def test_variety_floor_is_zero_without_variety_and_positive_with_it(v2_clip, flame):
    "Version-1 clips have no utterance variety (the oracle is exact); version 2 leaves an error no oracle removes."
    v1 = variety_floor(MINI, (1, 2), flame=flame, max_clips=1)
    assert all(r["lve"] < 1e-3 and r["mo_corr"] > 0.999 for r in v1["table"]), v1["table"]
    v2 = variety_floor([v2_clip.path], (1, 2), splits=None, flame=flame)
    t = {r["k"]: r for r in v2["table"]}
    assert t[1]["lve"] > 0.3 and t[1]["div"] > 0.3, t
    assert t[2]["lve"] > 0.1, t


def test_mean_of_is_the_mean_of_the_same_samples():
    "predict_motion(mean_of=M) averages exactly the M samples that n_samples=M draws with the same seed."
    m, enc = _tiny()
    x = np.random.default_rng(0).standard_normal(16000).astype(np.float32) * 0.1
    many = predict_motion(m, enc, x, 0, n_samples=4, steps=2, seed=3)
    mean = predict_motion(m, enc, x, 0, n_samples=1, steps=2, seed=3, mean_of=4)
    torch.testing.assert_close(mean[0], many.mean(0), atol=1e-6, rtol=1e-6)
    assert (many[0] - many[1]).abs().max() > 1e-4  # the samples differ, so the mean is not a sample
    with pytest.raises(InputError, match="mean_of"):
        predict_motion(m, enc, x, 0, mean_of=0)


def test_sample_mean_ablation_agrees_with_evaluate_a2e(flame):
    "K = 1 rows score every single sample; K = N the mean of all of them (the same as mean_of=N)."
    m, enc = _tiny()
    ab = sample_mean_ablation(m, MINI, (1, 4), encoder=enc, flame=flame, steps=2, guidance=(1.0, 1.0))
    t = {r["k"]: r for r in ab["table"]}
    one = evaluate_a2e(m, MINI, ("test_sentence",), enc, flame, 4, 2, guidance=(1.0, 1.0))["summary"]
    mean = evaluate_a2e(m, MINI, ("test_sentence",), enc, flame, 1, 2, guidance=(1.0, 1.0), mean_of=4)["summary"]
    assert t[1]["lve"] == pytest.approx(one["test_sentence"]["lve"], rel=1e-6)
    assert t[4]["lve"] == pytest.approx(mean["test_sentence"]["lve"], rel=1e-6)
    assert t[1]["div"] > 0
    with pytest.raises(InputError, match="divide"):
        sample_mean_ablation(m, MINI, (1, 3, 4), encoder=enc, flame=flame, steps=2)


def _ship():
    spec = importlib.util.spec_from_file_location("ship_a2e", ROOT / "scripts" / "ship_a2e.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _ev(lve, corr, style, div=0.5):
    s = {sp: dict(lve=lve, mo_corr=corr, div=div) for sp in ("test_sentence", "test_voice", "test_language")}
    return {"seed0:splits": s, "seed1:sentences": dict(lve=lve, mo_corr=corr), "seed0:style": dict(style_dist=style)}


def test_ship_gate_needs_no_worse_everywhere_and_better_somewhere(tmp_path):
    ship = _ship()
    old = _ev(4.0, 0.8, 1.0)
    assert ship.passes(ship.gate_rows(_ev(3.9, 0.8, 1.0), old))
    assert not ship.passes(ship.gate_rows(_ev(4.0, 0.8, 1.0), old))  # a tie is not an improvement
    assert not ship.passes(ship.gate_rows(_ev(3.0, 0.79, 0.5), old))  # worse on one target
    assert not ship.passes(ship.gate_rows(_ev(3.9, 0.9, 1.01), old))
    # diversity: closer to the ground truth's (on a log scale) is better, a deterministic model is worst
    assert ship.passes(ship.gate_rows(_ev(4.0, 0.8, 1.0, div=1.0), old, gt_div=1.4))
    assert not ship.passes(ship.gate_rows(_ev(3.9, 0.8, 1.0, div=0.2), old, gt_div=1.4))
    assert not ship.passes(ship.gate_rows(_ev(3.9, 0.8, 1.0, div=0.0), old, gt_div=1.4))
    assert ship.passes(ship.gate_rows(_ev(3.9, 0.8, 1.0, div=0.2), old, gt_div=None))  # the pre-session-7 gate
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(_ev(4.1, 0.8, 1.0)))
    b.write_text(json.dumps(old))
    assert ship.main(["x.safetensors", "--eval", str(a), "--against", str(b)]) == 1  # refused: nothing written
