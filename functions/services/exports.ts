import { exportGenerated } from '../../domain/audit/events.js';
import type { ConnectorTarget } from '../../domain/connectors/types.js';
import { knownDataClasses, targetNamed } from '../../domain/vocabulary/index.js';
import { nowIso, type ServiceDeps } from './deps.js';

export const EXPORT_FORMAT = 'erasure-orchestrator.export.v1';

export interface ExportInput {
  readonly subjectId: string;
  /** @default every data class of the catalog */
  readonly dataClasses?: readonly string[];
}

export interface ExportSource {
  readonly target: string;
  readonly connector: string;
  /** The requested data classes stored in this target. */
  readonly dataClasses: readonly string[];
  /** False when the target's connector cannot export; `records` is then empty. */
  readonly supported: boolean;
  readonly truncated: boolean;
  readonly records: readonly Readonly<Record<string, unknown>>[];
}

export interface SubjectExport {
  readonly format: typeof EXPORT_FORMAT;
  readonly exportId: string;
  readonly subjectId: string;
  readonly generatedAt: string;
  readonly dataClasses: readonly string[];
  readonly sources: readonly ExportSource[];
}

const exportedClasses = (deps: ServiceDeps, dataClasses: readonly string[] | undefined): string[] =>
  dataClasses === undefined
    ? deps.config.catalog.dataClasses.map((policy) => policy.dataClass)
    : knownDataClasses(deps.config.catalog, dataClasses);

/** Each target the classes name, once, with the classes that name it (catalog order). */
const targetsOf = (deps: ServiceDeps, dataClasses: readonly string[]) => {
  const byName = new Map<string, { target: ConnectorTarget; dataClasses: string[] }>();
  for (const policy of deps.config.catalog.dataClasses) {
    if (!dataClasses.includes(policy.dataClass)) continue;
    for (const name of policy.targets) {
      const known = byName.get(name);
      if (known !== undefined) {
        known.dataClasses.push(policy.dataClass);
        continue;
      }
      byName.set(name, { target: targetNamed(deps.config, name), dataClasses: [policy.dataClass] });
    }
  }
  return [...byName.values()];
};

/**
 * ALU-6: a structured, machine-readable copy of a subject's data, read from every target of the
 * requested classes (one read per target, however many classes share it). Nothing is changed.
 * A connector failure fails the whole export: a copy silently missing a source would mislead the
 * subject. The audit entry (ALE-5) holds counts and flags per target, never the data itself.
 */
export const exportSubjectData = async (deps: ServiceDeps, input: ExportInput): Promise<SubjectExport> => {
  const dataClasses = exportedClasses(deps, input.dataClasses);
  const exportId = `exp_${deps.randomId().replaceAll('-', '')}`;
  const invocationFor = (classes: readonly string[]) => ({
    exportId,
    subjectId: input.subjectId,
    dataClasses: classes,
  });
  const sources = await Promise.all(
    targetsOf(deps, dataClasses).map(async ({ target, dataClasses: classes }): Promise<ExportSource> => {
      const connector = deps.connectors.connectorFor(target);
      const base = { target: target.name, connector: target.kind, dataClasses: classes };
      if (connector.export === undefined) {
        return { ...base, supported: false, truncated: false, records: [] };
      }
      const exported = await connector.export(target, invocationFor(classes));
      return { ...base, supported: true, truncated: exported.truncated, records: exported.records };
    }),
  );
  const generatedAt = nowIso(deps);
  const detail: Record<string, string | number | boolean> = {
    exportId,
    dataClasses: dataClasses.join(','),
    sources: sources.length,
  };
  for (const source of sources) {
    detail[`${source.target}.records`] = source.records.length;
    detail[`${source.target}.truncated`] = source.truncated;
    if (!source.supported) detail[`${source.target}.supported`] = false;
  }
  await deps.uow.commit(
    [],
    [{ event: exportGenerated(exportId, detail, generatedAt), subjectId: input.subjectId }],
  );
  return {
    format: EXPORT_FORMAT,
    exportId,
    subjectId: input.subjectId,
    generatedAt,
    dataClasses,
    sources,
  };
};
