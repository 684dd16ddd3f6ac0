// The workflow parser imports its JSON schemas without `with { type: 'json' }`, which Node 20 refuses;
// this resolve hook adds the attribute for .json files, so the parser loads in Node as published.
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (!resolved.url.endsWith('.json')) return resolved;
  return { ...resolved, importAttributes: { ...context.importAttributes, type: 'json' } };
}
