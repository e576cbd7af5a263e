"""The app's 3D view: the dance's GLB in a small three.js viewer that orbits, plays and scrubs.

Why not ``gr.Model3D``: the installed gradio's Model3D (its ``Canvas3D`` on the Babylon.js
viewer) does auto-play glTF animations, but it has no time control, so a user cannot scrub, and
it keeps its player inside the component where a test cannot read the animation time.

* ``static/viewer/viewer.js`` defines ``<motionbeat-viewer src="...glb">``: a WebGL canvas with
  orbit controls (three.js ``OrbitControls``), the GLB loaded by ``GLTFLoader``, its first
  animation played by an ``AnimationMixer``, and Play/Pause and a time slider under it. The
  element's ``state`` (loaded, time, duration, vertices, joints, ...) is what tests read.
* three.js itself is not in the repository: :func:`vendor_three` (``python -m app.viewer
  --vendor``, run by ``scripts/setup.sh``) fetches the pinned release with ``npm pack`` once and
  copies the few modules the viewer needs under ``static/viewer/vendor/three`` (its MIT licence
  beside them), rewriting their ``'three'`` imports to relative paths so no import map and no
  network are needed when the app runs.
* The server serves ``static/viewer`` through gradio's file route (:data:`VIEWER_DIR` is in the
  launch's allowed paths); :func:`viewer_html` is the component's value for one dance.
"""

from __future__ import annotations

import argparse
import html
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import gradio as gr

from motionbeat.core.motion import load_motion
from render.export import export_motion

THREE_VERSION = "0.187.0"
"""The three.js release vendored (``npm view three version`` when this was written)."""
VIEWER_DIR: Path = Path(__file__).resolve().parent / "static" / "viewer"
VIEWER_SCRIPT: Path = VIEWER_DIR / "viewer.js"
VENDOR_DIR: Path = VIEWER_DIR / "vendor" / "three"
THREE_FILES: tuple[str, ...] = (
    "LICENSE",
    "build/three.core.js",
    "build/three.module.js",
    "examples/jsm/loaders/GLTFLoader.js",
    "examples/jsm/controls/OrbitControls.js",
    "examples/jsm/utils/BufferGeometryUtils.js",
    "examples/jsm/utils/SkeletonUtils.js",
)
"""Files of the three npm package the viewer loads, relative to the package root."""
FILE_ROUTE = "gradio_api/file="
"""Gradio's route for files under the allowed paths (relative, so a URL prefix is kept)."""
VIEWER_ELEMENT_ID = "dance-3d"
VIEWER_LABEL = "Dance in 3D (drag to turn, wheel to zoom, slider to scrub)"
GLB_LABEL = "3D dancer (.glb: skinned and animated, for Blender and game engines)"
GLB_ELEMENT_ID = "dance-glb"
NPM_TIMEOUT_S = 300


class ViewerError(RuntimeError):
    """three.js could not be vendored (no npm, no registry, an unexpected package layout)."""


def viewer_installed() -> bool:
    """Whether three.js has been vendored beside the viewer."""
    return all((VENDOR_DIR / name).is_file() for name in THREE_FILES)


def _relative_three_import(name: str) -> str:
    """The path from the vendored file ``name`` to ``build/three.module.js``."""
    depth = len(Path(name).parent.parts)
    return "../" * depth + "build/three.module.js" if depth else "./build/three.module.js"


