import type { FastifyInstance } from 'fastify';

/**
 * What fastify-plugin does, without the dependency: the plugin's decorators reach its siblings (no
 * encapsulation), it carries a name, and fastify checks at boot that the plugins it names were registered.
 */
export function definePlugin<Options extends Record<string, unknown>>(
  name: string,
  dependencies: readonly string[],
  plugin: (app: FastifyInstance, options: Options) => Promise<void>,
): (app: FastifyInstance, options: Options) => Promise<void> {
  const tagged = plugin as typeof plugin & Record<symbol, unknown>;
  tagged[Symbol.for('skip-override')] = true;
  tagged[Symbol.for('fastify.display-name')] = name;
  tagged[Symbol.for('plugin-meta')] = { name, dependencies: [...dependencies], fastify: '5.x' };
  return plugin;
}
