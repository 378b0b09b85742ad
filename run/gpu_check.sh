#!/bin/bash
# Brian2CUDA check on a machine with an NVIDIA GPU and the CUDA toolkit (nvcc):
# the PD14 microcircuit under PyNN with --brian2-device cuda_standalone.
#
#   bash run/gpu_check.sh [WHEELS_DIR] [OUT_DIR] [SCALE] [BG]
#
# Needs python3 with numpy >= 2, sympy, jinja2, pyparsing, setuptools, packaging,
# scipy, matplotlib, psutil (present in common CUDA images), plus these, from
# WHEELS_DIR (pip download them where PyPI is reachable) or PyPI:
#   brian2==2.10.1 brian2cuda==1.0b1 PyNN==0.13.0 neo==0.14.6 quantities==0.16.4 lazyarray==0.7.0
# brian2cuda 1.0b1 pins brian2 2.10.1, so they go to their own folder (/tmp/site),
# not into the project's environment (which pins brian2 2.9).
# Writes the run folder to /tmp/pd14_gpu_run and copies its JSON files (timings.json:
# compile, connect_in_program, presimulate, simulate, rtf; metadata.json; rates.json)
# and the log (gpu_check.log) to OUT_DIR.
set -u
WHEELS=${1:-.whl}
OUT=${2:-results/gpu_check}
SCALE=${3:-1.0}
BG=${4:-dc}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_check.log") 2>&1
nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv
nvcc --version | tail -2
python3 --version
if [ -d "$WHEELS" ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site "$WHEELS"/*.whl || exit 1
else
    python3 -m pip install -q --no-deps --target /tmp/site brian2==2.10.1 brian2cuda==1.0b1 \
        PyNN==0.13.0 neo==0.14.6 quantities==0.16.4 lazyarray==0.7.0 || exit 1
fi
export PYTHONPATH=$PWD:/tmp/site PYTHONUNBUFFERED=1
export PD14_BRIAN2_CACHE=${PD14_BRIAN2_CACHE:-/tmp/pd14_brian2_cache}
python3 -c "import brian2, brian2cuda; print('brian2', brian2.__version__, 'brian2cuda', brian2cuda.__version__)"
RUN=/tmp/pd14_gpu_run
TIME=""; [ -x /usr/bin/time ] && TIME="/usr/bin/time -v"
$TIME python3 run/main.py brian2 --brian2-device cuda_standalone \
    --n-scaling "$SCALE" --k-scaling "$SCALE" --bg "$BG" --out "$RUN" --overwrite
status=$?
echo "exit status $status"
cp "$RUN"/*.json "$OUT"/ 2>/dev/null
exit $status
