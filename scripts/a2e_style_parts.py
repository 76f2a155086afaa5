r"""Issue #17, session 8: why the A2E priors' style distance stays at regression's — the style distance split into its
parts, per model and sampler setting (cached; one thread; rerun to add settings).

    python scripts/a2e_style_parts.py parts SETTING [SETTING ...]   # style parts of each setting
    python scripts/a2e_style_parts.py lve SETTING [SETTING ...]     # lip error / mouth-open corr / diversity
    python scripts/a2e_style_parts.py resid [MODEL]                 # a residual model's residual in and out of sample
    python scripts/a2e_style_parts.py spread SETTING [SETTING ...]  # sampled vs true residual spread (residual models)
    python scripts/a2e_style_parts.py tau MODEL                     # a residual prior's temperature, on validation
    python scripts/a2e_style_parts.py table                         # write the session-8 tables (below)

SETTING: `oracle:K` (the ground truth re-synthesised with utterance variety K) or `MODEL[/T=τ][/eta=η][/n=steps]
[/g=a,i][/s=seed][/sm=σ][/pc=1]`; MODEL is a file or a name in `MODELS` below; T: a residual model's temperature;
eta: DDIM stochasticity; n: DDIM steps (10); g: guidance (1, 2); s: sampling seed; sm: Gaussian smoothing of the
output motion over time (σ in frames; an ablation); pc=1: each clip its own noise seed (`clip_seed`), else every clip
the same seed. Style: 16 speakers × 6 held-out sentences of data/style_a2e, one sample per clip, as `evaluate_style`;
per signal (opening, corners, upper lip) the mean |z| of the 5 quantiles and of the 4 spectral bands, and the signed z
per feature (mean over speakers). `lve`: held-out sentences of data/synthtalk_a2e (SPLITS=... for others), 4 samples.
`tau`: the temperature is chosen on a validation split, not a test split: the `heldout_adapt` clips of
data/synthtalk_a2e (4 identities no A2E model trained on and no A2E test uses; identity row unknown), 4 samples per
clip at temperatures TAUS (default 0,0.25,0.5,0.75,1); chosen: the largest whose validation lip error is within
0.05 mm (the regression baseline's training-seed spread) of the mean head's (temperature 0).
Results: runs/a2e_work/style_parts.json (key = the setting; each with its machine load). `table` writes the tables
a2e_style_parts, a2e_voice_aug and a2e_big and the #17 headline (order 17) into results/a2e_ablation.json from
that file and from the `scripts/eval_a2e.py` files in runs/a2e_work and runs/a2e_s8_work (other tables kept).
"""

import json
import os
import sys
import time

import numpy as np
import torch

import ggtalker_nb.a2e.eval as ev
import ggtalker_nb.a2e.model as am
from ggtalker_nb.a2e.eval import STYLE_SIGNALS, _fit_last, clip_seed, load_any, style_features, style_signals
from ggtalker_nb.data.video import ClipReader, clip_paths
from ggtalker_nb.flame import FLAME
from ggtalker_nb.sample_head import load_sample_head
from ship_a2e import seed_values  # scripts/: the held-out-sentence figure over an evaluation file's sampling seeds

torch.set_num_threads(1)
OUT = os.environ.get("STYLE_PARTS_OUT", "runs/a2e_work/style_parts.json")
MODELS = dict(
    ship="data_samples/priors/a2e_cpu.safetensors",  # the cached 'ship' settings: the prior shipped until session 9
    reg="runs/a2e_long_regression_s0/final.safetensors",  # 2400-step regression = the session-7 mean head
    res="runs/a2e_residual_s0/final.safetensors",  # session-7 residual prior
    s8="runs/a2e_s8_speed_s0/final.safetensors",  # residual branch retrained on speed-perturbed windows
    regft="runs/a2e_s8_regft_s0/final.safetensors",  # regression + 400 steps (control)
    bigres="runs/a2e_big_residual_s0/final.safetensors",
    bigprior="runs/a2e_big_prior_s0/final.safetensors",
    bigregspeed="runs/a2e_s8_big_regspeed_s0/final.safetensors",
    bigregft="runs/a2e_s8_big_regft_s0/final.safetensors",
    bigresspeed="runs/a2e_s8_big_resspeed_s0/final.safetensors",
    **{f"regspeed{k}": f"runs/a2e_s8_regspeed_s{k}/final.safetensors" for k in range(3)},
    **{f"bigregspeed{k}": f"runs/a2e_s8_big_regspeed_s{k}/final.safetensors" for k in range(3)},
    **{f"bigresspeed{k}": f"runs/a2e_s8_big_resspeed_s{k}/final.safetensors" for k in range(3)},
    bigregacc2="runs/a2e_s9_big_regacc2_s0/final.safetensors",  # session 9: + the lip acceleration term
    **{f"bigreg{k}": f"runs/a2e_big_regression_s{k}/final.safetensors" for k in range(3)},
)
FL = FLAME(load_sample_head())
mot = lambda tr: torch.cat([_fit_last(torch.as_tensor(tr.expr), 50), torch.as_tensor(tr.jaw)], -1).float()
truth = lambda r: r.flame_clean if r.flame_clean is not None else r.flame


def smooth(m: torch.Tensor, sigma: float) -> torch.Tensor:
    "Gaussian smoothing over time (σ frames) of (K, T, D) motion, edges replicated."
    if sigma <= 0:
        return m
    r = int(3 * sigma + 0.5)
    w = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=torch.float32) / sigma) ** 2)
    K, T, D = m.shape
    x = torch.nn.functional.pad(m.permute(0, 2, 1).reshape(K * D, 1, T), (r, r), mode="replicate")
    return torch.nn.functional.conv1d(x, (w / w.sum())[None, None]).reshape(K, D, T).permute(0, 2, 1)


def _average_speaker_guidance(model, w: float):
    """A regressor's output pushed away from the average speaker's: y(ē) + w (y(id) − y(ē)), ē the mean of the known
    identity rows (an inference-time ablation; w = 1 is the regressor)."""
    from ggtalker_nb.a2e.train import A2ERegressor

    if not isinstance(model, A2ERegressor):
        raise SystemExit("ig=: regressors only")
    fwd = model.forward

    def forward(audio, identity):
        c = model.config
        a = model.cond_enc(model.audio_in(audio) + am.sinusoidal_positions(audio.shape[1], c.d, audio.device))
        dec = lambda e: model.out(model.out_norm(model.decoder(a + model.id_proj(e)[:, None])))
        ident = identity.clone()
        ident[(ident < 0) | (ident > c.n_identities)] = c.n_identities
        e_bar = model.id_emb.weight[: c.n_identities].mean(0).expand(len(ident), -1)
        y_bar = dec(e_bar)
        return y_bar + w * (dec(model.id_emb(ident)) - y_bar)

    model.forward = forward if w != 1 else fwd