def vendor_three(version: str = THREE_VERSION, dest: Path = VENDOR_DIR) -> Path:
    """Fetch three.js ``version`` with ``npm pack`` and copy :data:`THREE_FILES` into ``dest``."""
    npm = shutil.which("npm")
    if npm is None:
        raise ViewerError("npm is not installed (apt-get install npm); the 3D view needs three.js")
    with tempfile.TemporaryDirectory(prefix="motionbeat-three-") as tmp:
        try:
            subprocess.run([npm, "pack", f"three@{version}", "--silent"], cwd=tmp, check=True,
                           capture_output=True, text=True, timeout=NPM_TIMEOUT_S)
        except subprocess.CalledProcessError as err:
            raise ViewerError(f"npm pack three@{version} failed: {err.stderr.strip()[-500:]}") from None
        tarballs = list(Path(tmp).glob("three-*.tgz"))
        if len(tarballs) != 1:
            raise ViewerError(f"npm pack three@{version} wrote {len(tarballs)} tarballs")
        staging = Path(tmp) / "vendor"
        with tarfile.open(tarballs[0]) as tar:
            for name in THREE_FILES:
                try:
                    member = tar.extractfile(f"package/{name}")
                except KeyError:
                    member = None
                if member is None:
                    raise ViewerError(f"three@{version} has no {name}")
                text = member.read().decode("utf-8")
                text = text.replace("from 'three';", f"from '{_relative_three_import(name)}';")
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
        if dest.exists():
            shutil.rmtree(dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(staging), str(dest))
    return dest


def _file_url(path: Path) -> str:
    return FILE_ROUTE + str(Path(path).resolve())


def viewer_head() -> str:
    """The ``<head>`` script that loads the viewer module (defines ``<motionbeat-viewer>``).

    A classic script with a dynamic ``import()``: gradio re-creates head scripts without their
    ``type="module"``, and a module's static ``import`` fails in a classic script.
    """
    return f"<script>import(new URL({json.dumps(_file_url(VIEWER_SCRIPT))}, document.baseURI).href);</script>"


def viewer_html(glb: Path | str | None) -> str:
    """The 3D view's content: the viewer element for ``glb``, or a line saying why there is none."""
    if not viewer_installed():
        return ("<p>The 3D view is not installed: run <code>python -m app.viewer --vendor</code> "
                "(or <code>bash scripts/setup.sh</code>).</p>")
    if glb is None:
        return "<p>Generate a dance to see it in 3D.</p>"
    return f'<motionbeat-viewer src="{html.escape(_file_url(Path(glb)))}"></motionbeat-viewer>'


def viewer_components() -> tuple[gr.HTML, gr.File]:
    """The page's 3D view (a ``gr.HTML`` whose value is :func:`viewer_html`) and the GLB download."""
    view = gr.HTML(
        viewer_html(None),
        label=VIEWER_LABEL,
        show_label=True,
        head=viewer_head(),
        elem_id=VIEWER_ELEMENT_ID,
        js_on_load=None,
        container=True,
    )
    glb = gr.File(label=GLB_LABEL, interactive=False, elem_id=GLB_ELEMENT_ID)
    return view, glb


def dance_3d(files: list[str] | None, body: str | None) -> tuple[str, str | None]:
    """After a dance: write its ``.glb`` beside its ``.npz`` and show it; the 3D view's callback.

    ``files`` are the dance's motion files as the page holds them; ``body`` is the body chosen
    for the video (the GLB's mesh). Returns the 3D view's HTML and the GLB's path.
    """
    npz = next((Path(f) for f in files or () if str(f).endswith(".npz")), None)
    if npz is None:
        return viewer_html(None), None
    glb = export_motion(load_motion(npz), npz.with_suffix(".glb"), body=body or "mannequin")
    return viewer_html(glb), str(glb)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m app.viewer", description="Install the 3D view's three.js (no network at run time)."
    )
    parser.add_argument("--vendor", action="store_true", help=f"fetch three@{THREE_VERSION} with npm pack")
    parser.add_argument("--check", action="store_true", help="exit 1 unless three.js is vendored")
    args = parser.parse_args(argv)
    if args.vendor:
        try:
            print(vendor_three())
        except ViewerError as err:
            print(f"app.viewer: error: {err}", file=sys.stderr)
            return 2
    if args.check and not viewer_installed():
        print(f"app.viewer: three.js is not vendored under {VENDOR_DIR}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
