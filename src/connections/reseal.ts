import { loggerOf } from "../shared/logger";
import { connectionKeys, openCredential, sealCredential } from "./keyring";
import { resealStatement, sealedByOtherKeys } from "./store";

/**
 * Seals again, under the keyring's first key, up to `limit` credentials an older key sealed: every cron tick runs it,
 * so after a new key is put first the old one can be removed once this finds nothing left. A credential no listed
 * key opens (its key was removed too soon) is logged, never guessed at. Returns how many it sealed again.
 */
export async function resealOlder(env: Env, limit = 100): Promise<number> {
  const keyring = connectionKeys(env);
  if ("problem" in keyring) return 0;
  const [first] = keyring.keys;
  if (!first) return 0;
  const rows = await sealedByOtherKeys(env.DB, first.id, limit);
  const statements: D1PreparedStatement[] = [];
  for (const row of rows) {
    try {
      const secret = await openCredential(keyring.keys, { ...row, sealed: row.sealed ?? "" });
      const { keyId, sealed } = await sealCredential(keyring.keys, row, secret);
      statements.push(resealStatement(env.DB, row, keyId, sealed));
    } catch {
      loggerOf(env).error("connection credential not opened", { connection: row.id, key_id: row.key_id });
    }
  }
  if (statements.length > 0) await env.DB.batch(statements);
  return statements.length;
}