def setup(setting: str):
    "model, encoder, identity names, steps, guidance, seed, per-clip seeds, predict(…) for one setting."
    tok = setting.split("/")
    kv = dict(t.split("=") for t in tok[1:])
    model, enc, kind, names = load_any(MODELS.get(tok[0], tok[0]))
    if getattr(model, "residual", False):
        model.config.temperature = float(kv.get("T", model.config.temperature))
    if "ig" in kv:  # identity guidance against the average speaker on a regressor (session 9 ablation)
        _average_speaker_guidance(model, float(kv["ig"]))
    eta, sm = float(kv.get("eta", 0)), float(kv.get("sm", 0))
    ev.sample = lambda *a, **k: am.sample(*a, **{**k, "eta": eta})  # DDIM η for predict_motion's sampler
    orig = ev.predict_motion.__wrapped__ if hasattr(ev.predict_motion, "__wrapped__") else ev.predict_motion

    def predict(*a, **k):
        return smooth(orig(*a, **k), sm)

    predict.__wrapped__ = orig
    G = tuple(float(x) for x in kv.get("g", "1,2").split(","))
    return model, enc, names, int(kv.get("n", 10)), G, int(kv.get("s", 0)), kv.get("pc") == "1", predict


def components(true: dict, pred: dict) -> dict:
    "The style distance and its parts (see the module docstring)."
    ids = [k for k in true if k in pred]
    ft = np.stack([style_features(true[k]) for k in ids])
    fp = np.stack([style_features(pred[k]) for k in ids])
    scale = ft.std(0) + 1e-3 * (np.abs(ft).mean(0) + 1e-6)  # as style_report
    z = ((fp - ft) / scale).reshape(len(ids), 3, 9)
    out = dict(style_dist=float(np.abs(z).mean()))
    for j, s in enumerate(STYLE_SIGNALS):
        out[f"{s}.q|z|"] = float(np.abs(z[:, j, :5]).mean())
        out[f"{s}.spec|z|"] = float(np.abs(z[:, j, 5:]).mean())
        out[f"{s}.q_signed"] = [round(float(v), 2) for v in z[:, j, :5].mean(0)]
        out[f"{s}.spec_signed"] = [round(float(v), 2) for v in z[:, j, 5:].mean(0)]
    return out


def style_clips(names):
    clips, count = [], {}
    for p in clip_paths("data/style_a2e"):
        r = ClipReader(p)
        if r.identity in names and count.get(r.identity, 0) < 6:
            count[r.identity] = count.get(r.identity, 0) + 1
            clips.append(r)
    return clips


def parts(setting: str) -> dict:
    names = load_any(MODELS["ship"])[3]
    clips = style_clips(names)
    true, pred = {}, {}
    for r in clips:
        true.setdefault(r.identity, []).append(style_signals(FL, mot(truth(r)), 50))
    if setting.startswith("oracle:"):
        k = int(setting.split(":")[1])
        for r in clips:
            m = mot(ev.resynthesize_truth(r, [k], FL)[0])
            pred.setdefault(r.identity, []).append(style_signals(FL, m, 50))
    else:
        model, enc, nm, steps, G, seed, pc, predict = setup(setting)
        for r in clips:
            sd = clip_seed(seed, r.path.name) if pc else seed
            m = predict(model, enc, r.audio, nm.index(r.identity), 1, steps, "ddim", G, sd, n_frames=len(truth(r)))
            pred.setdefault(r.identity, []).append(style_signals(FL, m[0], 50))
    return components(true, pred)


def lve(setting: str) -> dict:
    model, enc, nm, steps, G, seed, pc, predict = setup(setting)
    ev.predict_motion = predict
    splits = tuple(os.environ.get("SPLITS", "test_sentence").split(","))
    return ev.evaluate_a2e(model, "data/synthtalk_a2e", splits, enc, FL, 4, steps, "ddim", G, seed)["summary"]


@torch.no_grad()
def spread(setting: str) -> dict:
    "Held-out sentences: std of the true residual (x − μ)/res_std and of 4 sampled residuals (temperature 1)."
    model, enc, names, steps, G, seed, pc, _ = setup(setting)
    eta = float(dict(t.split("=") for t in setting.split("/")[1:]).get("eta", 0))
    c, T, S = model.config, [], []
    for p in clip_paths("data/synthtalk_a2e"):
        r = ClipReader(p)
        if r.meta.get("split") != "test_sentence":
            continue
        x = mot(truth(r))[None]
        f = ev.encode_audio(enc, r.audio, len(x[0]), c.window, c.context)
        ident = torch.tensor([names.index(r.identity)])
        mu = model.mean_motion(f, ident)
        T.append(((model.normalizer.normalize(x) - mu) / model.res_std)[0].numpy())
        g = torch.Generator().manual_seed(seed)
        smp = am.sample(model, f.expand(4, -1, -1), ident.expand(4), steps, "ddim", G, eta, g, True, 1.0)
        S.extend(((smp - mu) / model.res_std).numpy())
    T, S = np.concatenate(T), np.concatenate(S)
    return dict(true_std=float(T.std(0).mean()), sample_std=float(S.std(0).mean()))


def tau(src: str) -> dict:
    "Validation rows per temperature and the chosen one (module docstring)."
    model, enc, kind, names = load_any(MODELS.get(src, src))
    rows = {}
    for t in [float(x) for x in os.environ.get("TAUS", "0,0.25,0.5,0.75,1").split(",")]:
        model.config.temperature = t
        s = ev.evaluate_a2e(
            model, "data/synthtalk_a2e", ("heldout_adapt",), enc, FL, 4, 10, "ddim", (1.0, 2.0), 0, identity=None
        )["summary"]["heldout_adapt"]
        rows[str(t)] = dict(lve=s["lve"], mo_corr=s["mo_corr"], div=s["div"], load=os.getloadavg()[0])
        print(src, t, rows[str(t)], flush=True)
    base = rows[str(0.0)]["lve"]
    return dict(rows=rows, chosen=max(float(t) for t, r in rows.items() if r["lve"] <= base + 0.05))


