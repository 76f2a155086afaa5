"""SynthTalk: the shipped mini set loads and rebuilds exactly, the viseme table covers espeak-ng's phonemes,
coarticulation properties, splits and novel views."""

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies as st

from ggtalker_nb.core import InputError, data_samples_path
from ggtalker_nb.data.speech import tts
from ggtalker_nb.data.synthtalk import (
    ARTIC_CHANNELS,
    LANGUAGE_VOICE,
    SENTENCES,
    SYMBOL_TO_VISEME,
    UNSEEN_VARIANTS,
    UNSEEN_VOICES,
    VISEME_TARGETS,
    DEFAULT_CAMERA,
    build_synthtalk,
    clip_plan,
    clip_split,
    coarticulate,
    is_heldout_identity,
    phoneme_visemes,
    rebuild_clip,
    render_clip,
    sample_identity,
    sentence_ids,
    visemes_from_phonemes,
)
from ggtalker_nb.data.video import AudioMotionDataset, ClipReader, FramePairDataset, IdentityFramesDataset, list_clips
from ggtalker_nb.geometry import orbit_camera

MINI = data_samples_path("synthtalk_mini")


# ------------------------------------------------------------------ the shipped sample
def test_mini_is_small_and_complete():
    files = [p for p in MINI.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) <= 10 * 2**20
    info = json.loads((MINI / "synthtalk.json").read_text())
    clips = list_clips(MINI)
    assert len(clips) == info["n_identities"] * info["clips_per_identity"] == 6
    assert not any(p.name.startswith(".") for p in MINI.iterdir())  # no half-written clip shipped
    splits = {ClipReader(c).meta["split"] for c in clips}
    assert splits == {"train", "test_sentence", "heldout_adapt", "heldout_test"}


def test_mini_loads_with_every_dataset():
    am = AudioMotionDataset(MINI, window=20, split="train", with_pose=True)
    b = next(iter(torch.utils.data.DataLoader(am, batch_size=2)))
    assert b["audio"].shape == (2, 20 * 640) and b["jaw"].shape == (2, 20, 3) and b["expr"].shape[-1] == 50
    fp = FramePairDataset(MINI, split=["train", "test_sentence"])
    it = fp[3]
    assert it["source_image"].shape == (256, 256, 3) and it["target_mask"].shape == (256, 256)
    assert fp.frames[it["source_index"]][0] in range(len(fp.clips))
    idf = IdentityFramesDataset(MINI, "id0002")
    assert len(idf) == sum(ClipReader(c).n_frames for c in list_clips(MINI) if "id0002" in c.name)
    x = idf[0]
    # the head mask covers the head: projected landmarks lie inside it
    r = ClipReader(idf.clips[0])
    lm = np.round(r.landmarks[0] - 0.5).astype(int).clip(0, 255)
    assert x["mask"].numpy()[lm[:, 1], lm[:, 0]].mean() > 0.9


