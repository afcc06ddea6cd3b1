#!/usr/bin/env bash
# Every benchmark in one call, each with the headline lines it ends with, the environment first.
#
#   benchmarks/run_all.sh [LOG_DIR]
#
# Sized to finish in under 10 minutes on two busy CPU cores, so the first GPU machine a session is lent
# gives every figure in one call. Each benchmark's whole output goes to LOG_DIR/<name>.log (default: a new
# temporary folder, or $OUT where a device runner sets it); this prints the environment, then for each
# benchmark its options, its "name: value" lines and how long it took. A benchmark that cannot run here
# (the crop benchmark without ../shared/data, say) says so and the others still run.
set -u
cd "$(dirname "$0")/.."
LOG_DIR="${1:-${OUT:-$(mktemp -d -t gans-benchmarks.XXXXXX)}}"
mkdir -p "$LOG_DIR"
export TF_CPP_MIN_LOG_LEVEL=2 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
PYTHON="${PYTHON:-python}"
START=$(date +%s)

echo "# environment"
"$PYTHON" - 2> >(grep -vE '^([IWEF][0-9]{4} |WARNING: All log messages)' >&2) <<'EOF'
import os, platform
import keras, numpy, scipy, tensorflow as tf

gpus = tf.config.list_physical_devices("GPU")
names = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
           platform.processor()) if os.path.exists("/proc/cpuinfo") else platform.processor()
print(f"device: {', '.join(names) if names else 'CPU only'}")
print(f"cpu: {cpu}, {os.cpu_count()} cores; load average {' '.join(f'{v:.2f}' for v in os.getloadavg())}")
print(f"tensorflow {tf.__version__}, keras {keras.__version__}, numpy {numpy.__version__}, scipy {scipy.__version__}, "
      f"python {platform.python_version()}")
EOF
echo "logs: $LOG_DIR"

run() {  # run NAME SCRIPT ARGS...: the benchmark's headline lines and its time
    local name=$1 script=$2
    shift 2
    local began=$(date +%s)
    echo
    echo "# $name: $script $*"
    "$PYTHON" "$script" "$@" >"$LOG_DIR/$name.log" 2>&1
    local status=$?
    grep -E '^[A-Za-z0-9_]+: [-+0-9.eE]+( \(.*\))?$' "$LOG_DIR/$name.log"
    if [ $status -ne 0 ]; then
        echo "$name: did not finish (exit status $status): $(grep -v '^[IWE][0-9]' "$LOG_DIR/$name.log" | tail -n 1)"
    fi
    echo "($name: $(( $(date +%s) - began )) s)"
}

run fid benchmarks/fid.py --repeats 2 --images 32 --settings default --skip-rank-deficient
run precision benchmarks/precision.py --rounds 3 --steps 10
run train_loop benchmarks/train_loop.py --rounds 3 --steps 10
run crop_faces benchmarks/crop_faces.py --celeba-n 100 --photos-n 10 --rss-n

echo
echo "# all benchmarks: $(( $(date +%s) - START )) s"
