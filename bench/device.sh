#!/usr/bin/env bash
# The command a lent GPU machine runs, from the folder scripts/device-pack.js makes (.device/, carried):
#   bash .device/device.sh [--quick] [bench.js options]
# It unpacks Node and Dawn's native module, points the Vulkan loader it brings at the machine's NVIDIA
# driver, prints what it found, then runs bench.js (bench/device.js), which writes device-bench.md and
# device-bench.json into $OUT. With VK_ICD_FILENAMES already set (SwiftShader, when checking the pack on a
# machine without a GPU) it uses that driver.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

unxz_to() {
  if command -v xz >/dev/null; then xz -dc "$1" >"$2"
  else python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
  fi
}
unxz_to "$here/node.xz" "$work/node"
chmod +x "$work/node"
dawn="$here/node_modules/webgpu/dist/linux-x64/dawn.node"
[ -f "$dawn" ] || unxz_to "$dawn.xz" "$dawn"

# The driver's own libraries (a read-only mount on the lent machines) go before the pack's loader.
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [ -d "$d" ] && export LD_LIBRARY_PATH="$d${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$here/lib"

if [ -z "${VK_ICD_FILENAMES:-}" ]; then
  icd=""
  for d in /usr/local/nvidia/share/vulkan/icd.d /usr/share/vulkan/icd.d /etc/vulkan/icd.d /usr/local/share/vulkan/icd.d; do
    for f in "$d"/nvidia_icd*.json; do
      [ -f "$f" ] && { icd=$f; break 2; }
    done
  done
  if [ -n "$icd" ]; then
    export VK_ICD_FILENAMES="$icd" VK_DRIVER_FILES="$icd"
    echo "Vulkan driver: $icd"
    cat "$icd"
    echo
    # The driver library the ICD names, and any library it needs that is not here.
    lib=$(sed -n 's/.*"library_path"[^"]*"\([^"]*\)".*/\1/p' "$icd" | head -1)
    # As the Vulkan loader reads it: a path with a slash is relative to the JSON, a bare name is searched.
    case "$lib" in
      /*) ;;
      */*) lib="$(dirname "$icd")/$lib" ;;
      ?*)
        for d in ${LD_LIBRARY_PATH//:/ }; do [ -f "$d/$lib" ] && { lib="$d/$lib"; break; }; done
        [ -f "$lib" ] || lib=$(ldconfig -p 2>/dev/null | awk -v n="$lib" '$1 == n { print $NF; exit }')
        ;;
    esac
    if [ -n "$lib" ] && [ -f "$lib" ]; then
      echo "driver library: $lib"
      command -v ldd >/dev/null && ldd "$lib" | grep 'not found' || true
    else
      echo "driver library named by the ICD not found: Dawn will likely find no GPU adapter"
    fi
  else
    echo "no NVIDIA Vulkan ICD (nvidia_icd*.json) under /usr/local/nvidia/share/vulkan/icd.d, /usr/share/vulkan/icd.d," \
      "/etc/vulkan/icd.d or /usr/local/share/vulkan/icd.d: Dawn will find no GPU adapter, so only the CPU and" \
      "pytorch-crf rows will come (set VK_ICD_FILENAMES to the driver's JSON to point at it)"
  fi
else
  echo "Vulkan driver: VK_ICD_FILENAMES=$VK_ICD_FILENAMES"
fi
command -v nvidia-smi >/dev/null && nvidia-smi -L || true

export OUT="${OUT:-$PWD/device-out}"
"$work/node" "$here/bench.js" "$@"
