/**
 * Follows every page of a paginated AWS call. The SDK has paginators of its own, but they send each
 * page themselves, so our throttling retry could not wrap the page that was throttled: here `page`
 * does one retried call per token.
 */
export async function allPages<T>(
  page: (token: string | undefined) => Promise<{ items: T[] | undefined; next: string | undefined }>,
): Promise<T[]> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const result = await page(token);
    items.push(...(result.items ?? []));
    token = result.next;
  } while (token);
  return items;
}