@torch.no_grad()
def resid(src: str) -> dict:
    "std of (x − mean head)/res_std on held-out sentences, training clips, and training clips heard 10 % slower/faster."
    from scipy.signal import resample_poly

    model, enc, kind, names = load_any(MODELS.get(src, src))
    c = model.config

    def one(r, updown=None):
        x, a = mot(truth(r)), r.audio
        if updown:
            up, down = updown
            a = resample_poly(np.asarray(a, np.float64), up, down).astype(np.float32)
            t = np.arange(int(round(len(x) * up / down))) * down / up
            x = torch.as_tensor(np.stack([np.interp(t, np.arange(len(x)), x[:, j]) for j in range(x.shape[1])], 1))
        f = ev.encode_audio(enc, a, len(x), c.window, c.context)
        mu = model.mean_motion(f, torch.tensor([names.index(r.identity)]))
        return ((model.normalizer.normalize(x[None].float()) - mu) / model.res_std)[0].numpy()

    rs = [ClipReader(p) for p in clip_paths("data/synthtalk_a2e")]
    train = [r for r in rs if r.meta.get("split") == "train"][::5]
    test = [r for r in rs if r.meta.get("split") == "test_sentence"]
    out = {}
    for name, cl, ud in [
        ("held-out sentences", test, None),
        ("training clips", train, None),
        ("training clips, 10 % slower", train, (11, 10)),
        ("training clips, 10 % faster", train, (10, 11)),
    ]:
        R = np.concatenate([one(r, ud) for r in cl])
        out[name] = dict(clips=len(cl), std_mean=float(R.std(0).mean()), std_jaw=R[:, c.n_expr].std().item())
    return out


def _ms(xs):
    xs = [float(x) for x in xs if x is not None]
    if not xs:
        return None, None
    return round(float(np.mean(xs)), 3), (round(float(np.std(xs)), 3) if len(xs) > 1 else None)


def _ev(name):
    for d in ("runs/a2e_s8_work", "runs/a2e_work"):
        if os.path.exists(f"{d}/eval_{name}.json"):
            return json.load(open(f"{d}/eval_{name}.json"))
    return None


def _parts_row(D, model, seeds, keys):
    V = [D[k] for k in keys if k in D]
    if not V:
        return None
    m = lambda f: _ms([f(v) for v in V])[0]
    st, sd = _ms([v["style_dist"] for v in V])
    row = dict(model=model, seeds=seeds, n=len(V), style_dist=st, style_sd=sd)
    for sg in STYLE_SIGNALS:
        row[f"{sg}_q"], row[f"{sg}_spec"] = m(lambda v: v[f"{sg}.q|z|"]), m(lambda v: v[f"{sg}.spec|z|"])
    row["z_opening_q10"] = m(lambda v: v["opening.q_signed"][0])
    row["z_upper_lip_q90"] = m(lambda v: v["upper_lip.q_signed"][4])
    row["z_upper_lip_6_12Hz"] = m(lambda v: v["upper_lip.spec_signed"][3])
    row["z_opening_6_12Hz"] = m(lambda v: v["opening.spec_signed"][3])
    return row


def _ev_row(model, seeds, names, D=None, pc_keys=()):
    E = [e for e in map(_ev, names) if e]
    if not E:
        return None
    sp = lambda s, k: [e["seed0:splits"][s][k] for e in E]
    lve = [v for e in E for v in seed_values(e, "lve")]
    shared = [e[k]["style_dist"] for e in E for k in e if k.endswith(":style")]
    pc = [D[k]["style_dist"] for k in pc_keys if D and k in D]
    row = dict(model=model, seeds=seeds)
    row["lve_sentences"], row["lve_sd"] = _ms(lve)
    for s, n in (("test_sentence", "sentences"), ("test_voice", "voices"), ("test_language", "languages")):
        row[f"corr_{n}"], row[f"corr_{n}_sd"] = _ms(sp(s, "mo_corr"))
    row["lve_voices"] = _ms(sp("test_voice", "lve"))[0]
    row["div_mm"] = _ms(sp("test_sentence", "div"))[0]
    row["style_shared_seed"], row["style_shared_seed_sd"] = _ms(shared)
    row["style_per_clip_seed"], row["style_per_clip_seed_sd"] = _ms(pc)
    row["noise10_lve"] = _ms([e.get("degraded:noise 10 dB", {}).get("lve") for e in E])[0]
    return row


