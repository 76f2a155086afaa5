"""Write README.md from nbs/index.ipynb (nbdev's readme_nb), as `nbdev_readme` does without needing quarto.

Markdown cells are copied; code cells become fenced blocks (hidden cells, `#| hide`, are left out); image links
relative to nbs/ are made relative to the repository root. `tests/test_docs.py` checks that README.md is current.

    python scripts/make_readme.py          # rewrite README.md
    python scripts/make_readme.py --check  # exit 1 if README.md differs
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def render(nb_path: Path = ROOT / "nbs" / "index.ipynb") -> str:
    cells, out = json.loads(nb_path.read_text())["cells"], []
    for c in cells:
        src = "".join(c["source"]).strip("\n")
        if not src: continue
        if c["cell_type"] == "markdown":
            out.append(re.sub(r"\]\((?!https?:|/|#)([^)]+)\)", lambda m: f"](nbs/{m.group(1)})", src))
        elif c["cell_type"] == "code":
            lines = src.splitlines()
            if any(l.strip() in ("#| hide", "#|hide") for l in lines): continue
            body = "\n".join(l for l in lines if not l.startswith("#|")).strip("\n")
            lang = "bash" if all(l.startswith("!") or not l.strip() for l in body.splitlines()) else "python"
            if lang == "bash": body = "\n".join(l[1:].lstrip() if l.startswith("!") else l for l in body.splitlines())
            out.append(f"```{lang}\n{body}\n```")
    return "<!-- generated from nbs/index.ipynb by scripts/make_readme.py: edit the notebook, not this file -->\n\n" + "\n\n".join(out) + "\n"

if __name__ == "__main__":
    text, readme = render(), ROOT / "README.md"
    if "--check" in sys.argv:
        ok = readme.is_file() and readme.read_text() == text
        print("README.md is current" if ok else "README.md differs from nbs/index.ipynb: run python scripts/make_readme.py")
        sys.exit(0 if ok else 1)
    readme.write_text(text); print(f"wrote {readme}")
