#!/usr/bin/env bash
# xtb through Nox against the same xtb runs done directly by a shell loop with the same
# parallelism (xargs -P SLOTS; each run in a fresh temp dir, the same command line and the
# same clean environment noxd gives its children: OMP/OPENBLAS/MKL_NUM_THREADS=1,
# OMP_STACKSIZE=512M, HOME=the run dir, LANG=C).
#  (a) OPT_COUNT GFN2 optimizations of a rough n-alkane C(ALKANE_N) (62 atoms for N=20;
#      about 1 s each here; no Open Babel, so no real ibuprofen): goal Nox wall <= 1.05x direct.
#  (b) SP_COUNT GFN2 water energies (about 10 ms each): goal Nox overhead <= 2 ms per job,
#      overhead per job = (nox_wall - direct_wall) * SLOTS / SP_COUNT, i.e. the extra
#      slot-time each job costs (walls are for SLOTS jobs running at once).
# Nox side: all jobs in one POST /jobs/batch, wall = POST -> last terminal event on /events
# (bench/submit-and-wait.py). Direct and Nox alternate ROUNDS times; medians are reported.
#   bench/xtb-vs-direct.sh       env: ROUNDS (3), SLOTS (2), ALKANE_N (20), OPT_COUNT (20), SP_COUNT (200)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ROUNDS=${ROUNDS:-3} SLOTS=${SLOTS:-2} ALKANE_N=${ALKANE_N:-20} OPT_COUNT=${OPT_COUNT:-20} SP_COUNT=${SP_COUNT:-200}
XTB=$(command -v xtb)

mols=$BENCH_TMP/mols
mkdir -p "$mols"
python3 "$REPO_DIR/scripts/make_alkane.py" "$ALKANE_N" >"$mols/alkane.xyz"
printf '3\nwater\nO 0 0 0.117\nH 0 0.757 -0.467\nH 0 -0.757 -0.467\n' >"$mols/water.xyz"

# One xtb run as noxd would do it (command line from engines/xtb/command.cpp).
# The xtb process's own wall time is appended to $BENCH_TMP/direct-times (bash's
# EPOCHREALTIME, no extra process), to compare with the wall_time_s noxd records.
cat >"$BENCH_TMP/one-xtb.sh" <<EOF
#!/usr/bin/env bash
d=\$(mktemp -d "$BENCH_TMP/run.XXXXXX")
cp "\$1" "\$d/mol.xyz"
cd "\$d"
shift
ulimit -s 524288   # noxd gives xtb a 512 MiB stack limit (engines/runner.hpp)
t0=\$EPOCHREALTIME
env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="\$d" LANG=C LC_ALL=C OMP_NUM_THREADS=1 \\
  OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 OMP_STACKSIZE=512M \\
  "$XTB" mol.xyz --chrg 0 --uhf 0 --gfn 2 "\$@" --json >xtb.log 2>&1
rc=\$?
t1=\$EPOCHREALTIME
echo "\$t0 \$t1" >>"$BENCH_TMP/direct-times"
cd / && rm -rf "\$d"
exit \$rc
EOF
chmod +x "$BENCH_TMP/one-xtb.sh"

direct() { # xyz count xtb-task-args... -> prints wall seconds
  local xyz=$1 count=$2 t0 t1
  shift 2
  : >"$BENCH_TMP/direct-times"
  t0=$(date +%s.%N)
  seq "$count" | xargs -P "$SLOTS" -I{} "$BENCH_TMP/one-xtb.sh" "$xyz" "$@" ||
    { echo "a direct xtb run failed" >&2; return 1; }
  t1=$(date +%s.%N)
  awk '{s += $2 - $1} END{printf "%.1f\n", 1000 * s / NR}' "$BENCH_TMP/direct-times" >>"$BENCH_TMP/direct-xtb-ms"
  awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f\n", b - a}'
}

