import { env } from "cloudflare:workers";
import { invalidateListings } from "../../src/cache/request-cache";

/** Every cached entry of these resources stops counting, and the KV write limit's second has passed. */
export async function coldCache(resources: string[]) {
  for (const resource of resources) {
    const inkit = resource.startsWith("inkit");
    const value = (inkit ? env.INKIT_API_TOKEN : env.EIGHTBYEIGHT_API_KEY) as string;
    await invalidateListings(env as Env, {
      provider: inkit ? "inkit" : "8x8",
      credential: { value, passThrough: false },
      resource,
    });
  }
  await new Promise((resolve) => setTimeout(resolve, 1100));
}
