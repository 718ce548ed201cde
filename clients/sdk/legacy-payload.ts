/**
 * The login payload flux-restful-api 0.2 clients send: an HS256 JWT {user, pass, scope: "token"}
 * signed with FLUX_SECRET_KEY. Kept so that deployments which hand out the secret keep working;
 * the payload is only signed, not encrypted, so it protects nothing on an untrusted network.
 */

/** Signs the legacy login payload for `user` and `password` with `secretKey`. */
export async function signLegacyPayload(user: string, password: string, secretKey: string): Promise<string> {
  // Loaded on first use: most clients never need it, and a CLI starts faster without it.
  const { SignJWT } = await import("jose");
  return new SignJWT({ user, pass: password, scope: "token" })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .sign(new TextEncoder().encode(secretKey));
}
