/** The commands the bridge wraps (see forward/interceptors.ts); package.json binds their keys. */

/** wrapper id suffix -> the command it wraps (keybindings are in package.json). */
export const WRAPPED: Record<string, string> = {
  rename: 'editor.action.rename',
  formatDocument: 'editor.action.formatDocument',
  formatSelection: 'editor.action.formatSelection',
  quickFix: 'editor.action.quickFix',
  refactor: 'editor.action.refactor',
  organizeImports: 'editor.action.organizeImports',
  replaceAllInFiles: 'search.action.replaceAll',
  replaceAllInFile: 'editor.action.replaceAll',
};