def test_rebuilding_a_shipped_clip_reproduces_it():
    d = MINI / "id0001_c000"
    r = ClipReader(d)
    espeak = r.meta["synthtalk"]["espeak_version"]
    re = rebuild_clip(d, render=False)
    assert re.meta["synthtalk"]["espeak_version"] == espeak, (
        "espeak-ng version differs from the one that built the sample"
    )
    for k, v in r.flame.to_dict().items():
        np.testing.assert_array_equal(re.flame.to_dict()[k], v, err_msg=k)
    for k, v in r.flame_clean.to_dict().items():
        np.testing.assert_array_equal(re.flame_clean.to_dict()[k], v, err_msg=k)
    np.testing.assert_allclose(re.audio, r.audio, atol=1 / 32767 + 1e-6)
    assert re.meta["phonemes"] == r.meta["phonemes"] and re.meta["text"] == r.meta["text"]
    torch.testing.assert_close(re.camera.viewmat, r.camera.viewmat)
    # frames: re-rendered from the stored parameters and camera, equal up to H.264 loss
    f = [0, r.n_frames // 2]
    v = render_clip(r, r.camera, frames=f)[0]
    assert np.abs(v.astype(float) - r.frames()[f]).mean() < 3.0


# ------------------------------------------------------------------ visemes and coarticulation
@pytest.mark.parametrize("lang", list(SENTENCES))
def test_every_espeak_phoneme_of_every_sentence_has_a_viseme(lang):
    unknown = set()
    for s in SENTENCES[lang]:
        for p in tts(s, LANGUAGE_VOICE[lang]).phonemes:
            if p.name != "_" and phoneme_visemes(p.name) == ["sil"]:
                unknown.add(p.name)
    assert not unknown, f"{lang}: phonemes without a viseme: {sorted(unknown)}"


def test_sentences_are_unique_and_sized():
    allsent = [s for v in SENTENCES.values() for s in v]
    assert len(set(allsent)) == len(allsent)
    assert len(SENTENCES["en"]) >= 60 and all(len(v) >= 12 for v in SENTENCES.values())
    assert set(SENTENCES) == {"en", "de", "fr", "es", "ru", "cmn-latn-pinyin"}


phoneme_lists = st.lists(
    st.tuples(st.sampled_from(sorted(SYMBOL_TO_VISEME) + ["_", "aɪ", "oʊ", "tʃ", "iː"]), st.floats(0.03, 0.25)),
    min_size=1,
    max_size=15,
)


@settings(max_examples=60, deadline=None)
@given(phoneme_lists, st.sampled_from([25.0, 30.0, 60.0]))
def test_coarticulation_is_a_bounded_smooth_blend(items, fps):
    t, phs = 0.0, []
    for name, d in items:
        phs.append((name, t, t + d))
        t += d
    T = int(np.ceil(t * fps)) + 5
    y = coarticulate(visemes_from_phonemes(phs), T, fps)
    assert y.shape == (T, len(ARTIC_CHANNELS)) and np.isfinite(y).all()
    # a convex combination of targets: never outside the targets' range
    assert (y >= VISEME_TARGETS.min(0) - 1e-9).all() and (y <= VISEME_TARGETS.max(0) + 1e-9).all()
    # bilabials long enough to be seen close the lips at their centre, whatever follows them
    P, J = ARTIC_CHANNELS.index("press"), ARTIC_CHANNELS.index("jaw")
    for name, a, b in phs:
        if phoneme_visemes(name) == ["PP"] and b - a >= 0.06:
            f = int(round((a + b) / 2 * fps - 0.5))
            assert y[f, P] > 0.8 and y[f, J] < 0.06, (name, a, b, y[f])
    # 'ordered' (motion versions 1 and 2) is the blend as it was: the closures applied one after another
    np.testing.assert_array_equal(
        coarticulate(visemes_from_phonemes(phs), T, fps, closures="ordered"),
        _ordered(visemes_from_phonemes(phs), T, fps),
    )


def _ordered(vis, T, fps):
    "Reference: `coarticulate` as motion versions 1 and 2 computed it (default arguments), closures applied in order."
    from ggtalker_nb.data.synthtalk import _CLOSURES, _SPREAD, VISEME_DOMINANCE, VISEMES

    t = (np.arange(T) + 0.5) / fps
    num = np.zeros((T, len(ARTIC_CHANNELS))) + 0.02 * VISEME_TARGETS[0]
    den = np.full((T, len(ARTIC_CHANNELS)), 0.02)
    for v, a, b in vis:
        k = VISEMES.index(v)
        c, d = (a + b) / 2, max(b - a, 1e-3)
        sig_after = np.clip(0.4 * d, 0.035, 0.07) * _SPREAD[k]
        sig = np.where((t < c)[:, None], 1.4 * sig_after[None], sig_after[None])
        D = VISEME_DOMINANCE[k] * np.exp(-0.5 * (np.maximum(np.abs(t - c) - 0.25 * d, 0)[:, None] / sig) ** 2)
        num += D * VISEME_TARGETS[k]
        den += D
    y = num / den
    for v, a, b in vis:
        if v in _CLOSURES:
            k, ch, c, d = VISEMES.index(v), _CLOSURES[v], (a + b) / 2, max(b - a, 1e-3)
            w = np.exp(-0.5 * (np.maximum(np.abs(t - c) - 0.25 * d, 0) / 0.04) ** 2)[:, None]
            y[:, ch] = (1 - w) * y[:, ch] + w * VISEME_TARGETS[k, ch]
    return y


def test_a_bilabial_before_another_closure_reaches_its_target():
    "/b/ then /ʋ/ or /f/: version 2 ('ordered') let the labiodental's ramp pull the /b/ open; 'strongest' does not."
    P = ARTIC_CHANNELS.index("press")
    for nxt in ("ʋ", "f"):
        vis = visemes_from_phonemes([("a", 0, 0.2), ("b", 0.2, 0.262), (nxt, 0.262, 0.33), ("a", 0.33, 0.5)])
        f = int(round(0.231 * 25 - 0.5))  # the frame at the /b/'s centre
        old, new = coarticulate(vis, 18, 25, closures="ordered"), coarticulate(vis, 18, 25)
        assert old[f, P] < 0.8 < new[f, P], (old[f, P], new[f, P])
        np.testing.assert_allclose(new[:3], old[:3], atol=0.01)  # far from the closures hardly anything changes
    with pytest.raises(Exception, match="closures"):
        coarticulate(vis, 18, 25, closures="last")


def test_anticipation_precedes_and_carry_over_follows():
    fps = 100.0
    y = coarticulate(visemes_from_phonemes([("s", 0, 0.3), ("u", 0.3, 0.5), ("s", 0.5, 0.9)]), 90, fps)
    PU = ARTIC_CHANNELS.index("pucker")
    assert y[25, PU] > 0.1  # rounding starts before /u/ begins (t = 0.25 s)
    assert y[55, PU] > 0.1  # and lasts after it ends (t = 0.55 s)
    assert y[40, PU] > 0.75  # /u/ itself is well rounded
    assert y[5, PU] < 0.25 and y[85, PU] < 0.05  # far away it fades (anticipation reaches further)
    assert y[25, PU] > y[55, PU] - 0.2


# ------------------------------------------------------------------ identities, splits, plans
def test_identity_is_independent_of_dataset_size_and_seeded():
    assert sample_identity(7, 3).to_json() == sample_identity(7, 3).to_json()
    assert sample_identity(7, 3).to_json() != sample_identity(8, 3).to_json()


@pytest.mark.parametrize("n,K", [(1, 1), (3, 2), (10, 6), (12, 4)])
def test_split_rules(n, K):
    held = [i for i in range(n) if is_heldout_identity(i, n)]
    if n >= 5:
        assert held == [i for i in range(n) if i % 5 == 4]
    for i in range(n):
        sp = [clip_split(i, k, n, K) for k in range(K)]
        if i in held:
            assert set(sp) <= {"heldout_adapt", "heldout_test"}
        else:
            assert sp[0] == "train" and set(sp) <= {"train", "test_sentence", "test_voice", "test_language"}
    # sentence and voice pools respect the split
    heldout = {SENTENCES["en"][j] for _, j in sentence_ids("heldout")}
    for i in range(n):
        ident = sample_identity(0, i)
        for k in range(K):
            p = clip_plan(0, ident, k, n, K)
            if p["split"] in ("train", "heldout_adapt", "test_voice"):
                assert p["text"] not in heldout and p["language"] == "en"
            if p["split"] in ("test_sentence", "heldout_test"):
                assert p["text"] in heldout
            if p["split"] == "test_voice":
                assert p["voice"].name in UNSEEN_VOICES and p["voice"].variant in UNSEEN_VARIANTS
            else:
                assert p["voice"].variant not in UNSEEN_VARIANTS
            if p["split"] == "test_language":
                assert p["language"] != "en"


def test_build_rejects_bad_arguments(tmp_path):
    with pytest.raises(InputError):
        build_synthtalk(tmp_path, n_identities=0)
    with pytest.raises(InputError):
        build_synthtalk(tmp_path, size=4)


# ------------------------------------------------------------------ novel views
def test_novel_views_cover_the_documented_range():
    r = ClipReader(MINI / "id0000_c000")
    yaw = torch.tensor([-60.0, 60.0, 0.0, 0.0])
    pitch = torch.tensor([0.0, 0.0, -20.0, 20.0])
    cams = orbit_camera(
        yaw,
        pitch,
        DEFAULT_CAMERA["dist"],
        target=DEFAULT_CAMERA["target"],
        fov_deg=DEFAULT_CAMERA["fov_deg"],
        width=96,
        height=96,
    )
    v = render_clip(r, cams, frames=[4], background=(1.0, 1.0, 1.0))
    assert v.shape == (4, 1, 96, 96, 3)
    covered = (v[:, 0] < 250).any(-1).mean((1, 2))
    assert (covered > 0.1).all(), covered  # head and torso visible from every view
    assert np.abs(v[0, 0].astype(float) - v[1, 0][:, ::-1]).mean() > 1  # left and right views are different images


# ------------------------------------------------------------------ resumable building
def test_interrupted_build_resumes_to_the_same_dataset(tmp_path, monkeypatch):
    import ggtalker_nb.data.synthtalk as S

    kw = dict(n_identities=2, clips_per_identity=2, size=32, seed=3, progress=False, max_seconds=0.6)
    real, calls = S.write_clip, []

    def crashing(d, clip, **k):
        calls.append(d)
        if len(calls) == 3:  # a crash half-way through the third clip
            p = Path(d).parent / f".{Path(d).name}.partial-999-dead"
            p.mkdir()
            (p / "meta.json").write_text("{}")
            raise KeyboardInterrupt
        return real(d, clip, **k)

    monkeypatch.setattr(S, "write_clip", crashing)
    with pytest.raises(KeyboardInterrupt):
        build_synthtalk(tmp_path / "a", **kw)
    assert len(list_clips(tmp_path / "a")) == 2
    monkeypatch.setattr(S, "write_clip", real)
    s = build_synthtalk(tmp_path / "a", **kw)
    assert (s["built"], s["skipped"]) == (2, 2) and not list((tmp_path / "a").glob(".*partial*"))
    build_synthtalk(tmp_path / "b", **kw)
    for ca, cb in zip(list_clips(tmp_path / "a"), list_clips(tmp_path / "b")):
        assert ca.name == cb.name
        for k, v in ClipReader(ca).flame.to_dict().items():
            np.testing.assert_array_equal(v, ClipReader(cb).flame.to_dict()[k])
        np.testing.assert_array_equal(ClipReader(ca).frames(), ClipReader(cb).frames())
    with pytest.raises(InputError, match="size=32"):
        build_synthtalk(tmp_path / "a", **{**kw, "size": 48})


def test_version_3_differs_from_2_only_at_the_closures_and_resynthesises_exactly(tmp_path):
    "Same seeds, version 2 vs 3: the same utterance, lips closed at every bilabial; `resynthesize_truth` reproduces 3."
    from ggtalker_nb.a2e.eval import resynthesize_truth
    from ggtalker_nb.data.synthtalk import SynthTalk
    from ggtalker_nb.data.video import ClipReader, write_clip
    from ggtalker_nb.flame import FLAME
    from ggtalker_nb.sample_head import load_sample_head

    # "Peter bought a pair of purple mittens": bilabials next to bilabials and labiodentals
    c2, c3 = (SynthTalk(0, 3, 4, size=32, motion_version=v).make_clip(2, 3, render=False) for v in (2, 3))
    assert c3.meta["synthtalk"]["motion_version"] == 3 and c2.meta["phonemes"] == c3.meta["phonemes"]
    assert c2.meta["synthtalk"]["variety"] == c3.meta["synthtalk"]["variety"]
    d = np.abs(c3.flame.jaw[:, 0] - c2.flame.jaw[:, 0])
    assert d.max() < 0.05 and np.median(d) < 1e-6, (d.max(), np.median(d))  # a few frames near closures differ
    assert np.abs(c3.flame.expr - c2.flame.expr).max() > 0.05  # the lips: pressed where version 2 let them part
    write_clip(tmp_path / "id0002_c003", c3)
    r = ClipReader(tmp_path / "id0002_c003")
    (own,) = resynthesize_truth(r, [None], FLAME(load_sample_head()))
    gt = r.flame_clean if r.flame_clean is not None else r.flame
    np.testing.assert_allclose(own.jaw, gt.jaw, atol=1e-6)
    np.testing.assert_allclose(own.expr, gt.expr, atol=1e-6)
