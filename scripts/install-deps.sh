#!/usr/bin/env bash
# Installs the Debian 12 packages the build, the tests and the Python analysis need.
set -euo pipefail
PACKAGES=(
  build-essential cmake ninja-build pkg-config
  openmpi-bin libopenmpi-dev libeigen3-dev libhdf5-dev hdf5-tools libboost-program-options-dev catch2
  zlib1g-dev libzip-dev libdeflate-dev libxlsxwriter-dev libssl-dev
  time python3 python3-h5py python3-pandas python3-matplotlib python3-pytest python3-openpyxl xlsx2csv
  slurm-wlm munge
  clang libclang-rt-14-dev
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
