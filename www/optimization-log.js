// xtb's optimization trajectory, the job file xtbopt.log: one XYZ frame per cycle whose comment
// line carries that cycle's numbers,
//   " energy: -5.070365724376 gnorm: 0.009513597940 xtb: 6.5.1 (unknown)".
// The live progress events are throttled (a few per second), so a fast optimization shows only
// some of its cycles; this file has them all.

const ENERGY = /energy:\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/;
const GRADIENT_NORM = /gnorm:\s*(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)/;

// [{cycle (1-based frame number), energy (Eh), gradient (Eh/bohr, or undefined)}], in file order.
export function parseOptimizationLog(text) {
  const lines = text.split(/\r?\n/);
  const points = [];
  let i = 0;
  while (i < lines.length) {
    const count = Number.parseInt(lines[i], 10);
    if (!Number.isFinite(count) || count <= 0 || !/^\s*\d+\s*$/.test(lines[i])) {
      i += 1;
      continue;
    }
    const comment = lines[i + 1] || '';
    const energy = ENERGY.exec(comment);
    if (energy) {
      const gradient = GRADIENT_NORM.exec(comment);
      points.push({
        cycle: points.length + 1,
        energy: Number(energy[1]),
        gradient: gradient ? Number(gradient[1]) : undefined,
      });
    }
    i += 2 + count;
  }
  return points;
}
