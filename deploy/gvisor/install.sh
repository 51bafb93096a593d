#!/usr/bin/env bash
# Installs gVisor (runsc and its containerd shim) on a Kubernetes node that runs containerd, and
# registers the `runsc` runtime handler that deploy/gvisor/runtimeclass.yaml points at.
#
#   sudo ./install.sh                      # latest release from gvisor.dev, restart containerd
#   sudo ./install.sh --version 20240212   # a pinned release
#   sudo ./install.sh --from-dir ./bin     # air-gapped: runsc + containerd-shim-runsc-v1 in ./bin
#
# Then, from a machine with cluster access:
#   kubectl label node <node> pipedreamer.io/gvisor=true
#   kubectl apply -f deploy/gvisor/runtimeclass.yaml -f deploy/gvisor/test-pod.yaml
#
# Idempotent: running it again updates the binaries and leaves one runtime entry.
set -euo pipefail

version="latest"
from_dir=""
bin_dir="/usr/local/bin"
config="/etc/containerd/config.toml"
runsc_config="/etc/containerd/runsc.toml"
platform="systrap"
restart=1

usage() {
  sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
  cat <<EOF
Options:
  --version <release>     gVisor release, e.g. 20240212 (default: latest)
  --from-dir <dir>        install runsc and containerd-shim-runsc-v1 from <dir>, download nothing
  --bin-dir <dir>         where the binaries go (default: /usr/local/bin)
  --config <file>         containerd config (default: /etc/containerd/config.toml)
  --runsc-config <file>   runsc options file (default: /etc/containerd/runsc.toml)
  --platform <name>       gVisor platform: systrap, ptrace or kvm (default: systrap)
  --no-restart            do not restart containerd
  -h, --help              this help
EOF
}

while [ $# -gt 0 ]; do
  case "$1" in
    --version) version="$2"; shift 2 ;;
    --from-dir) from_dir="$2"; shift 2 ;;
    --bin-dir) bin_dir="$2"; shift 2 ;;
    --config) config="$2"; shift 2 ;;
    --runsc-config) runsc_config="$2"; shift 2 ;;
    --platform) platform="$2"; shift 2 ;;
    --no-restart) restart=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

case "$platform" in
  systrap|ptrace|kvm) ;;
  *) echo "install.sh: cannot use platform '$platform': choose systrap, ptrace or kvm" >&2; exit 2 ;;
esac

case "$(uname -m)" in
  x86_64|amd64) arch="x86_64" ;;
  aarch64|arm64) arch="aarch64" ;;
  *) echo "install.sh: cannot install gVisor on '$(uname -m)': only x86_64 and aarch64 are supported" >&2; exit 1 ;;
esac

binaries=(runsc containerd-shim-runsc-v1)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if [ -n "$from_dir" ]; then
  for b in "${binaries[@]}"; do
    if [ ! -f "$from_dir/$b" ]; then
      echo "install.sh: cannot install from '$from_dir': '$b' is missing there" >&2
      exit 1
    fi
    cp "$from_dir/$b" "$work/$b"
  done
else
  url="https://storage.googleapis.com/gvisor/releases/release/${version}/${arch}"
  for b in "${binaries[@]}"; do
    echo "install.sh: downloading $url/$b"
    curl -fsSL -o "$work/$b" "$url/$b"
    curl -fsSL -o "$work/$b.sha512" "$url/$b.sha512"
    (cd "$work" && sha512sum -c "$b.sha512" >/dev/null) || {
      echo "install.sh: cannot install '$b': its sha512 does not match the release's" >&2
      exit 1
    }
  done
fi

mkdir -p "$bin_dir"
for b in "${binaries[@]}"; do
  install -m 0755 "$work/$b" "$bin_dir/$b"
done
echo "install.sh: installed ${binaries[*]} into $bin_dir"

mkdir -p "$(dirname "$runsc_config")"
cat >"$runsc_config" <<EOF
# Written by pipedreamer deploy/gvisor/install.sh
[runsc_config]
  platform = "$platform"
EOF

# The CRI plugin's section name differs between containerd config versions 2 and 3.
mkdir -p "$(dirname "$config")"
touch "$config"
if grep -Eq '^[[:space:]]*version[[:space:]]*=[[:space:]]*3' "$config"; then
  section="plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runsc"
else
  section='plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc'
  grep -Eq '^[[:space:]]*version[[:space:]]*=' "$config" || sed -i '1i version = 2' "$config"
fi
begin="# BEGIN pipedreamer gvisor"
end="# END pipedreamer gvisor"
# Replace an earlier block so the entry exists exactly once.
sed -i "/^$begin\$/,/^$end\$/d" "$config"
if grep -Fq 'containerd.runtimes.runsc]' "$config"; then
  echo "install.sh: $config already has a runsc runtime (not written by this script); left as is" >&2
else
  cat >>"$config" <<EOF
$begin
[$section]
  runtime_type = "io.containerd.runsc.v1"
[$section.options]
  TypeUrl = "io.containerd.runsc.v1.options"
  ConfigPath = "$runsc_config"
$end
EOF
  echo "install.sh: registered runtime handler 'runsc' in $config"
fi

if [ "$restart" = 1 ]; then
  if command -v systemctl >/dev/null 2>&1; then
    systemctl restart containerd
    echo "install.sh: restarted containerd"
  else
    echo "install.sh: restart containerd to load the runsc handler" >&2
  fi
fi
"$bin_dir/runsc" --version | head -n 1
echo "install.sh: done; label the node: kubectl label node $(hostname) pipedreamer.io/gvisor=true"
