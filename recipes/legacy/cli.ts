import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Command } from 'commander';
import { convertLegacyRecipe } from './convert.js';
import { renderBenchmarkYaml } from './render.js';

/**
 * Converts an old orchestrator recipe (JSON) into InferenceBenchmark YAML.
 *
 *   npx tsx recipes/legacy/cli.ts recipe.json --cluster my-cluster [--no-monitoring] [-o benchmark.yaml]
 *
 * Exit codes: 0 converted (warnings on stderr), 1 the recipe cannot be converted, 2 unreadable input.
 */
const program = new Command()
  .name('convert-legacy-recipe')
  .description('Turn an old JSON inference recipe into an InferenceBenchmark manifest')
  .argument('<recipe>', 'path to the JSON recipe, or - for stdin')
  .requiredOption('-c, --cluster <name>', 'SlurmCluster the benchmark runs on')
  .option('-n, --namespace <namespace>', 'namespace of the InferenceBenchmark')
  .option('--name <name>', 'object name (default: derived from job.name)')
  .option('--no-monitoring', 'the old orch.py flag: run without the monitoring stack')
  .option('-o, --output <file>', 'write the YAML here instead of stdout')
  .action(
    (
      recipePath: string,
      options: { cluster: string; namespace?: string; name?: string; monitoring: boolean; output?: string },
    ) => {
      let recipe: unknown;
      try {
        recipe = JSON.parse(readFileSync(recipePath === '-' ? 0 : recipePath, 'utf8'));
      } catch (error) {
        console.error(`cannot read ${recipePath}: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(2);
      }
      const result = convertLegacyRecipe(recipe, {
        clusterName: options.cluster,
        noMonitoring: !options.monitoring,
        ...(options.namespace ? { namespace: options.namespace } : {}),
        ...(options.name ? { name: options.name } : {}),
      });
      for (const warning of result.warnings) console.error(`warning: ${warning.field}: ${warning.message}`);
      if (!result.ok) {
        for (const error of result.errors) console.error(`error: ${error.field}: ${error.message}`);
        process.exit(1);
      }
      const yaml = renderBenchmarkYaml(
        result.benchmark,
        result.warnings,
        recipePath === '-' ? undefined : basename(recipePath),
      );
      if (options.output) writeFileSync(options.output, yaml);
      else process.stdout.write(yaml);
    },
  );

program.parse();
