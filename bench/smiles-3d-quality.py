#!/usr/bin/env python3
"""How good are the 3-D structures Nox builds from SMILES? Submits 50 drug-like SMILES (most with
stereocentres or stereo double bonds) as GFN2-xTB optimizations to a fresh noxd (memory store)
and counts, per molecule: the SMILES was converted, the optimization completed, and the optimized
geometry, read back by the obabel program from its coordinates alone, has the same standard
InChI as the SMILES (stereo layers included: the builder kept every stereocentre and the
optimization did not invert one). Prints a table and one FIGURE line.
  bench/smiles-3d-quality.py          env: NOXD, SLOTS (default: cores)"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import noxbench as nb  # noqa: E402

DRUGS = [
    ("ibuprofen (S)", "CC(C)Cc1ccc(cc1)[C@H](C)C(=O)O"),
    ("naproxen (S)", "C[C@@H](c1ccc2cc(OC)ccc2c1)C(=O)O"),
    ("aspirin", "CC(=O)Oc1ccccc1C(=O)O"),
    ("paracetamol", "CC(=O)Nc1ccc(O)cc1"),
    ("caffeine", "CN1C=NC2=C1C(=O)N(C(=O)N2C)C"),
    ("nicotine (S)", "CN1CCC[C@H]1c1cccnc1"),
    ("ephedrine (1R,2S)", "C[C@H](NC)[C@@H](O)c1ccccc1"),
    ("pseudoephedrine (1S,2S)", "C[C@H](NC)[C@H](O)c1ccccc1"),
    ("L-DOPA", "N[C@@H](Cc1ccc(O)c(O)c1)C(=O)O"),
    ("(-)-menthol", "CC(C)[C@@H]1CC[C@@H](C)C[C@H]1O"),
    ("(R)-carvone", "CC1=CC[C@@H](CC1=O)C(=C)C"),
    ("(R)-camphor", "CC1(C)[C@@H]2CC[C@@]1(C)C(=O)C2"),
    ("captopril", "C[C@H](CS)C(=O)N1CCC[C@H]1C(=O)O"),
    ("(S)-propranolol", "CC(C)NC[C@H](O)COc1cccc2ccccc12"),
    ("atenolol", "CC(C)NCC(O)COc1ccc(CC(N)=O)cc1"),
    ("(S)-warfarin", "CC(=O)C[C@@H](c1ccccc1)c1c(O)c2ccccc2oc1=O"),
    ("diazepam", "CN1C(=O)CN=C(c2ccccc2)c2cc(Cl)ccc21"),
    ("(R)-fluoxetine", "CNCC[C@@H](Oc1ccc(cc1)C(F)(F)F)c1ccccc1"),
    ("sertraline (1S,4S)", "CN[C@H]1CC[C@@H](c2ccc(Cl)c(Cl)c2)c2ccccc21"),
    ("(S)-ketamine", "CN[C@@]1(CCCCC1=O)c1ccccc1Cl"),
    ("lidocaine", "CCN(CC)CC(=O)Nc1c(C)cccc1C"),
    ("procaine", "CCN(CC)CCOC(=O)c1ccc(N)cc1"),
    ("(R)-salbutamol", "CC(C)(C)NC[C@H](O)c1ccc(O)c(CO)c1"),
    ("dopamine", "NCCc1ccc(O)c(O)c1"),
    ("serotonin", "NCCc1c[nH]c2ccc(O)cc12"),
    ("(R)-adrenaline", "CNC[C@H](O)c1ccc(O)c(O)c1"),
    ("histamine", "NCCc1c[nH]cn1"),
    ("beta-D-glucose", "OC[C@H]1O[C@@H](O)[C@H](O)[C@@H](O)[C@@H]1O"),
    ("L-ascorbic acid", "OC[C@H](O)[C@H]1OC(=O)C(O)=C1O"),
    ("(R)-thalidomide", "O=C1CC[C@@H](N2C(=O)c3ccccc3C2=O)C(=O)N1"),
    ("metformin", "CN(C)C(=N)NC(=N)N"),
    ("L-proline", "OC(=O)[C@@H]1CCCN1"),
    ("L-tryptophan", "N[C@@H](Cc1c[nH]c2ccccc12)C(=O)O"),
    ("L-phenylalanine", "N[C@@H](Cc1ccccc1)C(=O)O"),
    ("L-threonine", "C[C@@H](O)[C@H](N)C(=O)O"),
    ("L-isoleucine", "CC[C@H](C)[C@H](N)C(=O)O"),
    ("(S)-pregabalin", "CC(C)C[C@@H](CN)CC(=O)O"),
    ("gabapentin", "NCC1(CC(=O)O)CCCCC1"),
    ("(R)-baclofen", "NC[C@@H](CC(=O)O)c1ccc(Cl)cc1"),
    ("methylphenidate (2R,2'R)", "COC(=O)[C@H](c1ccccc1)[C@H]1CCCCN1"),
    ("(S)-citalopram", "CN(C)CCC[C@@]1(OCc2cc(C#N)ccc21)c1ccc(F)cc1"),
    ("oseltamivir", "CCOC(=O)C1=C[C@@H](OC(CC)CC)[C@H](NC(C)=O)[C@@H](N)C1"),
    ("(R)-sitagliptin", "N[C@@H](CC(=O)N1CCn2c(C1)nnc2C(F)(F)F)Cc1cc(F)c(F)cc1F"),
    ("tamoxifen (Z)", "CC/C(=C(\\c1ccccc1)c1ccc(OCCN(C)C)cc1)c1ccccc1"),
    ("(E)-resveratrol", "Oc1ccc(/C=C/c2cc(O)cc(O)c2)cc1"),
    ("(E)-cinnamic acid", "OC(=O)/C=C/c1ccccc1"),
    ("(Z)-oleic acid (C12 analogue)", "CCCC/C=C\\CCCCCC(=O)O"),
    ("amphetamine (S)", "C[C@H](N)Cc1ccccc1"),
    ("(S)-omeprazole", "COc1ccc2[nH]c(nc2c1)[S@@](=O)Cc1ncc(C)c(OC)c1C"),
    ("(1R,2R)-chloramphenicol", "OC[C@@H](NC(=O)C(Cl)Cl)[C@H](O)c1ccc(cc1)[N+](=O)[O-]"),
]


def without_stereo(inchi):
    """The InChI without its stereo layers (/t /m /s /b)."""
    return "/".join(l for l in inchi.split("/") if l[:1] not in ("t", "m", "s", "b"))


def inchi_of_xyz(xyz):
    """Standard InChI of a geometry, by the obabel program (bonds and stereo perceived from 3-D)."""
    out = subprocess.run(["obabel", "-ixyz", "-oinchi"], input=xyz.encode(), capture_output=True, timeout=60)
    return out.stdout.decode().strip()


def main():
    slots = int(os.environ.get("SLOTS", os.cpu_count() or 1))
    noxd = nb.Noxd("--slots", slots)
    conn = noxd.conn()
    ids, post_ms = {}, []
    t0 = time.perf_counter()
    for name, smiles in DRUGS:
        spec = {"engine": "xtb", "task": "optimize", "method": "gfn2", "molecule": {"smiles": smiles},
                "timeout_s": 600}
        t_post = time.perf_counter()
        status, body = nb.request(conn, "POST", "/jobs", json.dumps(spec).encode())
        post_ms.append((time.perf_counter() - t_post) * 1000)
        ids[name] = json.loads(body)["job_id"] if status == 202 else ("refused", body.decode()[:200])
    rows, converted, optimized, kept = [], 0, 0, 0
    for name, smiles in DRUGS:
        job_id = ids[name]
        if isinstance(job_id, tuple):
            rows.append((name, "conversion refused: " + job_id[1], "", ""))
            continue
        converted += 1
        while True:
            job = nb.get_json(conn, f"/jobs/{job_id}")
            if job["state"] in ("completed", "failed", "cancelled"):
                break
            time.sleep(0.2)
        wanted = job["spec"]["molecule"]["identifiers"]["inchi"]
        if job["state"] != "completed":
            rows.append((name, job["state"] + ": " + job["error"]["code"], "", ""))
            continue
        optimized += 1
        got = inchi_of_xyz(job["result"]["optimized_xyz"])
        # Stereo the SMILES left open (racemic atenolol) may come out either way.
        same = got == wanted if ("/t" in wanted or "/b" in wanted) else without_stereo(got) == wanted
        kept += same
        rows.append((name, "optimized", "yes" if same else "NO", "" if same else f"{wanted} -> {got}"))
    wall = time.perf_counter() - t0
    print("| molecule | GFN2 optimization | stereo and constitution kept | if not |")
    print("|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    n = len(DRUGS)
    post_ms.sort()
    print(f"FIGURE\tsmiles_submit\tPOST /jobs with a SMILES: median {post_ms[len(post_ms) // 2]:.0f} ms, "
          f"max {post_ms[-1]:.0f} ms\t(conversion + identifiers on the chemistry thread, while jobs run)\t")
    print(f"FIGURE\tsmiles_3d\t{converted}/{n} converted, {optimized}/{n} optimized, {kept}/{n} same InChI "
          f"after optimization\t{wall:.0f} s on {slots} slots\tnoxd 3-D builder (RDKit ETKDG with python3-rdkit) + GFN2")


if __name__ == "__main__":
    main()
