/**
 * A subject's named identifiers beyond its subject id (`email`, `deviceId`...), each with one or
 * more values. Personal data: never logged or audited in the clear, forgotten with the subject.
 */
export type SubjectIdentifiers = Readonly<Record<string, readonly string[]>>;
