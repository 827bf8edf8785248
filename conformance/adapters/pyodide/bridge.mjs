// Runs the CPython driver (../cpython/driver.py, unchanged) on Pyodide, the
// WebAssembly build of CPython, under Node: the way to check CPython 3.14 and
// 3.15 on a machine where no native build of them can be installed.
//
//   node bridge.mjs --pyodide=314.0.8 DRIVER [driver flags...]  # the adapter (ADAPTERS.md)
//   node bridge.mjs --pyodide=314.0.8 --make-snapshot           # the boot snapshot, once
//
// Where Pyodide is: $ASYNCSPEC_PYODIDE_HOME/<version>/node_modules/pyodide,
// by default ~/.cache/asyncspec/pyodide (tools/setup.sh installs it there
// with npm). The home directory is the user's from the password database,
// not $HOME, which Bazel's test runner changes.
//
// Why it is built this way:
// * Start-up. Booting Pyodide (instantiating the interpreter and importing
//   the standard library from its zip) takes 16-39 s of wall time on a busy
//   2-core machine, beyond the 10 s ADAPTERS.md gives the hello. A memory
//   snapshot of the booted interpreter, with asyncio and the driver's other
//   imports already loaded, restores in a few seconds; it is made once per
//   Pyodide version (--make-snapshot, which tools/setup.sh runs) and kept
//   beside the package. Without one, the bridge makes it first (slow, said
//   on standard error).
// * I/O. The driver's own main() runs: its sys.stdin reads fd 0 and its
//   sys.stdout writes fd 1 through synchronous Node file calls, so that the
//   hello, the one-line-per-program replies and the flushes are the
//   driver's, byte for byte.
// * The prelude (prelude.py) adapts the few things a browser-shaped CPython
//   lacks; it changes no asyncio code.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
// The modules the snapshot holds already imported: the driver's imports and
// asyncio's. Part of the snapshot's file name, so that changing the list
// makes a new snapshot instead of using a stale one.
const SNAPSHOT_IMPORTS =
  "argparse asyncio functools gc json json.scanner re selectors sys time warnings traceback contextvars";

function fail(msg) {
  process.stderr.write("pyodide bridge: " + msg + "\n");
  process.exit(2);
}

function pyodideHome() {
  const env = process.env.ASYNCSPEC_PYODIDE_HOME;
  if (env) return env;
  let home;
  try {
    home = os.userInfo().homedir;
  } catch {
    home = os.homedir();
  }
  return path.join(home, ".cache", "asyncspec", "pyodide");
}

function parseArgs(argv) {
  const o = { version: null, makeSnapshot: false, driver: null, driverArgs: [] };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith("--pyodide=")) o.version = a.slice("--pyodide=".length);
    else if (a === "--make-snapshot") o.makeSnapshot = true;
    else break;
  }
  if (!o.version || !/^[0-9A-Za-z.+-]+$/.test(o.version)) {
    fail("usage: node bridge.mjs --pyodide=VERSION (--make-snapshot | DRIVER [driver flags...])");
  }
  if (!o.makeSnapshot) {
    if (i >= argv.length) fail("no driver given (the path of conformance/adapters/cpython/driver.py)");
    o.driver = argv[i];
    o.driverArgs = argv.slice(i + 1);
  }
  return o;
}

function snapshotPath(dir) {
  // A cheap stable hash (FNV-1a) of what the snapshot depends on besides
  // the Pyodide version: the list of imports and Node's major version.
  let h = 0x811c9dc5;
  for (const ch of SNAPSHOT_IMPORTS + "|" + process.versions.node.split(".")[0]) {
    h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  }
  return path.join(dir, "boot-snapshot-" + h.toString(16).padStart(8, "0") + ".bin");
}

async function importPyodide(pkg) {
  const entry = path.join(pkg, "pyodide.mjs");
  if (!fs.existsSync(entry)) {
    fail("Pyodide is not installed: no " + entry + " (tools/setup.sh installs it; ASYNCSPEC_PYODIDE_HOME moves it)");
  }
  return await import(entry);
}

// Writes `buf` whole to `fd`, waiting out a non-blocking pipe's EAGAIN.
function writeAll(fd, buf) {
  let off = 0;
  while (off < buf.length) {
    try {
      off += fs.writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if (e.code !== "EAGAIN") throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
  return buf.length;
}

function readSome(buf) {
  for (;;) {
    try {
      return fs.readSync(0, buf, 0, buf.length, null);
    } catch (e) {
      if (e.code === "EOF") return 0;
      if (e.code !== "EAGAIN") throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

async function makeSnapshot(loadPyodide, pkg, file) {
  const py = await loadPyodide({ indexURL: pkg + path.sep, _makeSnapshot: true, stdout: () => {}, stderr: () => {} });
  py.runPython("import " + SNAPSHOT_IMPORTS.split(" ").join(", "));
  const snap = py.makeMemorySnapshot();
  const tmp = file + "." + process.pid + ".tmp";
  fs.writeFileSync(tmp, snap);
  fs.renameSync(tmp, file);  // atomic: a concurrent bridge sees all of it or none
  return snap.length;
}

const opts = parseArgs(process.argv.slice(2));
const dir = path.join(pyodideHome(), opts.version);
const pkg = path.join(dir, "node_modules", "pyodide");
const { loadPyodide } = await importPyodide(pkg);
const snapFile = snapshotPath(dir);

if (opts.makeSnapshot) {
  const t0 = Date.now();
  const n = await makeSnapshot(loadPyodide, pkg, snapFile);
  process.stdout.write("pyodide bridge: wrote " + snapFile + " (" + n + " bytes) in " + (Date.now() - t0) + " ms\n");
  process.exit(0);
}

if (!fs.existsSync(snapFile)) {
  // In a child process: a Pyodide made for a snapshot is not the one to run.
  process.stderr.write("pyodide bridge: no boot snapshot " + snapFile + "; making it (once, 20-40 s)\n");
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--pyodide=" + opts.version, "--make-snapshot"],
                      { stdio: ["ignore", 2, 2] });
  if (r.status !== 0) fail("making the boot snapshot failed (exit " + r.status + ")");
}

let driverText, preludeText;
try {
  driverText = fs.readFileSync(opts.driver, "utf8");
  preludeText = fs.readFileSync(path.join(HERE, "prelude.py"), "utf8");
} catch (e) {
  fail(e.message);
}

const py = await loadPyodide({
  indexURL: pkg + path.sep,
  _loadSnapshot: fs.readFileSync(snapFile),
  stdout: () => {},
  stderr: () => {},
});
py.setStdin({ read: readSome });
py.setStdout({ write: (b) => writeAll(1, b) });
py.setStderr({ write: (b) => writeAll(2, b) });
py.FS.mkdirTree("/asyncspec");
py.FS.writeFile("/asyncspec/driver.py", driverText);
py.FS.writeFile("/asyncspec/pyodide_prelude.py", preludeText);
py.globals.set("_bridge_argv", py.toPy(["driver.py", ...opts.driverArgs]));
let rc;
try {
  rc = py.runPython(`
import sys
sys.path.insert(0, "/asyncspec")
import pyodide_prelude
pyodide_prelude.main(_bridge_argv)
`);
} catch (e) {
  fail("the driver failed: " + (e && e.message ? e.message : String(e)));
}
process.exit(typeof rc === "number" ? rc : 0);