def table():
    "Write the session-8 tables and the #17 headline into results/a2e_ablation.json."
    import subprocess

    D = json.load(open(OUT))
    pc = lambda base, seeds=(0, 1, 2): [f"{base}/pc=1/s={s}" for s in seeds]
    P = lambda *a: _parts_row(D, *a)
    small = "144 training clips: "
    big = "912 training clips: "
    parts_rows = [
        P(
            "oracle: ground truth re-synthesised with another utterance variety",
            "3 varieties",
            ["oracle:0", "oracle:1", "oracle:2"],
        ),
        P("previous shipped prior (motion v1, x0 diffusion; until session 9)", "3 sampling seeds", pc("ship")),
        P(small + "regression, 2400 steps (the session-7 mean head)", "deterministic", ["reg"]),
        P(small + "regression + 400 steps (control)", "training seed 0", ["regft"]),
        P(
            small + "regression + 400 steps on speed-perturbed windows",
            "3 training seeds",
            [f"regspeed{k}" for k in range(3)],
        ),
        P(small + "residual prior (session 7), temperature 0.5", "3 sampling seeds", pc("res/T=0.5")),
        P(small + "residual prior (session 7), temperature 1", "3 sampling seeds", pc("res/T=1")),
        P(small + "residual prior, temperature 1, guidance (2, 2)", "sampling seed 0", pc("res/T=1/g=2,2", (0,))),
        P(small + "residual prior, temperature 1, guidance (3, 2)", "sampling seed 0", pc("res/T=1/g=3,2", (0,))),
        P(small + "residual prior, temperature 1, stochastic DDIM η 1", "seed 0, shared", ["res/T=1/eta=1"]),
        P(small + "residual prior, temperature 1, DDIM 50 steps", "seed 0, shared", ["res/T=1/n=50"]),
        P(small + "residual prior, temperature 2", "seed 0, shared", ["res/T=2"]),
        P(small + "residual prior, temperature 3", "seed 0, shared", ["res/T=3"]),
        P(
            small + "residual blocks retrained on speed-perturbed windows, temperature 0.5",
            "3 sampling seeds",
            pc("s8/T=0.5"),
        ),
        P(
            small + "residual blocks retrained on speed-perturbed windows, temperature 1",
            "3 sampling seeds",
            pc("s8/T=1"),
        ),
        P(small + "regression smoothed over time, σ 0.5 frame", "deterministic", ["reg/sm=0.5"]),
        P(small + "regression smoothed over time, σ 0.7 frame", "deterministic", ["reg/sm=0.7"]),
        P(small + "regression smoothed over time, σ 1 frame", "deterministic", ["reg/sm=1"]),
        P(big + "regression, 2400 steps", "training seeds", [f"bigreg{k}" for k in range(3)]),
        P(big + "regression + 400 steps on speed-perturbed windows", "training seed 0", ["bigregspeed"]),
        P(big + "regression + 400 steps (control)", "training seed 0", ["bigregft"]),
        P(
            big + "regression + 400 speed-perturbed steps + the lip acceleration term (--lip-acc 2; session 9)",
            "training seed 0",
            ["bigregacc2"],
        ),
        P(
            big + "speed-perturbed mean head pushed from the average speaker, w 1.5 (session 9; `/ig=1.5`)",
            "training seed 0",
            ["bigregspeed/ig=1.5"],
        ),
        P(big + "the same, w 2 (`/ig=2`)", "training seed 0", ["bigregspeed/ig=2"]),
        P(big + "residual prior, temperature 0.5", "3 sampling seeds", pc("bigres/T=0.5")),
        P(big + "residual prior, temperature 0.5, guidance (2, 2)", "sampling seed 0", pc("bigres/T=0.5/g=2,2", (0,))),
        P(big + "residual prior, temperature 1", "3 sampling seeds", pc("bigres/T=1")),
        P(
            big + "residual prior on the speed-perturbed mean head, temperature 0.5",
            "3 sampling seeds",
            pc("bigresspeed/T=0.5"),
        ),
        P(big + "x0 prior (2400 steps, warm from the shipped prior)", "3 sampling seeds", pc("bigprior")),
    ]
    parts = dict(
        name="a2e_style_parts",
        title="Style distance split into its parts (#17 session 8): mean |z| per signal × (amplitude quantiles, "
        "spectra) and the signed z of the largest terms",
        columns=[
            "model",
            "seeds",
            "n",
            "style_dist",
            "style_sd",
            "opening_q",
            "opening_spec",
            "corners_q",
            "corners_spec",
            "upper_lip_q",
            "upper_lip_spec",
            "z_opening_q10",
            "z_upper_lip_q90",
            "z_upper_lip_6_12Hz",
            "z_opening_6_12Hz",
        ],
        rows=[r for r in parts_rows if r],
        notes=[
            "16 speakers × 6 held-out sentences in their own voice (data/style_a2e), one sample per clip, DDIM 10, "
            "guidance (1, 2) unless the row says otherwise; style_dist = mean |z| of 27 features (3 signals × 5 "
            "quantiles + 4 spectral bands), z = (predicted − true) / the spread of the true feature over speakers; "
            "lower is better. The issue's target: ≤ 0.93 (20 % better than the 144-clip regression's 1.157).",
            "Sampling seeds: a noise seed per clip (`evaluate_style(per_clip_seed=True)`) unless the row says "
            "'shared' (every clip the same seed, as the earlier tables; it moves all clips of a speaker together).",
            "Signed z: z_opening_q10 > 0: closures stop short; z_upper_lip_q90 < 0: the upper lip's largest "
            "excursions are missing; z_*_6_12Hz > 0: too much 6–12.5 Hz motion.",
            "Command: `python scripts/a2e_style_parts.py parts SETTING` (the settings in "
            "runs/a2e_work/style_parts.json, each with its load); the shared 2-core CPU, 1 thread, load 1–4.",
        ],
    )
    voice_rows = [
        _ev_row(small + "regression, 2400 steps", "training seed 0", ["regression_s0"], D, ["reg"]),
        _ev_row(small + "regression + 400 steps (control)", "training seed 0", ["s8_regft_s0"], D, ["regft"]),
        _ev_row(
            small + "regression + 400 steps, speed-perturbed",
            "3 training seeds",
            [f"s8_regspeed_s{k}" for k in range(3)],
            D,
            [f"regspeed{k}" for k in range(3)],
        ),
        _ev_row(
            small + "residual blocks retrained on speed-perturbed windows, temperature 1",
            "3 sampling seeds",
            ["s8_speed_s0_t1"],
            D,
            pc("s8/T=1"),
        ),
        _ev_row(
            big + "regression, 2400 steps",
            "3 training seeds",
            [f"big_regression_s{k}" for k in range(3)],
            D,
            [f"bigreg{k}" for k in range(3)],
        ),
        _ev_row(
            big + "regression + 400 steps, speed-perturbed", "training seed 0", ["big_regspeed_s0"], D, ["bigregspeed"]
        ),
        _ev_row(big + "regression + 400 steps (control)", "training seed 0", ["big_regft_s0"], D, ["bigregft"]),
        _ev_row(
            big + "regression + 400 steps, speed-perturbed — training seed 1 (on regression seed 1)",
            "training seed 1",
            ["big_regspeed_s1"],
        ),
    ]
    voice = dict(
        name="a2e_voice_aug",
        title="Other-voice (speed) perturbation of the training windows (#17 session 8): the regression mean head "
        "fine-tuned 400 steps with half its windows 1 ± 4–12 % faster or slower, against the same steps without",
        columns=[
            "model",
            "seeds",
            "lve_sentences",
            "lve_sd",
            "corr_sentences",
            "corr_sentences_sd",
            "corr_voices",
            "corr_voices_sd",
            "corr_languages",
            "corr_languages_sd",
            "lve_voices",
            "div_mm",
            "style_shared_seed",
            "style_shared_seed_sd",
            "style_per_clip_seed",
            "style_per_clip_seed_sd",
            "noise10_lve",
        ],
        rows=[r for r in voice_rows if r],
        notes=[
            "SpeedPerturbed (a2e.train) + speed_perturb (a2e.audio): pitch, formants and rate scale together, motion "
            "time-warped; factors seeded by (seed, window). Target: unseen voices and languages ≥ 0.75.",
            "Training: `python scripts/train_a2e.py regression --data DATA --steps 400 --batch 16 --augment 0.2 "
            "--speed-perturb 0.5 --lr 5e-5 --warmup 30 --no-val --ckpt-every 100 --seed S --init "
            "RUN/final.safetensors --out OUT` (control: --speed-perturb 0); DATA/RUN/OUT: data/synthtalk_a2e, "
            "runs/a2e_long_regression_s0, runs/a2e_s8_regspeed_sS (control runs/a2e_s8_regft_s0); "
            "data/synthtalk_a2e_big, runs/a2e_big_regression_s0, runs/a2e_s8_big_regspeed_s0 (control "
            "runs/a2e_s8_big_regft_s0). About 5.5 min each.",
            "Figures: `python scripts/eval_a2e.py MODEL NAME --out-dir runs/a2e_s8_work` (data/synthtalk_a2e's "
            "held-out sentences / unseen voices / unseen languages, DDIM 10, guidance (1, 2)); style per clip seed: "
            "`python scripts/a2e_style_parts.py parts`. ± = std over the seeds named.",
        ],
    )
    big_rows = [
        _ev_row(small + "regression, 2400 steps", "training seed 0", ["regression_s0"], D, ["reg"]),
        _ev_row(
            big + "regression, 2400 steps",
            "3 training seeds",
            [f"big_regression_s{k}" for k in range(3)],
            D,
            [f"bigreg{k}" for k in range(3)],
        ),
        _ev_row(
            big + "residual prior, temperature 0.5", "3 sampling seeds", ["big_residual_s0_t05"], D, pc("bigres/T=0.5")
        ),
        _ev_row(
            big + "residual prior, temperature 0.5 — training seed 1 (its mean head: regression seed 1)",
            "3 sampling seeds",
            ["big_residual_s1_t05"],
        ),
        _ev_row(big + "residual prior, temperature 1", "3 sampling seeds", ["big_residual_s0_t1"], D, pc("bigres/T=1")),
        _ev_row(
            big + "residual prior on the speed-perturbed mean head, temperature 0.5",
            "3 sampling seeds",
            ["big_resspeed_s0_t05"],
            D,
            pc("bigresspeed/T=0.5"),
        ),
        _ev_row(
            big + "residual prior on the speed-perturbed mean head, temperature 0.5 — training seed 1",
            "3 sampling seeds",
            ["big_resspeed_s1_t05"],
        ),
        _ev_row(big + "x0 prior", "3 sampling seeds", ["big_prior_s0"], D, pc("bigprior")),
        _ev_row("previous shipped prior (motion v1, until session 9)", "3 sampling seeds", ["shipped"], D, pc("ship")),
    ]
    orc = _ms([D[k]["style_dist"] for k in ("oracle:0", "oracle:1", "oracle:2") if k in D])
    bigt = dict(
        name="a2e_big",
        title="A2E on 6× more training clips (#17 session 8): 912 motion-version-2 training clips instead of 144, "
        "scored on the same held-out splits",
        columns=[
            "model",
            "seeds",
            "lve_sentences",
            "lve_sd",
            "corr_sentences",
            "corr_sentences_sd",
            "lve_voices",
            "corr_voices",
            "corr_voices_sd",
            "corr_languages",
            "corr_languages_sd",
            "div_mm",
            "style_shared_seed",
            "style_shared_seed_sd",
            "style_per_clip_seed",
            "style_per_clip_seed_sd",
            "noise10_lve",
        ],
        rows=[r for r in big_rows if r],
        notes=[
            "Data: `python scripts/a2e_data.py data/synthtalk_a2e_big --clips-per-identity 60 --motion 2` (23 s; "
            "the same seed, clips 0–8 of each identity identical to data/synthtalk_a2e's, no held-out sentence, "
            "voice or language in its training split); scored on data/synthtalk_a2e's test splits.",
            "Models: `python scripts/train_a2e.py regression --data data/synthtalk_a2e_big --steps 2400 --batch 16 "
            "--augment 0.2 --lr 1e-4 --warmup 100 --no-val --ckpt-every 100 --seed S --init "
            "data_samples/priors/a2e_cpu.safetensors --out runs/a2e_big_regression_sS` (17–24 min on 1 thread); "
            "residual: `... residual --data data/synthtalk_a2e_big --steps 1800 --batch 16 --augment 0.2 --warmup 100 "
            "--no-val --ckpt-every 100 --seed 0 --init data_samples/priors/a2e_cpu.safetensors --init-mean "
            "runs/a2e_big_regression_s0/final.safetensors --out runs/a2e_big_residual_s0` (as its checkpoint "
            "records); x0 prior: `... prior --data data/synthtalk_a2e_big --steps 2400 --batch 16 --augment 0.2 "
            "--lr 1e-4 --warmup 100 --no-val --ckpt-every 100 --seed 0 --init data_samples/priors/a2e_cpu.safetensors "
            "--out runs/a2e_big_prior_s0`. Residual prior on the speed-perturbed mean head: `... residual --data "
            "data/synthtalk_a2e_big --steps 600 --batch 16 --augment 0.2 --lr 1e-4 --warmup 50 --no-val --ckpt-every "
            "100 --seed 0 --init runs/a2e_big_residual_s0/final.safetensors --init-mean "
            "runs/a2e_s8_big_regspeed_s0/final.safetensors --out runs/a2e_s8_big_resspeed_s0` (its blocks warm).",
            "Figures: `python scripts/eval_a2e.py MODEL NAME [--temperature T] [--seeds 0]` (4 samples per clip, "
            "DDIM 10, guidance (1, 2)); style per clip seed: `python scripts/a2e_style_parts.py parts`. "
            f"Oracle style (ground truth with another utterance variety, 3 varieties): {orc[0]} ± {orc[1]}.",
            "Style target: 20 % better than the regression trained on the same data; against the 912-clip regression "
            "(0.875 ± 0.042 over 3 training seeds) that is ≤ 0.70, about the oracle's own level (0.65): only a "
            "sampler as good as the data's own variety would meet it.",
            "Training seed 1 of the residual prior: trained as seed 0 with --seed 1 --init-mean "
            "runs/a2e_big_regression_s1/final.safetensors --out runs/a2e_big_residual_s1, scored by `python "
            "scripts/eval_a2e.py runs/a2e_big_residual_s1/final.safetensors big_residual_s1_t05 --temperature 0.5`. "
            "Over the two training seeds at temperature 0.5 the unseen-language corr is 0.751 and 0.736: the "
            "languages target holds on one training seed of two.",
            "Training seed 1 of the speed-perturbed chain: `python scripts/train_a2e.py regression --data "
            "data/synthtalk_a2e_big --steps 400 --batch 16 --augment 0.2 --speed-perturb 0.5 --lr 5e-5 --warmup 30 "
            "--no-val --ckpt-every 100 --seed 1 --init runs/a2e_big_regression_s1/final.safetensors --out "
            "runs/a2e_s8_big_regspeed_s1`, then `... residual --data data/synthtalk_a2e_big --steps 600 --batch 16 "
            "--augment 0.2 --lr 1e-4 --warmup 50 --no-val --ckpt-every 100 --seed 1 --init "
            "runs/a2e_big_residual_s1/final.safetensors --init-mean runs/a2e_s8_big_regspeed_s1/final.safetensors "
            "--out runs/a2e_s8_big_resspeed_s1`; scored with `--out-dir runs/a2e_s8_work`.",
        ],
    )
    res = json.load(open("results/a2e_ablation.json"))
    names = ("a2e_style_parts", "a2e_voice_aug", "a2e_big")
    res["tables"] = [t for t in res["tables"] if t["name"] not in names] + [parts, voice, bigt]
    R = {r["model"]: r for r in bigt["rows"]}
    g = lambda m, k: R.get(m, {}).get(k)
    S1 = big + "residual prior, temperature 0.5 — training seed 1 (its mean head: regression seed 1)"
    RP = big + "residual prior on the speed-perturbed mean head, temperature 0.5"
    RS = big + "regression + 400 steps, speed-perturbed"
    F = res["figures"]
    F.update(
        big_reg_lve=g(big + "regression, 2400 steps", "lve_sentences"),
        big_reg_lve_sd=g(big + "regression, 2400 steps", "lve_sd"),
        big_reg_corr_v=g(big + "regression, 2400 steps", "corr_voices"),
        big_reg_corr_l=g(big + "regression, 2400 steps", "corr_languages"),
        big_reg_style=g(big + "regression, 2400 steps", "style_per_clip_seed"),
        big_res_t05_lve=g(big + "residual prior, temperature 0.5", "lve_sentences"),
        big_res_t05_lve_sd=g(big + "residual prior, temperature 0.5", "lve_sd"),
        big_res_t05_div=g(big + "residual prior, temperature 0.5", "div_mm"),
        big_res_t05_corr_s=g(big + "residual prior, temperature 0.5", "corr_sentences"),
        big_res_t05_corr_v=g(big + "residual prior, temperature 0.5", "corr_voices"),
        big_res_t05_corr_l=g(big + "residual prior, temperature 0.5", "corr_languages"),
        big_res_t05_style=g(big + "residual prior, temperature 0.5", "style_per_clip_seed"),
        big_res_t1_lve=g(big + "residual prior, temperature 1", "lve_sentences"),
        big_res_t1_div=g(big + "residual prior, temperature 1", "div_mm"),
        oracle_style_s8=orc[0],
        big_res_t05_lve_s1=g(S1, "lve_sentences"),
        big_regspeed_lve=next(r["lve_sentences"] for r in voice["rows"] if r["model"] == RS),
        big_resspeed_lve=g(RP, "lve_sentences"),
        big_resspeed_lve_sd=g(RP, "lve_sd"),
        big_resspeed_div=g(RP, "div_mm"),
        big_resspeed_corr_s=g(RP, "corr_sentences"),
        big_resspeed_corr_v=g(RP, "corr_voices"),
        big_resspeed_corr_l=g(RP, "corr_languages"),
        big_resspeed_style=g(RP, "style_shared_seed"),
        big_resspeed_lve_s1=g(RP + " — training seed 1", "lve_sentences"),
        big_resspeed_corr_l_s1=g(RP + " — training seed 1", "corr_languages"),
        big_regspeed_lve_s1=next(
            r["lve_sentences"] for r in voice["rows"] if r["model"].startswith(RS + " — training")
        ),
        big_res_t05_corr_l_s1=g(S1, "corr_languages"),
    )
    h17 = dict(
        order=17,
        what="A2E residual prior on 6× more training clips (#17, session 8): held-out sentences, one sample",
        measured="temperature 0.5: {big_res_t05_lve:.2f} ± {big_res_t05_lve_sd:.2f} mm, diversity "
        "{big_res_t05_div:.2f} mm, mouth-open corr {big_res_t05_corr_s:.2f} / {big_res_t05_corr_v:.2f} / "
        "{big_res_t05_corr_l:.2f} (sentences / voices / languages), style {big_res_t05_style:.2f}; temperature 1: "
        "{big_res_t1_lve:.2f} mm, diversity {big_res_t1_div:.2f} mm; regression on the same data "
        "{big_reg_lve:.2f} ± {big_reg_lve_sd:.2f} mm, style {big_reg_style:.2f}; oracle style {oracle_style_s8:.2f}; a "
        "second training seed at temperature 0.5: {big_res_t05_lve_s1:.2f} mm, languages {big_res_t05_corr_l_s1:.2f}; "
        "on the speed-perturbed mean head (regression {big_regspeed_lve:.2f} mm): {big_resspeed_lve:.2f} ± "
        "{big_resspeed_lve_sd:.2f} mm, diversity {big_resspeed_div:.2f} mm, corr {big_resspeed_corr_s:.2f} / "
        "{big_resspeed_corr_v:.2f} / {big_resspeed_corr_l:.2f}, style {big_resspeed_style:.2f} (shared seeds); "
        "its training seed 1 (mean head {big_regspeed_lve_s1:.2f} mm): {big_resspeed_lve_s1:.2f} mm, languages "
        "{big_resspeed_corr_l_s1:.2f}",
        target="mouth-open corr ≥ 0.8 / 0.75 / 0.75: sentences and voices met at temperature 0.5 (chosen on a "
        "validation split), languages on one training seed of two (0.751, 0.736) on the plain mean head and on both "
        "on the speed-perturbed one; lip error: the residual prior on the speed-perturbed mean head (2 training seeds) "
        "sits at the edge of the plain regression's seed spread (3.235 / 3.238 against 3.207 + 0.027: borderline), "
        "0.08 mm above its own mean heads; diversity "
        "within 2× of GT: met against the gate's 1.26 mm, 0.04 mm short against 1.37 mm; on the plain mean head the "
        "lip error against regression's seed spread: missed (with diversity ≥ GT / 2 it needs a mean head ≤ "
        "3.11 mm); style 20 % better than "
        "regression: met against the 144-clip regression (≤ 0.93), missed against the same-data regression (≤ 0.70, "
        "about the oracle's 0.65)",
        notebook="43_a2e.eval",
    )
    res["headline"] = [h for h in res["headline"] if h.get("order") != 17] + [h17]
    shipped_table(res, D, orc)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    note = (
        "Tables written by `python scripts/a2e_style_parts.py table` (a2e_style_parts, a2e_voice_aug, a2e_big, "
        f"a2e_shipped; headlines 10–12 and 14): 2026-12-06, commit {commit} + working tree, the shared 2-core CPU, "
        "1 thread; the evaluation files they read name their own commands."
    )
    keep = lambda n: not n.startswith(("Session 8 tables", "Tables written by"))
    res["notes"] = [n for n in res["notes"] if keep(n)] + [note]
    open("results/a2e_ablation.json", "w").write(json.dumps(res, indent=1, ensure_ascii=False) + "\n")
    for t in (parts, voice, bigt):
        print(t["name"], len(t["rows"]), "rows")


