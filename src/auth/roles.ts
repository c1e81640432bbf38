/**
 * Who may call what. Roles are ordered: each includes the rights of the ones before it.
 * - viewer: reads (GET) only;
 * - uploader: reads, uploads and starting videos;
 * - operator: everything, including dead-letter replay/discard, refresh-url and key admin.
 */
export const ROLES = ['viewer', 'uploader', 'operator'] as const;
export type Role = (typeof ROLES)[number];

/** What a route demands: a role, or 'public' (health, signed transfers: the signature is the credential). */
export type Access = Role | 'public';

export function isRole(v: string): v is Role {
  return (ROLES as readonly string[]).includes(v);
}

export function roleAllows(have: Role, need: Role): boolean {
  return ROLES.indexOf(have) >= ROLES.indexOf(need);
}

/**
 * Routes that do not declare `config.access` get it from here. Prefix rules exist so routes added
 * by other modules (e.g. /dead-letters) are operator-only for anything that changes state even
 * before they declare it themselves.
 */
const OPERATOR_PREFIXES = ['/dead-letters', '/keys'];

export function defaultAccess(method: string, url: string): Access {
  const path = url.split('?')[0] ?? url;
  if (path === '/health' || path.startsWith('/health/')) return 'public';
  const read = method === 'GET' || method === 'HEAD';
  if (path === '/keys' || path.startsWith('/keys/')) return 'operator';
  if (!read && OPERATOR_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`))) return 'operator';
  if (!read && /^\/videos\/[^/]+\/refresh-url$/.test(path)) return 'operator';
  return read ? 'viewer' : 'uploader';
}
