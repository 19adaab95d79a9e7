// qemu-bridge-helper's ACL (/etc/qemu/bridge.conf), read as the helper reads it (pure): `allow BR`, `allow all`,
// `deny BR`, `deny all`, `include FILE`, `#` comments; a bridge is usable when some rule allows it and none denies it.

export type AclRule = { kind: 'allow' | 'deny'; bridge: string | 'all' } | { kind: 'include'; path: string };

/** The rules of one ACL file's text; lines it does not know are skipped (the helper refuses them when it runs). */
export function parseBridgeAcl(text: string): AclRule[] {
  const rules: AclRule[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [word, arg, ...rest] = line.split(/\s+/);
    if (arg === undefined || rest.length > 0) continue;
    if (word === 'allow' || word === 'deny') rules.push({ kind: word, bridge: arg });
    else if (word === 'include') rules.push({ kind: 'include', path: arg });
  }
  return rules;
}

/** Whether `rules` (includes already expanded in place) let the helper attach to `bridge`. */
export function bridgeAllowed(bridge: string, rules: readonly AclRule[]): boolean {
  const matches = (kind: 'allow' | 'deny') =>
    rules.some((r) => r.kind === kind && (r.bridge === 'all' || r.bridge === bridge));
  return matches('allow') && !matches('deny');
}
