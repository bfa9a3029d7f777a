// 3-D structures with 3Dmol.js (loaded by index.html from /vendor/3Dmol-min.js): a still
// molecule, or one vibrating along a normal mode. Each container gets one viewer, reused as the
// structure changes; its data-model attribute says what it shows ("none", "shown",
// "unavailable", "error") and data-animating whether a mode is playing, for scripts and tests.
import { el } from './format.js';

export function xyzCoordinates(xyz) {
  const count = parseInt(xyz.split(/\r?\n/)[0], 10);
  return xyz.split(/\r?\n/).slice(2, 2 + (count || 0)).map((line) => line.trim().split(/\s+/).slice(1, 4).map(Number))
    .filter((p) => p.length === 3 && p.every(Number.isFinite));
}

// The unit eigenvector of the smallest eigenvalue of a symmetric 3x3 matrix (Jacobi rotations).
function smallestEigenvector(m) {
  const a = m.map((r) => [...r]);
  const v = [[1, 0, 0], [0, 1, 0], [0, 0, 1]];
  for (let sweep = 0; sweep < 50; sweep += 1) {
    let off = 0;
    for (let p = 0; p < 3; p += 1) for (let q = p + 1; q < 3; q += 1) off += a[p][q] ** 2;
    if (off < 1e-18) break;
    for (let p = 0; p < 3; p += 1) {
      for (let q = p + 1; q < 3; q += 1) {
        if (Math.abs(a[p][q]) < 1e-15) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < 3; k += 1) {
          const akp = a[k][p];
          const akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < 3; k += 1) {
          const apk = a[p][k];
          const aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < 3; k += 1) {
          const vkp = v[k][p];
          const vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i < 3; i += 1) if (a[i][i] < a[best][best]) best = i;
  return [v[0][best], v[1][best], v[2][best]];
}

// Turns the view so that the molecule's flattest direction points at the camera: a planar
// molecule is seen face on rather than edge on, whatever plane its coordinates lie in.
export function faceCamera(viewer, points) {
  if (points.length < 3) return;
  const mean = [0, 1, 2].map((k) => points.reduce((sum, p) => sum + p[k], 0) / points.length);
  const cov = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  for (const p of points) {
    for (let i = 0; i < 3; i += 1) for (let j = 0; j < 3; j += 1) cov[i][j] += (p[i] - mean[i]) * (p[j] - mean[j]);
  }
  const n = smallestEigenvector(cov);
  // The rotation taking n to the view axis z: about n x z by the angle between them.
  const axis = [n[1], -n[0], 0];
  const length = Math.hypot(...axis);
  const view = viewer.getView();
  if (length < 1e-6) {
    [view[4], view[5], view[6], view[7]] = [0, 0, 0, 1];
  } else {
    const half = Math.acos(Math.max(-1, Math.min(1, n[2]))) / 2;
    const s = Math.sin(half) / length;
    [view[4], view[5], view[6], view[7]] = [axis[0] * s, axis[1] * s, 0, Math.cos(half)];
  }
  viewer.setView(view);
}

const STICKS = { stick: { radius: 0.14 }, sphere: { scale: 0.22 } };

export class StructureViewer {
  constructor(container) {
    this.container = container;
    this.viewer = null;
  }

  // The 3Dmol viewer of this container, made on first use; null (with a message shown) when
  // 3Dmol.js did not load.
  ensureViewer() {
    if (!window.$3Dmol) {
      this.container.dataset.model = 'unavailable';
      this.container.replaceChildren(el('p', { class: 'viewer-message' },
        '3-D viewer unavailable: /vendor/3Dmol-min.js did not load.'));
      return null;
    }
    if (!this.viewer) {
      this.container.replaceChildren();
      this.viewer = window.$3Dmol.createViewer(this.container, { backgroundColor: 'white', antialias: true, minimumZoomToDistance: 1.5 });
    }
    return this.viewer;
  }

  // Loads an XYZ text, frames it and draws it; returns the 3Dmol model, or null on failure.
  load(xyz) {
    this.stop();
    const viewer = this.ensureViewer();
    if (!viewer) return null;
    try {
      viewer.clear();
      const model = viewer.addModel(xyz, 'xyz');
      viewer.setStyle({}, STICKS);
      viewer.zoomTo();
      faceCamera(viewer, xyzCoordinates(xyz));
      viewer.render();
      this.container.dataset.model = 'shown';
      return model;
    } catch (err) {
      this.viewer = null;
      this.container.dataset.model = 'error';
      this.container.replaceChildren(el('p', { class: 'viewer-message' }, `Cannot show this structure: ${err}`));
      return null;
    }
  }

  show(xyz) {
    if (!xyz) {
      this.clear();
      return;
    }
    this.load(xyz);
  }

  // Plays a normal mode: `xyz` carries each atom's displacement as three extra columns
  // (x y z dx dy dz, which 3Dmol's XYZ reader keeps as dx, dy, dz); model.vibrate() makes the
  // frames from -amplitude to +amplitude and the viewer plays them back and forth.
  animate(xyz, { amplitude = 0.7, framesEachWay = 10, intervalMs = 40 } = {}) {
    const model = this.load(xyz);
    if (!model) return false;
    model.vibrate(framesEachWay, amplitude, true);
    this.viewer.animate({ loop: 'backAndForth', interval: intervalMs });
    this.container.dataset.animating = 'true';
    this.container.dataset.frames = String(model.getNumFrames());
    return true;
  }

  stop() {
    if (this.viewer && this.viewer.isAnimated()) this.viewer.stopAnimate();
    this.container.dataset.animating = 'false';
  }

  isAnimating() {
    return Boolean(this.viewer && this.viewer.isAnimated());
  }

  clear() {
    this.stop();
    if (this.viewer) {
      this.viewer.clear();
      this.viewer.render();
    }
    this.container.dataset.model = 'none';
  }

  resize() {
    if (this.viewer) this.viewer.resize();
  }
}