def _per_training_seed(names):
    """Per evaluation file (one training seed): the held-out-sentence lip error over its sampling seeds, the three
    splits' mouth-open corr and diversity (sampling seed 0), its style over sampling seeds, 10 dB noise lip error."""
    out = []
    for n in names:
        e = _ev(n)
        if e is None:
            continue
        sp = e["seed0:splits"]
        lve = seed_values(e, "lve")
        out.append(
            dict(
                lve=float(np.mean(lve)),
                corr_s=sp["test_sentence"]["mo_corr"],
                corr_v=sp["test_voice"]["mo_corr"],
                corr_l=sp["test_language"]["mo_corr"],
                div=sp["test_sentence"]["div"],
                style=float(np.mean([e[k]["style_dist"] for k in e if k.endswith(":style")])),
                noise=e.get("degraded:noise 10 dB", {}).get("lve"),
                per_clip=bool(e.get("per_clip_seed")),
            )
        )
    return out


def _ts_row(model, seeds, names):
    P = _per_training_seed(names)
    if not P:
        return None
    row = dict(model=model, seeds=seeds if len(P) == len(names) else f"{len(P)} of {seeds}")
    for col, k in (
        ("lve_sentences", "lve"),
        ("corr_sentences", "corr_s"),
        ("corr_voices", "corr_v"),
        ("corr_languages", "corr_l"),
        ("div_mm", "div"),
        ("style", "style"),
    ):
        row[col], row[col + "_sd"] = _ms([p[k] for p in P])
    row["corr_languages_min"] = round(min(p["corr_l"] for p in P), 3)
    row["noise10_lve"] = _ms([p["noise"] for p in P])[0]
    return row


