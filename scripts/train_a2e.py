r"""Train the shipped A2E prior (or a comparison baseline) on SynthTalk's training split on a CPU; rerun to resume.

    python scripts/train_a2e.py prior                 # -> runs/a2e_prior, then data_samples/priors/a2e_cpu.safetensors
    python scripts/train_a2e.py regression            # deterministic transformer, no diffusion -> runs/a2e_regression
    python scripts/train_a2e.py noid                  # the prior without identity embeddings -> runs/a2e_noid
    python scripts/train_a2e.py regression --run-steps 500   # stop (with a checkpoint) after 500 more steps

From scratch on motion-version-2 data (audio augmentation, no validation split, 1 thread; an ablation: at this
budget the prior stays unusable, see 43_a2e.eval):

    python scripts/a2e_data.py data/synthtalk_a2e --motion 2  # motion-only SynthTalk, 20 identities x 12 clips, seed 0
    python scripts/train_a2e.py prior --data data/synthtalk_a2e --steps 400 --batch 16 \
        --augment 0.5 --no-val --warmup 60 --ckpt-every 50 --out runs/a2e_v2_prior_s0 --seed 0

Warm start (what the 2026-12-06 comparison used, seeds 0-2, for `prior` and `regression` alike; the diffusion model
starts from all of the shipped prior, the regression baseline from its audio encoder, condition encoder, identity
table and motion statistics, its decoder fresh):

    python scripts/train_a2e.py prior --data data/synthtalk_a2e --steps 300 --batch 16 --augment 0.5 \
        --no-val --warmup 30 --ckpt-every 50 --init data_samples/priors/a2e_cpu.safetensors \
        --out runs/a2e_ft_prior_s0 --seed 0

The longer, gentler warm start of session 6 (one training seed; the #17 ablation in 43_a2e.eval; ~0.6-1.2 s/step on
one thread at machine load 4-8, 46 min for the prior), and the regression baseline with the same budget:

    python scripts/train_a2e.py prior --data data/synthtalk_a2e --steps 2400 --batch 16 --augment 0.2 --lr 1e-4 \
        --warmup 100 --no-val --ckpt-every 100 --seed 0 --init data_samples/priors/a2e_cpu.safetensors \
        --out runs/a2e_long_prior_s0
    python scripts/train_a2e.py regression ... (the same arguments) --out runs/a2e_long_regression_s0

Issue #17, residual parameterisation (session 7): the mean head and the shared audio/condition/identity encoders
are the 2400-step regression baseline's, kept fixed; the diffusion blocks start from the shipped prior and learn the
residual x - mean (its per-channel scale fitted first on the training windows):

    python scripts/train_a2e.py residual --data data/synthtalk_a2e --steps 1800 --batch 16 --augment 0.2 \
        --warmup 100 --no-val --ckpt-every 100 --seed 0 --init data_samples/priors/a2e_cpu.safetensors \
        --init-mean runs/a2e_long_regression_s0/final.safetensors --out runs/a2e_residual_s0

Session 8, 6x more training clips (912 instead of 144; `python scripts/a2e_data.py data/synthtalk_a2e_big
--clips-per-identity 60 --motion 2`, 23 s; evaluated on data/synthtalk_a2e's test splits, table a2e_big): the same
regression recipe for seeds 0-2, the residual prior on seed 0's regression, the x0 prior (~17-24 min each, 1 thread):

    python scripts/train_a2e.py regression --data data/synthtalk_a2e_big --steps 2400 --batch 16 --augment 0.2 \
        --lr 1e-4 --warmup 100 --no-val --ckpt-every 100 --seed S --init data_samples/priors/a2e_cpu.safetensors \
        --out runs/a2e_big_regression_sS
    python scripts/train_a2e.py residual --data data/synthtalk_a2e_big --steps 1800 --batch 16 --augment 0.2 \
        --warmup 100 --no-val --ckpt-every 100 --seed 0 --init data_samples/priors/a2e_cpu.safetensors \
        --init-mean runs/a2e_big_regression_s0/final.safetensors --out runs/a2e_big_residual_s0
    python scripts/train_a2e.py prior --data data/synthtalk_a2e_big --steps 2400 --batch 16 --augment 0.2 \
        --lr 1e-4 --warmup 100 --no-val --ckpt-every 100 --seed 0 --init data_samples/priors/a2e_cpu.safetensors \
        --out runs/a2e_big_prior_s0

and, on the speed-perturbed big mean head (below), the residual prior's blocks warm from runs/a2e_big_residual_s0:

    python scripts/train_a2e.py residual --data data/synthtalk_a2e_big --steps 600 --batch 16 --augment 0.2 \
        --lr 1e-4 --warmup 50 --no-val --ckpt-every 100 --seed 0 --init runs/a2e_big_residual_s0/final.safetensors \
        --init-mean runs/a2e_s8_big_regspeed_s0/final.safetensors --out runs/a2e_s8_big_resspeed_s0

Session 8 (table a2e_style_parts): the residual branch again, on other-voice windows (`--speed-perturb 1`: every
training window's speech 1 ± 4-12 % faster or slower, motion time-warped; the residual scale is fitted on those
windows, where the mean head's residual has its held-out size), warm-started from the session-7 residual prior (an
ablation: the spread reaches the ground truth's, the style does not improve):

    python scripts/train_a2e.py residual --data data/synthtalk_a2e --steps 800 --batch 16 --augment 0.2 \
        --speed-perturb 1 --lr 1e-4 --warmup 50 --no-val --ckpt-every 100 --seed 0 \
        --init runs/a2e_residual_s0/final.safetensors \
        --init-mean runs/a2e_long_regression_s0/final.safetensors --out runs/a2e_s8_speed_s0

The mean head (the 2400-step regression baseline) fine-tuned on other-voice windows, all of it warm (an
`a2e_regression` file as `--init`; table a2e_voice_aug; seeds 0-2, control with `--speed-perturb 0` ->
runs/a2e_s8_regft_s0; on the big data: `--data data/synthtalk_a2e_big --init runs/a2e_big_regression_s0/...`):

    python scripts/train_a2e.py regression --data data/synthtalk_a2e --steps 400 --batch 16 --augment 0.2 \
        --speed-perturb 0.5 --lr 5e-5 --warmup 30 --no-val --ckpt-every 100 --seed 0 \
        --init runs/a2e_long_regression_s0/final.safetensors --out runs/a2e_s8_regspeed_s0

Needs `ggtalker synthtalk --out data/synthtalk --identities 20 --clips-per-identity 12 --size 256 --seed 0` (or
`scripts/a2e_data.py`, which skips rendering) first.
"""

