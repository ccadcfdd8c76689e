/**
 * The launchers' template syntax (sentinel/sentinel.conf, nginx/nginx.conf): each ${NAME} is filled in;
 * comment lines stay as they are; a line whose value is empty is left out (no password: no auth line).
 */
export function renderTemplate(file: string, template: string, vars: Record<string, string>): string {
  return template
    .split('\n')
    .flatMap((line) => {
      if (line.trimStart().startsWith('#')) return [line];
      let empty = false;
      const rendered = line.replace(/\$\{(\w+)\}/g, (_, name: string) => {
        const value = vars[name];
        if (value === undefined) throw new Error(`${file}: no value for \${${name}}`);
        empty ||= value === '';
        return value;
      });
      return empty ? [] : [rendered];
    })
    .join('\n');
}
