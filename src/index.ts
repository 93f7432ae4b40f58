/**
 * The library entry of alga-node-runner (`import … from 'alga-node-runner'`): the platform the CLI
 * runs, extension folders and their builds, the manual clock, the CLI itself and the conformance kit.
 * Tests of an extension want `alga-node-runner/testing`; guest code wants `alga-node-runner/sdk`.
 */
export { startPlatform, ScheduleRemapRefused, type Platform, type PlatformOptions, type PlatformShape, type InstalledExtension } from './platform.js';
export { loadExtensionDir, readManifest, ExtensionDirError, type LoadedExtension } from './dev/extension-dir.js';
export { buildComponent, ComponentBuildError, type BuildComponentOptions, type BuiltComponent } from './build/componentize.js';
export { parseManifest, ManifestError, type Manifest } from './server/registry/manifest.js';
export { createManualClock, systemClock, type Clock, type ManualClock } from './server/execution/clock.js';
export { createLogger, silentLogger, type Logger, type LoggerOptions } from './shared/logger.js';
export { runConformance, type ConformanceReport, type RunConformanceOptions } from './conformance/kit.js';
export { loadConfig, ConfigError, type Config } from './config.js';
export { main } from './cli/main.js';
