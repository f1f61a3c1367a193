import { exportGenerated } from '../../domain/audit/events.js';
import type { ConnectorTarget } from '../../domain/connectors/types.js';
import { resolvedDetail } from '../../domain/erasure/request.js';
import { ValidationError } from '../../domain/errors.js';
import {
  hasIdentifiers,
  identifiersFor,
  SUBJECT_ID_IDENTIFIER,
  type SubjectIdentifiers,
  targetIdentifier,
} from '../../domain/identifiers/identifiers.js';
import { knownDataClasses, targetNamed } from '../../domain/vocabulary/index.js';
import { nowIso, type ServiceDeps } from './deps.js';
import { resolveIdentifiers } from './identifier-resolution.js';

export const EXPORT_FORMAT = 'erasure-orchestrator.export.v1';

export interface ExportInput {
  readonly subjectId: string;
  /** Validated against the declared identifiers: targets keyed by one are read by each value. */
  readonly identifiers?: SubjectIdentifiers;
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
  /** The identifier the target is keyed by, when the export was given no value of it (nothing read). */
  readonly unaddressed?: string;
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
 * An export reads data, so with a resolver it reads only by values the resolver knows for the
 * subject: a caller that sends another person's e-mail with any subject id would otherwise be handed
 * that person's data (an erasure may act on values the resolver does not know, such as an old
 * e-mail; a copy of data may not). The 400 names the identifier, never the value.
 */
const requireKnownValues = (
  deps: Pick<ServiceDeps, 'identifierResolver'>,
  sent: SubjectIdentifiers | undefined,
  known: SubjectIdentifiers,
): void => {
  for (const [name, values] of Object.entries(sent ?? {})) {
    // Exactly: keys and prefixes are case-sensitive, so `cam-00aa` may be another device's record.
    const own = new Set(known[name] ?? []);
    values.forEach((value, index) => {
      if (!own.has(value)) {
        throw new ValidationError(
          `identifiers.${name}[${index}] is not an identifier the resolver '${deps.identifierResolver?.name}' knows for this subject: an export reads only the subject's own data`,
          `identifiers.${name}[${index}]`,
        );
      }
    });
  }
};

/**
 * ALU-6: a structured, machine-readable copy of a subject's data, read from every target of the
 * requested classes (one read per target, however many classes share it). Nothing is changed.
 * A connector failure fails the whole export: a copy silently missing a source would mislead the
 * subject. The audit entry (ALE-5) holds counts and flags per target, never the data itself.
 */
export const exportSubjectData = async (deps: ServiceDeps, given: ExportInput): Promise<SubjectExport> => {
  const dataClasses = exportedClasses(deps, given.dataClasses);
  const exportId = `exp_${deps.randomId().replaceAll('-', '')}`;
  // The identifiers an erasure would address: sent, and resolved as intake would.
  const { identifiers, resolved, known } = await resolveIdentifiers(
    deps,
    { subjectId: given.subjectId, requestId: exportId },
    given.identifiers,
  );
  if (known !== undefined) requireKnownValues(deps, given.identifiers, known);
  const input: ExportInput = { ...given, ...(identifiers === undefined ? {} : { identifiers }) };
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
      const name = targetIdentifier(target);
      if (name === undefined || name === SUBJECT_ID_IDENTIFIER) {
        const picked = identifiersFor(target, input.identifiers);
        const exported = await connector.export(target, {
          ...invocationFor(classes),
          ...(hasIdentifiers(picked) ? { identifiers: picked } : {}),
        });
        return { ...base, supported: true, truncated: exported.truncated, records: exported.records };
      }
      // Keyed by an identifier: one read per value, the records together.
      const values = input.identifiers?.[name] ?? [];
      if (values.length === 0)
        return { ...base, supported: true, truncated: false, records: [], unaddressed: name };
      const parts = [];
      for (const value of values) {
        parts.push(await connector.export(target, { ...invocationFor(classes), address: { name, value } }));
      }
      return {
        ...base,
        supported: true,
        truncated: parts.some((part) => part.truncated),
        records: parts.flatMap((part) => part.records),
      };
    }),
  );
  const generatedAt = nowIso(deps);
  const detail: Record<string, string | number | boolean> = {
    exportId,
    dataClasses: dataClasses.join(','),
    sources: sources.length,
    ...resolvedDetail(resolved),
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