nox() { # xyz count task -> prints wall seconds; details to stderr
  local xyz=$1 count=$2 task=$3 spec out
  spec=$(python3 -c 'import json,sys; print(json.dumps({"engine":"xtb","task":sys.argv[2],"method":"gfn2","molecule":{"xyz":open(sys.argv[1]).read()}}))' "$xyz" "$task")
  out=$(python3 "$BENCH_DIR/submit-and-wait.py" "$NOX_URL" "$spec" "$count" 900)
  echo "$out" >>"$BENCH_TMP/nox-$task.jsonl"
  python3 -c 'import json,sys; d=json.loads(sys.argv[1]); n=d["count"]
ok = d["finished"] == n and d["states"].get("completed") == n
print("%.3f" % d["wall_s"] if ok else "FAILED")' "$out"
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

start_noxd --slots "$SLOTS"
echo "noxd $NOX_URL, slots $SLOTS, xtb $("$XTB" --version 2>&1 | grep -o 'version [0-9.]*'), load average $(cut -d' ' -f1 /proc/loadavg)"

bench_case() { # label xyz count task xtb-args...
  local label=$1 xyz=$2 count=$3 task=$4 d n dw=() nw=()
  shift 4
  for ((i = 1; i <= ROUNDS; i++)); do
    d=$(direct "$xyz" "$count" "$@")
    n=$(nox "$xyz" "$count" "$task")
    [ "$n" = FAILED ] && { echo "Nox jobs failed" >&2; return 1; }
    echo "   round $i $label: direct ${d} s (xtb process mean $(tail -1 "$BENCH_TMP/direct-xtb-ms") ms), nox ${n} s" \
      "(nox: $(tail -1 "$BENCH_TMP/nox-$task.jsonl"))"
    dw+=("$d") nw+=("$n")
  done
  printf '%s\n' "${dw[@]}" >"$BENCH_TMP/direct-walls-$task"
  D=$(median "${dw[@]}") N=$(median "${nw[@]}")
  DX=$(median $(tail -n "$ROUNDS" "$BENCH_TMP/direct-xtb-ms"))   # direct: the xtb process alone, ms
  NX=$(python3 -c 'import json,sys
rows = [json.loads(l) for l in open(sys.argv[1])][-int(sys.argv[2]):]
d = sorted(1000 * r["mean_engine_wall_s"] for r in rows)
print("%.1f" % d[len(d) // 2])' "$BENCH_TMP/nox-$task.jsonl" "$ROUNDS")   # the same as noxd measured it
  # Slot-time per job not spent inside an xtb process, (wall - count * mean xtb process / slots)
  # * slots / count, median over rounds; robust to xtb itself running faster or slower in one
  # arm (this machine is shared). Nox's figure includes its late exit detection, if any.
  read -r OUTD OUTN < <(python3 -c 'import json,sys
k, slots, count = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
dw = [float(x) for x in open(sys.argv[4]).read().split()][-k:]
dx = [float(x) / 1000 for x in open(sys.argv[5]).read().split()][-k:]
rows = [json.loads(l) for l in open(sys.argv[6])][-k:]
med = lambda v: sorted(v)[len(v) // 2]
d = med([(w - count * x / slots) * slots / count * 1000 for w, x in zip(dw, dx)])
n = med([(r["wall_s"] - count * r["mean_engine_wall_s"] / slots) * slots / count * 1000 for r in rows])
print("%.1f %.1f" % (d, n))' "$ROUNDS" "$SLOTS" "$count" "$BENCH_TMP/direct-walls-$task" "$BENCH_TMP/direct-xtb-ms" "$BENCH_TMP/nox-$task.jsonl")
  # Inside Nox, per job: (finished_at - started_at) minus the xtb process's own wall time:
  # scratch dir, input files, spawn/wait, result parsing, artifact copy, store transitions.
  INNER=$(python3 -c 'import json,sys
rows = [json.loads(l) for l in open(sys.argv[1])]
d = sorted(1000 * (r["mean_run_s"] - r["mean_engine_wall_s"]) for r in rows)
print("%.1f" % d[len(d) // 2])' "$BENCH_TMP/nox-$task.jsonl")
}

echo "== (a) $OPT_COUNT optimizations of C${ALKANE_N}H$((2 * ALKANE_N + 2)) ($(head -1 "$mols/alkane.xyz") atoms), --opt normal"
bench_case opt "$mols/alkane.xyz" "$OPT_COUNT" optimize --opt normal
ratio=$(awk -v n="$N" -v d="$D" 'BEGIN{printf "%.3f", n/d}')
echo "   median: direct $D s ($(awk -v d="$D" -v c="$OPT_COUNT" -v s="$SLOTS" 'BEGIN{printf "%.2f", d*s/c}') s per run), nox $N s, ratio $ratio"
figure "xtb ${OPT_COUNT} opts C${ALKANE_N} wall (nox | direct)" "$N s | $D s" "" ""
figure "xtb opt: Nox time per job around the xtb process (run - xtb wall)" "$INNER ms" "" ""
figure "xtb opt: xtb process wall, direct | as noxd measured it" "$DX ms | $NX ms" "" ""
figure "xtb opt: slot-time per job outside xtb, direct | nox" "$OUTD ms | $OUTN ms" "" ""
figure "xtb opts wall ratio nox/direct" "$ratio" "<= 1.05" "$(awk -v r="$ratio" 'BEGIN{print (r <= 1.05) ? "met" : "MISSED"}')"

echo "== (b) $SP_COUNT water energies (--sp)"
bench_case sp "$mols/water.xyz" "$SP_COUNT" energy --sp
ovh=$(awk -v n="$N" -v d="$D" -v c="$SP_COUNT" -v s="$SLOTS" 'BEGIN{printf "%.2f", (n-d)*s/c*1000}')
echo "   median: direct $D s ($(awk -v d="$D" -v c="$SP_COUNT" -v s="$SLOTS" 'BEGIN{printf "%.1f", d*s/c*1000}') ms per run), nox $N s; overhead (nox-direct)*slots/jobs = $ovh ms per job"
figure "xtb ${SP_COUNT} water energies wall (nox | direct)" "$N s | $D s" "" ""
figure "xtb water: Nox time per job around the xtb process (run - xtb wall)" "$INNER ms" "" ""
figure "xtb water: xtb process wall, direct | as noxd measured it" "$DX ms | $NX ms" "" ""
strict=$(awk -v n="$N" -v c="$SP_COUNT" -v s="$SLOTS" -v dx="$DX" 'BEGIN{printf "%.1f", n*s/c*1000 - dx}')
echo "   stricter: Nox slot-time per job (nox_wall*slots/jobs) - the bare xtb process (direct) = $strict ms"
figure "xtb water: Nox slot-time per job - bare xtb process (direct)" "$strict ms" "(<= 2 ms)" "$(awk -v o="$strict" 'BEGIN{print (o <= 2) ? "met" : "MISSED"}')"
figure "xtb water: slot-time per job outside xtb, direct | nox" "$OUTD ms | $OUTN ms" "" ""
figure "xtb water overhead per job ((nox-direct)*slots/jobs)" "$ovh ms" "<= 2 ms" "$(awk -v o="$ovh" 'BEGIN{print (o <= 2) ? "met" : "MISSED"}')"
