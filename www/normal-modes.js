// Normal modes of a Hessian job, read from the job file g98.out: xtb writes its frequencies in
// Gaussian 98's format, which also carries the structure the Hessian was computed at ("Standard
// orientation", Angstrom) and each mode's Cartesian displacements, three modes per block:
//
//                       1                      2                      3
//                         a                      a                      a
//  Frequencies --  1539.3122              3644.3668              3652.7873
//  ...
//  IR Inten    --   133.5695                 6.6707                16.7679
//  ...
//  Atom AN      X      Y      Z        X      Y      Z        X      Y      Z
//    1   8     0.00   0.00   0.28    -0.00  -0.00  -0.19    -0.00  -0.27   0.00
//
// The job's result has the frequencies and intensities but not the displacements, so this file
// is what an animation of a mode needs.

// Element symbols by atomic number (g98.out names atoms by number only).
const ELEMENTS = ['', 'H', 'He', 'Li', 'Be', 'B', 'C', 'N', 'O', 'F', 'Ne', 'Na', 'Mg', 'Al', 'Si', 'P', 'S', 'Cl', 'Ar',
  'K', 'Ca', 'Sc', 'Ti', 'V', 'Cr', 'Mn', 'Fe', 'Co', 'Ni', 'Cu', 'Zn', 'Ga', 'Ge', 'As', 'Se', 'Br', 'Kr',
  'Rb', 'Sr', 'Y', 'Zr', 'Nb', 'Mo', 'Tc', 'Ru', 'Rh', 'Pd', 'Ag', 'Cd', 'In', 'Sn', 'Sb', 'Te', 'I', 'Xe',
  'Cs', 'Ba', 'La', 'Ce', 'Pr', 'Nd', 'Pm', 'Sm', 'Eu', 'Gd', 'Tb', 'Dy', 'Ho', 'Er', 'Tm', 'Yb', 'Lu',
  'Hf', 'Ta', 'W', 'Re', 'Os', 'Ir', 'Pt', 'Au', 'Hg', 'Tl', 'Pb', 'Bi', 'Po', 'At', 'Rn'];

function numbersAfterDashes(line) {
  return line.slice(line.indexOf('--') + 2).trim().split(/\s+/).map(Number);
}

// The atoms of the "Standard orientation" table: [{symbol, position: [x, y, z]}].
function readOrientation(lines, start) {
  const atoms = [];
  let dashes = 0;
  for (let i = start; i < lines.length && dashes < 3; i += 1) {
    if (/^\s*-{10,}\s*$/.test(lines[i])) {
      dashes += 1;
      continue;
    }
    if (dashes !== 2) continue; // the column headings sit between the first two rules
    const t = lines[i].trim().split(/\s+/).map(Number);
    if (t.length < 6 || !t.every(Number.isFinite)) continue;
    atoms.push({ symbol: ELEMENTS[t[1]] || 'X', position: [t[3], t[4], t[5]] });
  }
  return atoms;
}

// {atoms: [{symbol, position}], modes: [{number, frequency, irIntensity, displacements: [[dx, dy, dz]...]}]}
// or null when the text holds no modes.
export function parseG98(text) {
  const lines = text.split(/\r?\n/);
  let atoms = [];
  const modes = [];
  let block = null; // the modes of the block being read
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    if (/Standard orientation:/.test(line)) {
      atoms = readOrientation(lines, i + 1);
    } else if (/^\s*Frequencies\s*--/.test(line)) {
      block = numbersAfterDashes(line).map((frequency) => ({ frequency, irIntensity: undefined, displacements: [] }));
    } else if (block && /^\s*IR Inten\s*--/.test(line)) {
      numbersAfterDashes(line).forEach((value, k) => { if (block[k]) block[k].irIntensity = value; });
    } else if (block && /^\s*Atom\s+AN\b/.test(line)) {
      for (let a = 0; a < atoms.length; a += 1) {
        const t = (lines[i + 1 + a] || '').trim().split(/\s+/).map(Number);
        block.forEach((mode, k) => mode.displacements.push(t.slice(2 + 3 * k, 5 + 3 * k)));
      }
      i += atoms.length;
      for (const mode of block) {
        if (mode.displacements.every((d) => d.length === 3 && d.every(Number.isFinite))) {
          modes.push({ number: modes.length + 1, ...mode });
        }
      }
      block = null;
    }
  }
  if (!atoms.length || !modes.length) return null;
  return { atoms, modes };
}

// An XYZ text of the structure with the mode's displacement after each atom's coordinates
// (x y z dx dy dz), the form 3Dmol's XYZ reader turns into per-atom vibration vectors.
export function modeXyz(atoms, mode) {
  const rows = atoms.map((atom, i) => [atom.symbol, ...atom.position, ...mode.displacements[i]]
    .map((v) => (typeof v === 'number' ? v.toFixed(6) : v)).join(' '));
  return `${atoms.length}\nmode ${mode.number}: ${mode.frequency.toFixed(2)} cm-1\n${rows.join('\n')}\n`;
}
