import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { venvPython } from "../helpers/env";
import { npyStats, parseNpy } from "../../src/protocol";

/** Arrays written by NumPy itself, each file named by what it holds. */
const SCRIPT = `
import numpy as np, sys, os
d = sys.argv[1]
np.save(os.path.join(d, "f8_2d.npy"), np.arange(12, dtype="<f8").reshape(3, 4) / 4)
np.save(os.path.join(d, "f4_1d.npy"), np.array([1.5, -2.25, np.nan, np.inf], dtype="<f4"))
np.save(os.path.join(d, "f2.npy"), np.array([0.5, -3, 65504], dtype="<f2"))
np.save(os.path.join(d, "i8.npy"), np.array([-(2**40), 0, 7], dtype="<i8"))
np.save(os.path.join(d, "i1.npy"), np.array([-128, 127], dtype="i1"))
np.save(os.path.join(d, "u2.npy"), np.array([0, 65535], dtype="<u2"))
np.save(os.path.join(d, "u8.npy"), np.array([2**53], dtype="<u8"))
np.save(os.path.join(d, "b.npy"), np.array([True, False, True]))
np.save(os.path.join(d, "fortran.npy"), np.asfortranarray(np.arange(6, dtype="<i4").reshape(2, 3)))
np.save(os.path.join(d, "d3.npy"), np.arange(24, dtype="<f8").reshape(2, 3, 4))
np.save(os.path.join(d, "scalar.npy"), np.float64(3.5))
np.save(os.path.join(d, "big.npy"), np.arange(3, dtype=">f8"))
np.save(os.path.join(d, "records.npy"), np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]))
np.save(os.path.join(d, "strings.npy"), np.array(["a", "bc"]))
with open(os.path.join(d, "v2.npy"), "wb") as f:
    np.lib.format.write_array(f, np.arange(5, dtype="<f8"), version=(2, 0))
`;

describe("the .npy reader, on files NumPy wrote", () => {
  let dir = "";
  const file = (name: string) => new Uint8Array(readFileSync(path.join(dir, name)));

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "labnote-npy-"));
    const r = spawnSync(venvPython(), ["-c", SCRIPT, dir], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stderr);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("reads a 2-D float64 array: dtype, shape and row-major values", () => {
    const p = parseNpy(file("f8_2d.npy"));
    assert.ok(p.ok, p.ok ? "" : p.reason);
    assert.equal(p.value.dtype, "float64");
    assert.deepEqual(p.value.shape, [3, 4]);
    assert.deepEqual([...p.value.data], Array.from({ length: 12 }, (_, i) => i / 4));
    assert.deepEqual(npyStats(p.value.data), { min: 0, max: 2.75, mean: 1.375, nonFinite: 0 });
  });

  it("reads float32 and float16 (NaN and ∞ counted apart in the stats), ints of every width, bool", () => {
    const f4 = parseNpy(file("f4_1d.npy"));
    assert.ok(f4.ok);
    assert.equal(f4.value.dtype, "float32");
    assert.deepEqual([...f4.value.data], [1.5, -2.25, NaN, Infinity]);
    assert.deepEqual(npyStats(f4.value.data), { min: -2.25, max: 1.5, mean: -0.375, nonFinite: 2 });
    const f2 = parseNpy(file("f2.npy"));
    assert.ok(f2.ok);
    assert.deepEqual([f2.value.dtype, ...f2.value.data], ["float16", 0.5, -3, 65504]);
    const ints = (name: string) => {
      const p = parseNpy(file(name));
      assert.ok(p.ok, p.ok ? "" : p.reason);
      return [p.value.dtype, ...p.value.data];
    };
    assert.deepEqual(ints("i8.npy"), ["int64", -(2 ** 40), 0, 7]);
    assert.deepEqual(ints("i1.npy"), ["int8", -128, 127]);
    assert.deepEqual(ints("u2.npy"), ["uint16", 0, 65535]);
    assert.deepEqual(ints("u8.npy"), ["uint64", 2 ** 53]);
    assert.deepEqual(ints("b.npy"), ["bool", 1, 0, 1]);
  });

  it("gives Fortran-ordered arrays back in row-major order; reads 3-D, 0-D and version 2 files", () => {
    const f = parseNpy(file("fortran.npy"));
    assert.ok(f.ok);
    assert.deepEqual(f.value.shape, [2, 3]);
    assert.deepEqual([...f.value.data], [0, 1, 2, 3, 4, 5]);
    const d3 = parseNpy(file("d3.npy"));
    assert.ok(d3.ok);
    assert.deepEqual(d3.value.shape, [2, 3, 4]);
    assert.equal(d3.value.data[23], 23);
    const s = parseNpy(file("scalar.npy"));
    assert.ok(s.ok);
    assert.deepEqual([s.value.shape, [...s.value.data]], [[], [3.5]]);
    const v2 = parseNpy(file("v2.npy"));
    assert.ok(v2.ok, v2.ok ? "" : v2.reason);
    assert.deepEqual([...v2.value.data], [0, 1, 2, 3, 4]);
  });

  it("refuses big-endian, records, strings, a cut-short file and a file that is no .npy, saying why", () => {
    const reason = (bytes: Uint8Array) => {
      const p = parseNpy(bytes);
      assert.ok(!p.ok);
      return p.reason;
    };
    assert.match(reason(file("big.npy")), /big-endian \(>f8\).*astype\("<f8"\)/);
    assert.match(reason(file("records.npy")), /structured records/);
    assert.match(reason(file("strings.npy")), /<U2 is not a number type/);
    const whole = file("f8_2d.npy");
    assert.match(reason(whole.subarray(0, whole.length - 5)), /cut short: 12 values of 8 bytes need 96 bytes, it has 91/);
    assert.match(reason(whole.subarray(0, 40)), /cut short in its header/);
    assert.match(reason(new TextEncoder().encode("a,b\n1,2\n")), /not an \.npy file/);
    const tmp = path.join(dir, "plain.txt");
    writeFileSync(tmp, "");
    assert.match(reason(new Uint8Array(readFileSync(tmp))), /not an \.npy file/);
  });
});
