/** The test kit's suite (kit-suite.ts) on node:test. */
import { describe, test } from 'node:test';
import { kitSuite } from './kit-suite.js';

kitSuite({ describe, test: (name, fn) => test(name, fn) });