import argparse
import json
import time
import torch
from ggtalker_nb.a2e.train import TrainConfig, train_a2e
from ggtalker_nb.a2e.model import A2EConfig
from ggtalker_nb.data.video import AudioMotionDataset

p = argparse.ArgumentParser()
p.add_argument("which", choices=("prior", "regression", "noid", "residual"))
p.add_argument("--data", default="data/synthtalk")
p.add_argument("--steps", type=int, default=2000)
p.add_argument("--run-steps", type=int, default=None)
p.add_argument("--threads", type=int, default=1)
p.add_argument("--batch", type=int, default=32)
p.add_argument("--seed", type=int, default=0)
p.add_argument(
    "--augment", type=float, default=0.0, help="A2EConfig.p_augment: share of training windows with degraded audio"
)
p.add_argument(
    "--no-val", action="store_true", help="no validation split (the held-out sentences stay unseen until evaluation)"
)
p.add_argument("--out", default=None, help="run folder (default runs/a2e_<which>)")
p.add_argument("--ckpt-every", type=int, default=250)
p.add_argument("--warmup", type=int, default=200)
p.add_argument("--lr", type=float, default=3e-4, help="peak learning rate (warm-up, then cosine to 5 %% of it)")
p.add_argument("--lip-loss", type=float, default=1.0, help="weight of the FLAME lip-vertex loss")
p.add_argument(
    "--lip-acc", type=float, default=0.0, help="weight of the lip vertices' acceleration term (TrainConfig.lip_acc)"
)
p.add_argument(
    "--init",
    default=None,
    help="warm start from an A2E file: its audio encoder and every model tensor of the same name and shape",
)
p.add_argument(
    "--init-mean",
    default=None,
    help="residual: the regression baseline (file) whose encoders and decoder form the mean head",
)
p.add_argument("--res-windows", type=int, default=512, help="residual: training windows that fit the residual scale")
p.add_argument(
    "--speed-seed", type=int, default=None, help="seed of the speed factors (default --seed); each window keeps its own"
)
p.add_argument(
    "--speed-perturb",
    type=float,
    default=0.0,
    help="chance per training window of other-voice speed perturbation (a2e.train.SpeedPerturbed; 1 ± 4-12 %%)",
)
a = p.parse_args()
torch.set_num_threads(a.threads)
n = A2EConfig.cpu().n
tr = AudioMotionDataset(a.data, window=n, stride=10, split="train")
if a.speed_perturb > 0:
    from ggtalker_nb.a2e.train import SpeedPerturbed

    tr = SpeedPerturbed(tr, p=a.speed_perturb, seed=a.seed if a.speed_seed is None else a.speed_seed)
