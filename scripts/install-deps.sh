#!/usr/bin/env bash
# Installs the Debian 12 packages streamlearn builds, tests and demos with.
# Idempotent: only missing packages are installed, and apt is skipped entirely when
# everything is present. One apt-get call (two at once collide on the dpkg lock).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache
  librdkafka-dev librocksdb-dev libeigen3-dev
  libboost-system-dev
  prometheus-cpp-dev catch2 libsimdjson-dev libyaml-cpp-dev libcli11-dev
  libspdlog-dev libfmt-dev
  kcat python3-confluent-kafka
)
# Extra tools used only by the test suite's checks (docker-compose config; the contract
# tests' JSON Schema validator tests/contracts/validate_json.py), and by `make fuzz`:
# headless Chromium for the dashboard test (tests/integration/dashboard_chromium.sh);
# promtool (Debian's prometheus package; on a host with systemd it also starts a Prometheus on
# :9090, which the tests do not need: `systemctl disable --now prometheus`) for the stack.promtool_*
# tests on /metrics and deploy/;
# clang with libFuzzer and the sanitizer runtimes (libclang-rt-14-dev is only a
# recommendation of clang, so it is named here) and llvm-symbolizer for readable reports.
if [ "${1:-}" = "--test" ]; then
  packages+=(docker-compose python3-jsonschema python3-yaml python3-sklearn chromium prometheus clang libclang-rt-14-dev llvm-14)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
