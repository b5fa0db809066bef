#!/usr/bin/env bash
# End-to-end timing of `salient explain FOLDER --method gradcam` (15 photos, startup included) against
# the same job in Python the way pytorch-grad-cam does it (gradcam_torch.py), plus peak RSS of
# smoothgrad alone and of every method on one photo, and `salient predict` startup.
#
# usage: bench/e2e/run.sh [SALIENT]   (default: the Release build's apphost; build it first with
#        `dotnet build -c Release`; another build, e.g. a ReadyToRun publish, can be passed)
# needs: /usr/bin/python3 with torch, torchvision, cv2 (Debian: python3-torch python3-torchvision python3-opencv),
#        /usr/bin/time, ../shared beside the repository.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
shared="${SALIENT_SHARED:-$repo/../shared}"
salient="${1:-$repo/src/Salient.Cli/bin/Release/net10.0/Salient.Cli}"
runs="${RUNS:-3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

/usr/bin/python3 "$here/make_photos.py" "$shared" "$work/photos"
model="$shared/models/mobilenetv2-fp32.onnx"

# median wall seconds, median CPU seconds (user + sys: steadier than wall time on a busy machine)
# and max RSS (MB) of $runs runs of a command
measure() {
  local label="$1"; shift
  local times=() cpus=() rss=0 t u s m
  for i in $(seq "$runs"); do
    rm -rf "$work/out"
    /usr/bin/time -f "%e %U %S %M" -o "$work/t" "$@" > /dev/null 2> "$work/err" || { cat "$work/err"; exit 1; }
    read -r t u s m < "$work/t"
    times+=("$t"); cpus+=("$(echo "$u + $s" | bc)"); (( m > rss )) && rss=$m
  done
  local med cpu
  med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  cpu=$(printf '%s\n' "${cpus[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  printf '%-44s wall %6.2f s (runs: %s)  cpu %6.2f s  peak RSS %5d MB\n' "$label" "$med" "${times[*]}" "$cpu" $(( rss / 1024 ))
  echo "$med $cpu" > "$work/last"
}

echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
measure "salient explain 15 photos gradcam" "$salient" explain "$work/photos" --model "$model" --method gradcam --out "$work/out"
read -r s sc < "$work/last"
measure "python pytorch-grad-cam recipe 15 photos" /usr/bin/python3 "$here/gradcam_torch.py" "$work/photos" "$work/out"
read -r p pc < "$work/last"
echo "ratio salient / python: wall $(echo "scale=3; $s / $p" | bc), cpu $(echo "scale=3; $sc / $pc" | bc)"
measure "salient predict 1 image (startup)" "$salient" predict "$shared/images/both.png" --model "$model"
measure "python import torch+torchvision only" /usr/bin/python3 -c "import torch, torchvision, cv2"
[ "${SKIP_MEMORY:-0}" = 1 ] && exit 0
photo="$shared/images/puppies.jpg"
runs=1 # memory: one run each
measure "salient explain smoothgrad (1600x1200)" "$salient" explain "$photo" --model "$model" --method smoothgrad --out "$work/out"
all=$("$salient" methods | awk 'NF && $1 ~ /^[a-z0-9+-]+$/ {print $1}' | paste -sd, -)
measure "salient explain all methods (1600x1200)" "$salient" explain "$photo" --model "$model" --method "$all" --out "$work/out"
measure "salient explain all methods, --memory 512M" "$salient" explain "$photo" --model "$model" --method "$all" --memory 512M --out "$work/out"
