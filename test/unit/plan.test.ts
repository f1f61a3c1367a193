import { describe, expect, it } from 'vitest';
import { planTasks, requestedDataClasses } from '../../domain/erasure/plan.js';
import { BUILT_IN_CATALOG, EXAMPLE_TARGETS } from '../../domain/policy/catalog.js';
import type { DeploymentConfig } from '../../domain/policy/types.js';

const config: DeploymentConfig = { catalog: BUILT_IN_CATALOG, targets: EXAMPLE_TARGETS };

describe('planning the tasks of an erasure request', () => {
  it('erases a store-wide target once however many requested classes live there', () => {
    // Act
    const tasks = planTasks(config, ['closed-account', 'suspended-account', 'child-data']);

    // Assess
    const storeWide = tasks
      .filter((task) => task.target.kind !== 'http-webhook')
      .map((task) => task.target.name);
    expect(storeWide.sort()).toEqual(['alarm-events', 'cloud-video', 'customer-records', 'user-files']);
  });

  it('tells a webhook every requested class it holds, one task each, so none is left behind', () => {
    // Prepare: the classes an erasure of "everything" covers that live at the partner service.
    const classes = requestedDataClasses(config);
    const atPartner = classes.filter((dataClass) =>
      BUILT_IN_CATALOG.dataClasses
        .find((policy) => policy.dataClass === dataClass)
        ?.targets.includes('partner-services'),
    );

    // Act
    const tasks = planTasks(config, classes).filter((task) => task.target.name === 'partner-services');

    // Assess
    expect(atPartner.length).toBeGreaterThan(1);
    expect(tasks.map((task) => task.dataClass).sort()).toEqual([...atPartner].sort());
  });

  it('refuses an unknown data class, naming its position', () => {
    expect(() => requestedDataClasses(config, ['cloud-video', 'no-such-class'])).toThrow(
      expect.objectContaining({ field: 'dataClasses[1]' }),
    );
  });
});
