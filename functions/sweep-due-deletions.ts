// Placeholder entry point: the handler is being written (see docs/architecture.md).
export const handler = async (): Promise<never> => {
  throw new Error('not implemented yet');
};
