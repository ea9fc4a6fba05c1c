/**
 * Reading report.json of any version into the current shape, for readers that draw it (the
 * report page). Figures an older version did not record stay absent; none is invented, except
 * the ones the old report's own plan determines (per-layer bits, MAC shares).
 */
import { badArgument } from '../errors';
import type { QuantPlan } from '../quant/plan';
import { layerBits, macShare } from './summary';
import { QuantizeReport, REPORT_VERSION, ReportLayer } from './report';

/** A report brought to the current shape; `run` and `perClass` are absent in version 1. */
export type ReadableReport = Omit<QuantizeReport, 'run' | 'perClass' | 'outputSha256'> & Partial<Pick<QuantizeReport, 'run' | 'perClass' | 'outputSha256'>>;

/** Version 1 (layerq 0.1 before the search): layers without bits, no MAC shares, per-class or run info. */
interface ReportV1 extends Omit<QuantizeReport, 'layers' | 'macShare' | 'perClass' | 'run' | 'sensitivity' | 'search' | 'outputSha256'> {
  layers: Omit<ReportLayer, 'weightBits' | 'activationBits' | 'candidate'>[];
}

/**
 * Parses report.json text (`name` is for error messages): a layerq report of version 1 to
 * REPORT_VERSION, brought to the current shape. Throws BAD_ARGUMENT on anything else.
 */
export function parseReport(json: string, name: string): ReadableReport {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw badArgument(name, 'a layerq report.json', 'text that is not JSON');
  }
  const r = value as Partial<QuantizeReport> | null;
  if (typeof r !== 'object' || r === null || r.tool !== 'layerq') throw badArgument(name, 'a layerq report.json', 'JSON without "tool": "layerq"');
  if (!Number.isInteger(r.version) || r.version! < 1 || r.version! > REPORT_VERSION) {
    throw badArgument(`the version of ${name}`, `1 to ${REPORT_VERSION} (newer reports need a newer layerq)`, r.version);
  }
  for (const key of ['accuracy', 'layers', 'plan', 'config', 'data', 'timings'] as const) {
    if (typeof r[key] !== 'object' || r[key] === null) throw badArgument(`"${key}" in ${name}`, 'an object', r[key]);
  }
  return r.version === 1 ? upgradeV1(value as ReportV1) : (value as QuantizeReport);
}

function upgradeV1(r: ReportV1): ReadableReport {
  const plan: QuantPlan = r.plan;
  const layers: ReportLayer[] = r.layers.map((l) => ({ ...l, ...layerBits(plan, l), candidate: 'first' }));
  return { ...r, layers, macShare: macShare(plan, r.layers) };
}
