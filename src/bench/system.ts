/**
 * What a benchmark figure depends on, for `layerq bench --json` to be comparable across
 * machines: the CPU (name, /proc/cpuinfo identity and SIMD flags, the features the kernels
 * detected), the kernel paths, threads and versions.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { isaInfo, type IsaName } from '../engine/addon';
import { nativeCpu, type NativeCpu } from './native-bench';

export interface SystemInfo {
  cpu: {
    /** The CPU's name (CPUID brand string, else /proc/cpuinfo or os.cpus()). */
    model: string;
    /** /proc/cpuinfo identity: x86 vendor/family/model/stepping, ARM implementer/part (where present). */
    id: Record<string, string>;
    logicalCores: number;
    /** SIMD-related flags of /proc/cpuinfo (x86 `flags`, ARM `Features`). */
    flags: string[];
    /** Features the kernels detected (CPUID + xgetbv, HWCAP) and dispatch on. */
    kernelFeatures: NativeCpu['flags'];
    /** The int8 GEMM kernels' instruction on the fastest path. */
    int8Sequence: NativeCpu['int8Sequence'];
  };
  isa: { detected: IsaName; active: IsaName; forced: string | null };
  os: { platform: string; release: string; arch: string };
  versions: { layerq: string; node: string; v8: string; napi: string; compiler: string };
}

const SIMD_FLAG = /^(sse|ssse3|avx|fma|f16c|amx|vnni|vpclmul|gfni|vaes|bmi|asimd|neon|sve|sme|dotprod|i8mm|bf16|fphp|asimddp|asimdhp|svei8mm|fp$)/;

function cpuinfo(): { fields: Map<string, string>; flags: string[] } {
  const fields = new Map<string, string>();
  try {
    for (const line of fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n')) {
      const m = /^([^:]+?)\s*:\s*(.*)$/.exec(line);
      if (m && !fields.has(m[1]!)) fields.set(m[1]!, m[2]!);
      if (line.trim() === '' && fields.size > 0) break;  // the first processor is enough
    }
  } catch {
    // not Linux: os.cpus() below
  }
  const flags = (fields.get('flags') ?? fields.get('Features') ?? '').split(/\s+/).filter((f) => SIMD_FLAG.test(f));
  return { fields, flags };
}

function packageVersion(): string {
  for (const up of ['../../..', '../..']) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.resolve(__dirname, up, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'layerq' && pkg.version) return pkg.version;
    } catch {
      // try the next
    }
  }
  return 'unknown';
}

export function systemInfo(): SystemInfo {
  const native = nativeCpu();
  const { fields, flags } = cpuinfo();
  const keys = ['vendor_id', 'cpu family', 'model', 'stepping', 'CPU implementer', 'CPU architecture', 'CPU variant', 'CPU part', 'CPU revision'];
  const id: Record<string, string> = {};
  for (const k of keys) if (fields.has(k)) id[k] = fields.get(k)!;
  const info = isaInfo();
  return {
    cpu: {
      model: native.model || fields.get('model name') || os.cpus()[0]?.model || 'unknown',
      id,
      logicalCores: os.cpus().length,
      flags,
      kernelFeatures: native.flags,
      int8Sequence: native.int8Sequence,
    },
    isa: { detected: info.detected, active: info.active, forced: process.env['LAYERQ_ISA'] ?? null },
    os: { platform: process.platform, release: os.release(), arch: process.arch },
    versions: {
      layerq: packageVersion(),
      node: process.versions.node,
      v8: process.versions.v8,
      napi: process.versions.napi ?? 'unknown',
      compiler: native.compiler ?? 'unknown',
    },
  };
}
