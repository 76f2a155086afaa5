"Shared pytest setup: offline hubs, one torch thread per xdist worker, the repo root on sys.path."

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # idle OpenMP threads (torch's, numba's) sleep instead of spinning
if os.environ.get("PYTEST_XDIST_WORKER"):
    # two workers on two cores: one intra-op thread each avoids oversubscription (numba's kernels follow torch's count)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
