#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian machine: Debian packages, then the
# Python package with its pinned dependencies. `--dev` adds the test tools and the browser.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=0
[ "${1:-}" = "--dev" ] && dev=1

# mma + fluidsynth + a small GM soundfont synthesise songs with exact beats (corpus, examples);
# libegl1 + libgl1-mesa-dri give headless OpenGL through EGL for pyrender.
apt_packages=(mma fluidsynth timgm6mb-soundfont libegl1 libgl1-mesa-dri libgles2)
[ "$dev" = 1 ] && apt_packages+=(chromium)
# Blender (3.4) imports the BVH / GLB exports in tests/render/test_render_blender.py; its glTF
# importer needs the system numpy (python3-numpy), which its package only recommends.
[ "$dev" = 1 ] && apt_packages+=(blender python3-numpy)
# npm fetches the app's 3D viewer library (three.js) once, below; Node images ship their own npm.
command -v npm >/dev/null 2>&1 || apt_packages+=(npm)

missing=()
for p in "${apt_packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo_cmd=()
  [ "$(id -u)" -ne 0 ] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python3 -m pip install -q --upgrade pip
if [ "$dev" = 1 ]; then
  python3 -m pip install -q -e ".[dev]"
else
  python3 -m pip install -q -e .
fi

# librosa compiles its numba kernels the first time a song is analysed (20-35 s on 2 cores) and
# keeps them on disk: pay that once here, not in the first song (docs/audio_frontend.md).
python3 -m motionbeat.audio.warmup

# The app's 3D view: three.js, vendored under app/static/viewer/vendor (git-ignored) with npm pack.
python3 -m app.viewer --check 2>/dev/null || python3 -m app.viewer --vendor
