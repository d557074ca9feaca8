/**
 * Imported first by main.ts, before uPlot, which formats numbers with
 * `new Intl.NumberFormat(navigator.language)` when it loads. Browsers started under the C
 * or POSIX locale (e.g. LANG=C.UTF-8, common on servers and in CI) report a language such
 * as "en-US@posix" that Intl rejects; then the page would fail to load. Such a language
 * is replaced by its valid prefix (or "en-US").
 */
function validTag(tag: string | undefined): boolean {
  if (!tag) return false;
  try {
    new Intl.NumberFormat(tag);
    return true;
  } catch {
    return false;
  }
}

if (typeof navigator !== 'undefined' && !validTag(navigator.language)) {
  const prefix = navigator.language?.split(/[@.]/)[0];
  const language = validTag(prefix) ? prefix : 'en-US';
  Object.defineProperty(navigator, 'language', { value: language, configurable: true });
}

export {};
