// Which Node versions alga-node-runner supports, checked before anything else loads (a Node below
// the floor would otherwise fail somewhere deep in a dependency with a stack trace). Plain JS with
// no imports, so it runs on any Node that can load an ES module. `package.json` `engines` says the same.
export const NODE_FLOOR = '20.18.1';
export const NODE_TESTED_MAJORS = [20, 22, 24];

function parse(v) {
  return String(v).replace(/^v/, '').split('.').map((n) => Number.parseInt(n, 10) || 0);
}

/** `{ ok: false, message }` below the floor; `{ ok: true, warning }` past the newest tested major. */
export function nodeSupport(version = process.versions.node) {
  const [major, minor, patch] = parse(version);
  const [fMajor, fMinor, fPatch] = parse(NODE_FLOOR);
  const below = major !== fMajor ? major < fMajor : minor !== fMinor ? minor < fMinor : patch < fPatch;
  const range = `Node ${NODE_FLOOR} or later, through ${NODE_TESTED_MAJORS[NODE_TESTED_MAJORS.length - 1]}.x`;
  if (below) return { ok: false, message: `alga-node-runner needs ${range}; this is Node ${version}. Install a supported Node (20, 22 or 24) and run it again.` };
  if (major > NODE_TESTED_MAJORS[NODE_TESTED_MAJORS.length - 1]) {
    return { ok: true, warning: `alga-node-runner is tested on Node 20, 22 and 24; Node ${version} is newer and untested.` };
  }
  return { ok: true };
}

/** Exits with the message below the floor; prints the warning past the tested range. */
export function requireSupportedNode() {
  const s = nodeSupport();
  if (!s.ok) {
    process.stderr.write(`${s.message}\n`);
    process.exit(1);
  }
  if (s.warning) process.stderr.write(`${s.warning}\n`);
}
