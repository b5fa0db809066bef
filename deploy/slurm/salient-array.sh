#!/usr/bin/env bash
# Grad-CAM over a folder of images on Slurm: a job array, one task per shard.
#   sbatch --array=0-7 deploy/slurm/salient-array.sh /shared/photos /shared/out
# Each task runs `explain --shard TASK/COUNT` (COUNT = the array's size); a requeued or re-submitted
# task resumes with --skip-existing. Then, once: salient merge /shared/out --inputs /shared/photos -r
#SBATCH --job-name=salient-explain
#SBATCH --cpus-per-task=1
#SBATCH --mem=2G
#SBATCH --requeue
set -euo pipefail
in="${1:?usage: sbatch --array=0-N deploy/slurm/salient-array.sh INPUT_FOLDER OUTPUT_FOLDER}"
out="${2:?usage: sbatch --array=0-N deploy/slurm/salient-array.sh INPUT_FOLDER OUTPUT_FOLDER}"
index="${SLURM_ARRAY_TASK_ID:?run this with sbatch --array}"
count="${SLURM_ARRAY_TASK_COUNT:?run this with sbatch --array}"
exec salient explain "$in" --recursive --method gradcam --raw --threads "${SLURM_CPUS_PER_TASK:-1}" \
  --shard "$index/$count" --out "$out" --skip-existing