SHIPPED_COLUMNS = [
    "model",
    "seeds",
    "lve_sentences",
    "lve_sentences_sd",
    "corr_sentences",
    "corr_voices",
    "corr_languages",
    "corr_languages_sd",
    "corr_languages_min",
    "div_mm",
    "div_mm_sd",
    "style",
    "style_sd",
    "noise10_lve",
]


def shipped_table(res, D, orc):
    """Session 9: the shipped A2E prior (the residual prior on the speed-perturbed mean head, temperature 0.5) over 3
    training seeds of its whole chain, against the regression baseline on the same data and its own mean heads; the
    #17 headline rows (orders 10, 11, 12, 14) from it."""
    big = "912 training clips: "
    SH = big + "residual prior on the speed-perturbed mean head, temperature 0.5 (shipped: training seed 0)"
    REG = big + "regression baseline, 2400 steps"
    MH = big + "its mean heads: regression + 400 speed-perturbed steps"
    T25 = big + "the same residual priors at temperature 0.25 (an ablation: not shipped)"
    picks = [D.get(f"tau:bigresspeed{k}", {}).get("chosen") for k in range(3)]
    rows = [
        _ts_row(REG, "3 training seeds", [f"big_regression_s{k}" for k in range(3)]),
        _ts_row(MH, "3 training seeds", [f"big_regspeed_s{k}" for k in range(3)]),
        _ts_row(SH, "3 training seeds × 3 sampling seeds", [f"big_resspeed_s{k}_t05_pc" for k in range(3)]),
        _ts_row(
            "previous shipped prior (x0 diffusion, 144 motion-v1 clips, 2026-11-24)", "3 sampling seeds", ["shipped_pc"]
        ),
        _ts_row(T25, "3 training seeds × 3 sampling seeds", [f"big_resspeed_s{k}_t025_pc" for k in range(3)]),
    ]
    acc = D.get("lve:bigregacc2", {}).get("test_sentence")
    if acc and "bigregacc2" in D:
        rows.append(
            dict(
                model=big + "ablation: the seed-0 mean head's recipe + the lip acceleration term (--lip-acc 2)",
                seeds="training seed 0",
                lve_sentences=round(acc["lve"], 3),
                corr_sentences=round(acc["mo_corr"], 3),
                div_mm=0.0,
                style=round(D["bigregacc2"]["style_dist"], 3),
            )
        )
    if orc[0] is not None:
        rows.append(
            dict(model="oracle: the ground truth with another utterance variety", seeds="3 varieties", style=orc[0])
        )
    rows = [{k: v for k, v in r.items() if k in SHIPPED_COLUMNS} for r in rows if r]
    tab = dict(
        name="a2e_shipped",
        title="The shipped A2E prior (#17, session 9): the residual prior on the speed-perturbed mean head, over three "
        "training seeds of its whole training chain",
        columns=SHIPPED_COLUMNS,
        rows=rows,
        notes=[
            "Held-out sentences / unseen voices / unseen languages of data/synthtalk_a2e (16 clips each), DDIM 10, "
            "guidance (1, 2), 4 samples per clip; the prior at temperature 0.5 (its shipped default, chosen on the "
            "heldout_adapt validation identities). ± = std over training seeds; each training seed's lip error is its "
            "mean over 3 sampling seeds; corr and diversity: sampling seed 0; corr_languages_min: the worst training "
            "seed. Style: 16 speakers × 6 held-out sentences (data/style_a2e), a noise seed per clip, mean over 3 "
            "sampling seeds.",
            "Chain per training seed S: `scripts/train_a2e.py regression` 2400 steps (runs/a2e_big_regression_sS) → "
            "400 speed-perturbed steps (runs/a2e_s8_big_regspeed_sS) → `residual` 1800 steps on the plain mean head "
            "(runs/a2e_big_residual_sS) → 600 steps on the speed-perturbed one (runs/a2e_s8_big_resspeed_sS); "
            "commands: `bash scripts/train_a2e_shipped.sh S` (the same runs, resumable) and the shipped file's "
            "`command`. "
            "Scored by `python scripts/eval_a2e.py runs/a2e_s8_big_resspeed_sS/final.safetensors "
            "big_resspeed_sS_t05_pc --temperature 0.5 --per-clip-seed --out-dir runs/a2e_s8_work`.",
            "Temperature: the validation rule (the largest temperature whose lip error on the heldout_adapt "
            "identities stays within 0.05 mm of the mean head's; `python scripts/a2e_style_parts.py tau "
            f"bigresspeed0 bigresspeed1 bigresspeed2`) picks {picks} on the three training seeds. The shipped default "
            "stays 0.5, the lowest of the grid that keeps the diversity within 2× of the ground truth's: at 0.25 "
            "the lip error target is met and the diversity target is lost (row 'temperature 0.25').",
            "Ablation (session 9): the lip acceleration term (`TrainConfig.lip_acc`, 42_a2e.train) on the mean head "
            "cuts its 6–12.5 Hz motion but also its closures and upper-lip peaks; its style is worse (parts: table "
            "a2e_style_parts). `python scripts/a2e_style_parts.py parts bigregacc2` and `lve bigregacc2`.",
        ],
    )
    res["tables"] = [t for t in res["tables"] if t["name"] != "a2e_shipped"] + [tab]
    R = {r["model"]: r for r in rows}
    sh, reg, mh, old = R.get(SH), R.get(REG), R.get(MH), R.get(rows[3]["model"] if len(rows) > 3 else "")
    t25 = R.get(T25)
    if not (sh and reg and mh):
        return
    F = res["figures"]
    F.update(
        {
            "ship_lve": sh["lve_sentences"],
            "ship_lve_sd": sh["lve_sentences_sd"] or 0.0,
            "ship_n": int(sh["seeds"][0]) if sh["seeds"][0].isdigit() else 1,
            "ship_reg_lve": reg["lve_sentences"],
            "ship_reg_lve_sd": reg["lve_sentences_sd"],
            "ship_mh_lve": mh["lve_sentences"],
            "ship_mh_lve_sd": mh["lve_sentences_sd"] or 0.0,
            "ship_old_lve": old["lve_sentences"] if old else float("nan"),
            "ship_corr_s": sh["corr_sentences"],
            "ship_corr_v": sh["corr_voices"],
            "ship_corr_l": sh["corr_languages"],
            "ship_corr_l_min": sh["corr_languages_min"],
            "ship_reg_corr_s": reg["corr_sentences"],
            "ship_reg_corr_v": reg["corr_voices"],
            "ship_reg_corr_l": reg["corr_languages"],
            "ship_style": sh["style"],
            "ship_style_sd": sh["style_sd"] or 0.0,
            "ship_reg_style": reg["style"],
            "ship_reg_style_sd": reg["style_sd"] or 0.0,
            "ship_style_gain_pct": 100 * (1 - sh["style"] / reg["style"]),
            "ship_old_style": old["style"] if old else float("nan"),
            "ship_oracle_style": orc[0],
            "ship_div": sh["div_mm"],
            "ship_div_sd": sh["div_mm_sd"] or 0.0,
        }
    )
    per = _per_training_seed([f"big_resspeed_s{k}_t05_pc" for k in range(3)])
    F["ship_lve_seeds"] = " / ".join(f"{p['lve']:.3f}" for p in per)
    F["ship_style_seeds"] = " / ".join(f"{p['style']:.2f}" for p in per)
    gap = (sh["lve_sentences"] - reg["lve_sentences"]) / reg["lve_sentences_sd"]
    F["ship_tau_picks"] = " / ".join("—" if p is None else f"{p:g}" for p in picks)
    t25_text = ""
    if t25:
        F.update(ship_t25_lve=t25["lve_sentences"], ship_t25_lve_sd=t25["lve_sentences_sd"] or 0.0)
        F.update(ship_t25_div=t25["div_mm"])
        g25 = (t25["lve_sentences"] - reg["lve_sentences"]) / reg["lve_sentences_sd"]
        t25_text = (
            "; at temperature 0.25 (the validation rule's picks over the three seeds: {ship_tau_picks}) "
            "{ship_t25_lve:.2f} ± {ship_t25_lve_sd:.2f} mm, "
            + ("below the baseline" if g25 <= 0 else "within its spread" if g25 <= 1 else f"{g25:.1f} deviations above")
            + ", but diversity {ship_t25_div:.2f} mm, "
            + ("within" if 0.5 <= t25["div_mm"] / 1.26 <= 2 else "outside")
            + " 2× of the ground truth's"
        )
    lve_verdict = (
        "met (at or below the baseline)"
        if gap <= 0
        else "met (within one deviation of the baseline's training-seed spread)"
        if gap <= 1
        else f"**borderline** ({gap:.1f} deviations above the baseline: within two, not one)"
        if gap <= 2
        else f"**missed** ({gap:.1f} deviations above the baseline)"
    )
    corr_ok = sh["corr_sentences"] >= 0.8 and sh["corr_voices"] >= 0.75 and sh["corr_languages"] >= 0.75
    corr_all = corr_ok and sh["corr_languages_min"] >= 0.75
    style_ok = sh["style"] <= 0.8 * reg["style"]
    div_ok = 0.5 <= sh["div_mm"] / 1.26 <= 2
    res["headline"] = [h for h in res["headline"] if h.get("order") not in (10, 11, 12, 14, 17)] + [
        dict(
            order=10,
            what="A2E lip vertex error, held-out sentences (SynthTalk motion v2): the shipped residual prior "
            "(temperature 0.5) against the regression baseline trained on the same 912 clips",
            measured="{ship_lve:.2f} ± {ship_lve_sd:.2f} mm over 3 training seeds (3 sampling seeds each; the seeds: "
            "{ship_lve_seeds}, the shipped file is the first) vs "
            "regression **{ship_reg_lve:.2f} ± {ship_reg_lve_sd:.2f} mm**; its own mean heads {ship_mh_lve:.2f} ± "
            "{ship_mh_lve_sd:.2f}; previous shipped prior {ship_old_lve:.2f}" + t25_text,
            target="diffusion ≤ baseline or within its seed spread — "
            + lve_verdict
            + (
                " at the shipped temperature 0.5; met at 0.25, where the diversity target is missed"
                if t25 and t25["lve_sentences"] <= reg["lve_sentences"] + reg["lve_sentences_sd"]
                else ""
            ),
            notebook="43_a2e.eval",
        ),
        dict(
            order=11,
            what="A2E mouth-opening correlation: held-out sentences / unseen voices / unseen languages (shipped prior)",
            measured="{ship_corr_s:.3f} / {ship_corr_v:.3f} / {ship_corr_l:.3f} (mean of 3 training seeds; languages "
            "worst seed {ship_corr_l_min:.3f}); regression {ship_reg_corr_s:.3f} / {ship_reg_corr_v:.3f} / "
            "{ship_reg_corr_l:.3f}",
            target="≥ 0.8 / ≥ 0.75 / ≥ 0.75 — "
            + ("met on every training seed" if corr_all else "met on the mean" if corr_ok else "**not met**"),
            notebook="43_a2e.eval",
        ),
        dict(
            order=12,
            what="A2E style distance to the speaker (held-out sentences, lower is better): shipped prior vs the "
            "regression baseline on the same data",
            measured="{ship_style:.2f} ± {ship_style_sd:.2f} (training seeds {ship_style_seeds}) vs regression "
            "{ship_reg_style:.2f} ± "
            "{ship_reg_style_sd:.2f} ({ship_style_gain_pct:.0f} % better); the ground truth with another utterance "
            "variety (oracle) {ship_oracle_style:.2f}; previous shipped prior {ship_old_style:.2f}",
            target="≥ 20 % better than regression — "
            + (
                "met"
                if style_ok
                else "**missed**: 20 % better is about the oracle's own level (table a2e_style_parts shows why)"
            ),
            notebook="43_a2e.eval",
        ),
        dict(
            order=14,
            what="A2E sample diversity vs ground truth (same audio; shipped prior)",
            measured="{ship_div:.2f} ± {ship_div_sd:.2f} mm vs ground truth 1.26 mm",
            target="within 2× of the ground truth — " + ("met" if div_ok else "**missed**"),
            notebook="43_a2e.eval",
        ),
    ]


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "table":
        table()
        sys.exit()
    res = json.load(open(OUT)) if os.path.exists(OUT) else {}
    for s in args or ([MODELS["res"]] if mode == "resid" else []):
        key = s if mode == "parts" else f"{mode}:{s}"
        if key in res:
            continue
        t = time.time()
        r = dict(parts=parts, lve=lve, resid=resid, tau=tau, spread=spread)[mode](s)
        res[key] = dict(r, seconds=time.time() - t, load=os.getloadavg()[0])
        os.makedirs(os.path.dirname(OUT), exist_ok=True)
        json.dump(res, open(OUT, "w"), indent=1)
        print(key, json.dumps(r)[:400], flush=True)
