# install the version-2 body model into the shipped identity (issue #16.1): copy the file, update identity.json's
# checksum
# run from the repository root: PYTHONPATH=. python scripts/issue16/body_install_sample.py  (outputs under runs/, which
# git ignores)
import json
import shutil
import time
from pathlib import Path
from ggtalker_nb.avatar.identity import file_sha256

d = Path("data_samples/identity_sample")
src = Path("runs/body/body_v2.safetensors")
shutil.copyfile(src, d / "body.safetensors")
info = json.loads((d / "identity.json").read_text())
info["components"]["body"].update(
    bytes=(d / "body.safetensors").stat().st_size, sha256=file_sha256(d / "body.safetensors")
)
info.setdefault("adaptation", {})["body_refit"] = dict(
    command="python scripts/issue16/body_refit_sample.py && python scripts/issue16/body_install_sample.py  "
    "(adapt.inpainter.refit_body(identity body, heads=the identity's renders of its 32 body frames, "
    "steps=1500): version-2 clean-plate inpainter)",
    time=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
)
(d / "identity.json").write_text(json.dumps(info, indent=1, ensure_ascii=False) + "\n")
print("installed", info["components"]["body"])
