/**
 * Which profile an event belongs to: the profile of its user id, else of its anonymous id (the
 * identity graph stitched both). Join it to `events e` and select `EVENT_PROFILE_ID`:
 * `SELECT COALESCE(ep_user.profile_id, ep_anon.profile_id) FROM events e LEFT JOIN identifiers ep_user ...`.
 * `identifiers` names the table where it must be qualified (views in another schema).
 */
export function eventProfileJoin(identifiers = 'identifiers'): string {
  return `LEFT JOIN ${identifiers} ep_user ON ep_user.namespace = 'user_id' AND ep_user.value = e.user_id
  LEFT JOIN ${identifiers} ep_anon ON ep_anon.namespace = 'anonymous_id' AND ep_anon.value = e.anonymous_id`;
}

export const EVENT_PROFILE_JOIN = eventProfileJoin();

export const EVENT_PROFILE_ID = 'COALESCE(ep_user.profile_id, ep_anon.profile_id)';
