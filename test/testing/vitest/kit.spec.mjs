// The test kit's suite (test/testing/kit-suite.ts, compiled) under vitest; test/testing/vitest.test.ts runs it.
import { describe, test } from 'vitest';
import { kitSuite } from '../../../dist/test/testing/kit-suite.js';

// Only a hang reaches this bound; it outlasts the suite's own guards (a child process's, 600 s).
kitSuite({ describe, test: (name, fn) => test(name, fn, 900_000) });
