#!/usr/bin/env bash
# ComfyUI's real web UI for the toolbar's browser test: PyPI's comfyui-frontend-package (a built static
# site; no Python code runs), by default the version that ComfyUI 0.3.64 of the recordings ships with.
# Usage: bash .ci/comfyui-frontend.sh [version]  → prints the folder that holds index.html.
set -euo pipefail
version="${1:-1.27.10}"
dir="${XDG_CACHE_HOME:-$HOME/.cache}/astro-comfyui/comfyui-frontend-$version"
if [ ! -f "$dir/comfyui_frontend_package/static/index.html" ]; then
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download --quiet --no-deps --only-binary=:all: "comfyui-frontend-package==$version" -d "$tmp" >&2
  python3 -m zipfile -e "$tmp"/comfyui_frontend_package-"$version"-py3-none-any.whl "$tmp/unpacked"
  mkdir -p "$(dirname "$dir")"
  rm -rf "$dir"
  mv "$tmp/unpacked" "$dir"
fi
echo "$dir/comfyui_frontend_package/static"