va = None if a.no_val else AudioMotionDataset(a.data, window=n, stride=n, split="test_sentence")
mcfg = A2EConfig.cpu(n_identities=0 if a.which == "noid" else len(tr.identity_names), p_augment=a.augment)
if a.which == "residual":
    mcfg = A2EConfig.cpu(
        n_identities=len(tr.identity_names), p_augment=a.augment, parameterization="residual", freeze_shared=True
    )
cfg = TrainConfig(
    steps=a.steps,
    batch_size=a.batch,
    lr=a.lr,
    warmup=a.warmup,
    ckpt_every=a.ckpt_every,
    log_every=25,
    out_dir=a.out or f"runs/a2e_{a.which}",
    lip_loss=a.lip_loss,
    lip_acc=a.lip_acc,
    run_steps=a.run_steps,
    seed=a.seed,
    progress=False,
)
encoder, init, freeze = "mel", None, False
# the regression baseline takes the prior's audio encoder, condition encoder and identity table (its decoder: fresh)
if a.which == "residual":
    from ggtalker_nb.a2e.model import A2EModel, load_a2e, residual_state
    from ggtalker_nb.a2e.train import fit_residual_scale, load_regressor

    if not (a.init and a.init_mean):
        raise SystemExit("residual: give --init (the prior) and --init-mean (the regression baseline)")
    src, _ = load_a2e(a.init)
    reg, encoder = load_regressor(a.init_mean)
    for m in (src, reg):
        if list(m.identity_names) != list(tr.identity_names):
            raise SystemExit(f"identity rows {m.identity_names} differ from the data's {tr.identity_names}")
    torch.manual_seed(a.seed)
    model = A2EModel(mcfg)
    model.load_state_dict(residual_state(model, src.state_dict(), reg.state_dict()))
    fit_residual_scale(model, encoder, tr, a.res_windows, a.seed)
    print("residual scale (normalised units):", [round(float(v), 3) for v in model.res_std[:8]], "...")
    init, freeze = model.state_dict(), True
elif a.init:
    from ggtalker_nb.a2e.model import A2EModel, load_a2e
    from ggtalker_nb.a2e.train import A2ERegressor, load_regressor
    from ggtalker_nb.core import load_safetensors

    # a regression baseline's file (kind a2e_regression) warm-starts all of a regression run
    regression_file = load_safetensors(a.init)[1].get("kind") == "a2e_regression"
    src, encoder = load_regressor(a.init) if regression_file else load_a2e(a.init)
    encoder.train()
    if list(src.identity_names) != list(tr.identity_names):
        raise SystemExit(f"--init: identity rows {src.identity_names} differ from the data's {tr.identity_names}")
    if src.config.n_identities != mcfg.n_identities:
        raise SystemExit("--init: another number of identities")
    torch.manual_seed(a.seed)
    fresh = (A2ERegressor if a.which == "regression" else A2EModel)(mcfg).state_dict()
    old = src.state_dict()
    init = {k: (old[k] if k in old and old[k].shape == v.shape else v) for k, v in fresh.items()}
    print(
        f"--init {a.init}: {sum(k in old and old[k].shape == v.shape for k, v in fresh.items())} of {len(fresh)} "
        "tensors warm"
    )
t0 = time.time()
r = train_a2e(
    cfg,
    mcfg,
    tr,
    va,
    encoder=encoder,
    resume=True,
    kind="regression" if a.which == "regression" else "diffusion",
    model_init=init,
    freeze_encoder=freeze,
)
print(
    json.dumps(
        dict(
            stopped=r.get("stopped"),
            step=r.get("step"),
            val=r["val"][-1] if r.get("val") else None,
            wall_s=round(time.time() - t0, 1),
            windows_per_s=r.get("windows_per_s"),
        ),
        default=str,
    )
)
