"The README is generated from nbs/index.ipynb and quotes numbers the tests can check."
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_is_generated_from_index():
    p = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_readme.py"), "--check"], capture_output=True, text=True)
    assert p.returncode == 0, p.stdout + p.stderr


def test_readme_commands_and_hardening_count():
    import test_hardening as h
    text = (ROOT / "README.md").read_text()
    assert "ggtalker demo" in text and "pytest -n 2 tests/" in text          # the two commands
    assert f"{h.N_CASES} bad-input cases" in text                          # the count the hardening suite tries
    assert "images/demo_poster.jpg" in text and (ROOT / "nbs" / "images" / "demo_poster.jpg").is_file()
