import type { FastifyInstance } from 'fastify';
import { buildApp } from './app.js';
import { type Config, describeConfig } from './config.js';

/** Builds the app and listens; the returned instance is closed by the caller (main handles signals). */
export async function startServer(config: Config): Promise<{ app: FastifyInstance; address: string }> {
  const app = await buildApp(config);
  const address = await app.listen({ host: config.host, port: config.port });
  app.log.info({ config: describeConfig(config), address }, 'client-service listening');
  return { app, address };
}
