// The test kit's suite (test/testing/kit-suite.ts, compiled) under vitest; test/testing/vitest.test.ts runs it.
import { describe, test } from 'vitest';
import { kitSuite } from '../../../dist/test/testing/kit-suite.js';

kitSuite({ describe, test: (name, fn) => test(name, fn, 300_000) });
